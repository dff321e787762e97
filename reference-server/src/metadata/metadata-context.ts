import { promisify } from 'node:util';
import { inflate as zlibInflate, inflateRaw as zlibInflateRaw } from 'node:zlib';
import type { MetadataWarningCode } from '@file-uploader/protocol';
import type { BoundedReader } from './bounded-reader.js';
import { limit, malformed } from './metadata-error.js';

const inflateRawAsync = promisify(zlibInflateRaw);
const inflateAsync = promisify(zlibInflate);

/** What a format's extractor works with: the bounded reader, the options and the limits. */
export interface MetadataContext {
  readonly reader: BoundedReader;
  readonly keepGps: boolean;
  /** Bytes inflated so far, across every entry and stream of the file. */
  readonly bytesInflated: number;
  /**
   * Decompresses deflate data (`raw` for ZIP entries, zlib-wrapped for PDF streams) within
   * what is left of the inflate budget; a larger output stops extraction with a `limit`.
   */
  inflate(data: Uint8Array, format: 'raw' | 'zlib', maxOutput?: number): Promise<Buffer>;
  /** Records a problem that does not stop extraction. */
  warn(code: MetadataWarningCode, message: string): void;
}

export function createMetadataContext(
  reader: BoundedReader,
  keepGps: boolean,
  maxInflatedBytes: number,
  warn: (code: MetadataWarningCode, message: string) => void,
): MetadataContext {
  let bytesInflated = 0;
  return {
    reader,
    keepGps,
    get bytesInflated() {
      return bytesInflated;
    },
    warn,
    async inflate(data, format, maxOutput = Infinity) {
      const remaining = maxInflatedBytes - bytesInflated;
      if (remaining <= 0) limit(`inflate limit of ${maxInflatedBytes} bytes reached`);
      const cap = Math.min(remaining, maxOutput);
      try {
        // zlib stops at maxOutputLength, so a zip bomb never allocates past the budget.
        const out = await (format === 'raw' ? inflateRawAsync : inflateAsync)(data, {
          maxOutputLength: cap,
        });
        bytesInflated += out.length;
        return out;
      } catch (error) {
        if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
          bytesInflated += cap;
          limit(`inflated data is over ${cap} bytes`);
        }
        malformed(`compressed data is corrupt: ${(error as Error).message}`);
      }
    },
  };
}
