import type {
  ImageMetadata,
  FileMetadata,
  FileTypeId,
  MetadataWarning,
  MetadataWarningCode,
  ExtractedMetadata,
} from '@file-uploader/protocol';
import { SourceReadError, createBoundedReader } from './bounded-reader.js';
import type { ReadRange } from './bounded-reader.js';
import { extractJpeg, extractPng } from './image-metadata.js';
import { createMetadataContext } from './metadata-context.js';
import type { MetadataContext } from './metadata-context.js';
import { MetadataError } from './metadata-error.js';
import { extractOle } from './ole-metadata.js';
import { extractOoxml } from './ooxml-metadata.js';
import { extractPdf } from './pdf-metadata.js';

export type { ReadRange } from './bounded-reader.js';

export interface ExtractMetadataOptions {
  /** Report EXIF GPS positions; otherwise they are left out and `gpsRemoved` is set. */
  keepGps: boolean;
  /** Most bytes read from storage for one file. */
  maxBytes?: number;
  /** Most bytes inflated (ZIP entries, PDF streams) for one file. */
  maxInflatedBytes?: number;
  /** Time after which extraction stops at its next read and reports what it has. */
  timeoutMs?: number;
  /** Cancels extraction: the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** The report plus what extraction cost, for logs and for tests of the limits. */
export interface MetadataExtraction extends ExtractedMetadata {
  bytesRead: number;
  bytesInflated: number;
}

export const DEFAULT_METADATA_MAX_BYTES = 8 * 1024 * 1024;
export const DEFAULT_METADATA_MAX_INFLATED_BYTES = 16 * 1024 * 1024;
export const DEFAULT_METADATA_TIMEOUT_MS = 10_000;

/** Fills `out`, the payload for one file type, as far as it gets before any error. */
type Extractor<M extends FileMetadata> = (ctx: MetadataContext, out: M) => Promise<void>;
type PayloadOf<T extends FileTypeId> = T extends ImageMetadata['fileType']
  ? ImageMetadata
  : Extract<FileMetadata, { fileType: T }>;

const EXTRACTORS: { [T in FileTypeId]: Extractor<PayloadOf<T>> } = {
  png: extractPng,
  jpg: extractJpeg,
  pdf: extractPdf,
  docx: extractOoxml,
  xlsx: extractOoxml,
  doc: extractOle,
  xls: extractOle,
};

/**
 * Describes a stored file of a known type from its content, reading it only through `read`
 * within fixed byte, inflate and time limits. Hostile or damaged content never makes this
 * reject: it resolves with what was found, `partial: true` and warnings saying why. It
 * rejects only when `read` itself fails (storage I/O) or `signal` aborts.
 */
export async function extractMetadata(
  read: ReadRange,
  size: number,
  fileType: FileTypeId,
  options: ExtractMetadataOptions,
): Promise<MetadataExtraction> {
  const {
    keepGps,
    maxBytes = DEFAULT_METADATA_MAX_BYTES,
    maxInflatedBytes = DEFAULT_METADATA_MAX_INFLATED_BYTES,
    timeoutMs = DEFAULT_METADATA_TIMEOUT_MS,
    signal,
  } = options;
  signal?.throwIfAborted();
  // A timer of our own rather than AbortSignal.timeout(), which is unref'd: a storage read
  // that never settles must still end in a result, even when nothing else is pending.
  const timer = new AbortController();
  const timeout = timer.signal;
  const handle = setTimeout(() => timer.abort(), timeoutMs);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const reader = createBoundedReader(read, size, maxBytes, stop);
  const warnings: MetadataWarning[] = [];
  const warn = (code: MetadataWarningCode, message: string) => warnings.push({ code, message });
  const ctx = createMetadataContext(reader, keepGps, maxInflatedBytes, warn);
  const metadata = { fileType } as FileMetadata;

  try {
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new MetadataError('malformed', 'empty file');
    // TypeScript cannot tie the record's entry to `metadata` through `fileType`; the record's
    // type checks each extractor against its own payload.
    await (EXTRACTORS[fileType] as Extractor<FileMetadata>)(ctx, metadata);
  } catch (error) {
    if (error instanceof SourceReadError) throw error.cause ?? error;
    signal?.throwIfAborted();
    if (error instanceof MetadataError) warn(error.code, error.message);
    else if (timeout.aborted) warn('timeout', 'metadata extraction timed out');
    // Anything else escaping a parser is a parser defect met by odd content: the file is not
    // to blame, so it is reported as malformed rather than failing the upload.
    else warn('malformed', `unreadable content: ${(error as Error).message}`);
  } finally {
    clearTimeout(handle);
  }
  return {
    metadata,
    partial: warnings.length > 0,
    warnings,
    bytesRead: reader.bytesRead,
    bytesInflated: ctx.bytesInflated,
  };
}
