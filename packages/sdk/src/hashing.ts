import {
  CONTENT_HASH_BLOCK_SIZE,
  concatBlockDigests,
  formatContentDigest,
  toHex,
} from '@file-uploader/protocol';
import { UploadError } from './upload-error.js';

/** SHA-256 with Web Crypto (browsers and Node 20+). */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** `Content-Digest` header value of a chunk. */
export async function chunkDigest(bytes: Uint8Array): Promise<string> {
  return formatContentDigest(await sha256(bytes));
}

/** Reads `[start, end)` of a blob; never the whole file. */
export async function readSlice(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  try {
    return new Uint8Array(await blob.slice(start, end).arrayBuffer());
  } catch (err) {
    // A File that changed or vanished on disk fails to read (NotReadableError in browsers).
    throw new UploadError('file_changed', 'The file can no longer be read.', false, undefined, {
      cause: err,
    });
  }
}

/**
 * The protocol's content hash of a blob: SHA-256 over the SHA-256s of its 4 MiB blocks.
 * `onBytes` reports progress; `signal` stops between blocks.
 */
export async function contentHash(
  blob: Blob,
  signal: AbortSignal,
  onBytes?: (hashed: number) => void,
): Promise<string> {
  const digests: Uint8Array[] = [];
  for (let start = 0; start < blob.size; start += CONTENT_HASH_BLOCK_SIZE) {
    signal.throwIfAborted();
    const end = Math.min(start + CONTENT_HASH_BLOCK_SIZE, blob.size);
    digests.push(await sha256(await readSlice(blob, start, end)));
    onBytes?.(end);
  }
  return toHex(await sha256(concatBlockDigests(digests)));
}
