import { CONTENT_HASH_BLOCK_SIZE, formatContentDigest, toHex } from '@file-uploader/protocol';
import { UploadError } from './upload-error.js';

/** SHA-256 with Web Crypto (browsers and Node 20+). */
export async function sha256(bytes: Uint8Array): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>));
}

/** `Content-Digest` header value of a chunk. */
export async function chunkDigest(bytes: Uint8Array): Promise<string> {
  return formatContentDigest(await sha256(bytes));
}

/** A faster way to read a particular blob (a file on disk in Node). */
export interface BlobReader {
  read(start: number, end: number): Promise<Uint8Array>;
  /** Takes back bytes `read` returned once nothing uses them any more, to read into again. */
  release?(bytes: Uint8Array): void;
  /** SHA-256 of `[start, end)`, hashed where the bytes are (a worker thread in Node). */
  sha256?(start: number, end: number): Promise<Uint8Array>;
}

const readers = new WeakMap<Blob, BlobReader>();

/** Reads `blob`'s bytes with `reader` instead of `Blob.slice` (a Node file handle, say). */
export function readBlobWith(blob: Blob, reader: BlobReader): void {
  readers.set(blob, reader);
}

/** Hands bytes from {@link readSlice} back to the blob's reader; they must not be used after. */
export function releaseSlice(blob: Blob, bytes: Uint8Array): void {
  readers.get(blob)?.release?.(bytes);
}

/** Reads `[start, end)` of a blob; never the whole file. */
export function readSlice(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  const reader = readers.get(blob);
  return fromFile(async () =>
    reader ? reader.read(start, end) : new Uint8Array(await blob.slice(start, end).arrayBuffer()),
  );
}

/** SHA-256 of `[start, end)` of a blob. */
async function sliceSha256(blob: Blob, start: number, end: number): Promise<Uint8Array> {
  const reader = readers.get(blob);
  if (reader?.sha256) return fromFile(() => reader.sha256!(start, end));
  const bytes = await readSlice(blob, start, end);
  const digest = await sha256(bytes);
  releaseSlice(blob, bytes);
  return digest;
}

async function fromFile<T>(read: () => Promise<T>): Promise<T> {
  try {
    return await read();
  } catch (err) {
    // A File that changed or vanished on disk fails to read (NotReadableError in browsers).
    throw new UploadError('file_changed', 'The file can no longer be read.', false, undefined, {
      cause: err,
    });
  }
}

/** A blob's content hash, and the block digests it was made of. */
export interface BlockHashes {
  /** The protocol's content hash: SHA-256 over the blocks' SHA-256s, lowercase hex. */
  contentHash: string;
  /** SHA-256 of each 4 MiB block, 32 bytes apiece, in order. */
  blocks: Uint8Array;
}

/** Blocks hashed at once: Web Crypto hashes off the main thread, so a few overlap well. */
export const HASH_CONCURRENCY = 3;

/**
 * Hashes a blob's 4 MiB blocks, a few at once (never more than `concurrency` blocks in memory),
 * and the content hash over them. `onBytes` reports bytes hashed; `signal` stops between blocks.
 */
export async function hashBlocks(
  blob: Blob,
  signal: AbortSignal,
  opts: {
    concurrency?: number;
    onBytes?: (hashed: number) => void;
    /** Where the digests go (32 bytes per block), so they can be used as they come. */
    blocks?: Uint8Array;
    /** Block `index`'s digest is in `blocks`. */
    onBlock?: (index: number) => void;
  } = {},
): Promise<BlockHashes> {
  const count = Math.ceil(blob.size / CONTENT_HASH_BLOCK_SIZE);
  const blocks = opts.blocks ?? new Uint8Array(count * 32);
  let next = 0;
  let hashed = 0;
  let failed = false;
  const worker = async () => {
    while (next < count && !failed) {
      signal.throwIfAborted();
      const index = next++;
      const start = index * CONTENT_HASH_BLOCK_SIZE;
      const end = Math.min(start + CONTENT_HASH_BLOCK_SIZE, blob.size);
      blocks.set(await sliceSha256(blob, start, end), index * 32);
      opts.onBlock?.(index);
      hashed += end - start;
      opts.onBytes?.(hashed);
    }
  };
  const workers = Math.min(Math.max(1, opts.concurrency ?? HASH_CONCURRENCY), count);
  await Promise.all(
    Array.from({ length: workers }, () =>
      worker().catch((err: unknown) => {
        failed = true; // The other workers stop at their next block.
        throw err;
      }),
    ),
  );
  return { contentHash: toHex(await sha256(blocks)), blocks };
}

/** `Content-Digest` of block `index` from the digests `hashBlocks` kept. */
export function blockDigest(blocks: Uint8Array, index: number): string {
  return formatContentDigest(blocks.subarray(index * 32, index * 32 + 32));
}
