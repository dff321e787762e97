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
  /**
   * SHA-256 of `[start, end)`, hashed where the bytes are (a worker thread in Node); fails with
   * `file_changed` when the file can no longer be read.
   */
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

/** Runs `read`; its failure means the file can no longer be read (`file_changed`). */
export async function fromFile<T>(read: () => Promise<T>): Promise<T> {
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

/** Bytes read through one stream when hashing a blob: 8 blocks. */
const STREAM_WINDOW = 8 * CONTENT_HASH_BLOCK_SIZE;

/** Digests under way at once: Web Crypto hashes off the main thread, so a few overlap well. */
const HASH_CONCURRENCY = 3;

/** A hashing under way: its result, and each block's digest as it comes. */
export type BlockHashing = Promise<BlockHashes> & {
  /** The blocks' digests, 32 bytes apiece, filled in as they are computed. */
  blocks: Uint8Array;
  /** Settles once block `index`'s digest is in `blocks` (rejects if hashing fails first). */
  hashed: Promise<unknown>[];
};

/**
 * Hashes a blob's 4 MiB blocks and the content hash over them. The blob is read once, in order,
 * by a reader of its own where it has one (a file on disk in Node), else through the streams of
 * {@link STREAM_WINDOW}-sized windows of it, copied into one reused buffer: browsers read a file
 * so several times faster than by 4 MiB slices, each of which is fresh memory, and a window
 * bounds what Node's Blob stream hands out at once (all it has). The streams' default readers,
 * not BYOB ones: in Chromium 156 a pending BYOB read does not keep its stream alive, and when
 * nothing else holds the hashing (a resumed upload's check), a garbage collection leaves the read
 * unsettled for good. A few digests run meanwhile (Web Crypto copies what it hashes before it
 * returns). `signal` stops between blocks.
 */
export function hashBlocks(blob: Blob, signal: AbortSignal): BlockHashing {
  const count = Math.ceil(blob.size / CONTENT_HASH_BLOCK_SIZE);
  const blocks = new Uint8Array(count * 32);
  // Each block's [resolve, reject].
  const settle: Array<[(digest: Promise<Uint8Array>) => void, (error: unknown) => void]> = [];
  const hashed = Array.from({ length: count }, (_, index) => {
    const stored = new Promise<Uint8Array>((...both) => (settle[index] = both)).then((digest) =>
      blocks.set(digest, index * 32),
    );
    stored.catch(() => undefined); // Reported to whoever waits for it, if anyone does.
    return stored;
  });
  const reader = readers.get(blob);
  const run = async (): Promise<BlockHashes> => {
    const buffer = new Uint8Array(Math.min(blob.size, CONTENT_HASH_BLOCK_SIZE));
    let stream: ReadableStreamDefaultReader<Uint8Array>;
    let piece: Uint8Array = new Uint8Array(0); // Read from the stream, not used yet.
    // Bytes [start, end) into `buffer`, through the stream of the window of the blob they are in.
    const fill = async (start: number, end: number) => {
      if (start % STREAM_WINDOW === 0) {
        stream = blob
          .slice(start, start + STREAM_WINDOW)
          .stream()
          .getReader();
      }
      for (let at = start; at < end;) {
        if (!piece.length) {
          const { done, value } = await stream.read();
          if (done) throw new Error('The file can no longer be read.');
          piece = value;
        }
        const take = piece.subarray(0, end - at);
        buffer.set(take, at - start);
        piece = piece.subarray(take.length);
        at += take.length;
      }
      return buffer.subarray(0, end - start);
    };
    try {
      for (let index = 0; index < count; index++) {
        signal.throwIfAborted();
        await hashed[index - HASH_CONCURRENCY];
        const start = index * CONTENT_HASH_BLOCK_SIZE;
        const end = Math.min(start + CONTENT_HASH_BLOCK_SIZE, blob.size);
        settle[index]![0](
          reader?.sha256
            ? reader.sha256(start, end)
            : sha256(
                await (reader ? readSlice(blob, start, end) : fromFile(() => fill(start, end))),
              ),
        );
      }
      await Promise.all(hashed);
    } catch (err) {
      for (const [, fail] of settle) fail(err); // Blocks not hashed yet fail with it.
      throw err;
    }
    return { contentHash: toHex(await sha256(blocks)), blocks };
  };
  return Object.assign(run(), { blocks, hashed });
}

/** `Content-Digest` of block `index` from the digests `hashBlocks` kept. */
export function blockDigest(blocks: Uint8Array, index: number): string {
  return formatContentDigest(blocks.subarray(index * 32, index * 32 + 32));
}
