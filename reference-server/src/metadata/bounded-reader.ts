import { MetadataError, limit, malformed } from './metadata-error.js';

/** Reads the inclusive byte range `[start, end]` of the stored file. */
export type ReadRange = (start: number, end: number) => Promise<Buffer>;

export interface BoundedReader {
  readonly size: number;
  /** Bytes fetched from storage so far; never more than the budget. */
  readonly bytesRead: number;
  /** Bytes held in the cache of recently used blocks (about 1 MiB at most between reads). */
  readonly cachedBytes: number;
  /** `length` bytes at `offset`; throws a {@link MetadataError} outside the file or budget. */
  bytes(offset: number, length: number): Promise<Uint8Array>;
  /** Up to `length` bytes at `offset`, fewer at the end of the file. */
  upTo(offset: number, length: number): Promise<Uint8Array>;
}

/** Reads are rounded out to blocks of this size and cached, so nearby probes cost one fetch. */
const BLOCK_BYTES = 16 * 1024;
/**
 * The cache keeps the blocks used last, up to this many bytes: parsers probe near where they
 * were, while a sweep over the whole budget (a PDF whose objects must be found by scanning)
 * would otherwise hold all of it, per file being assembled at once.
 */
const CACHE_BYTES = 1024 * 1024;

/** Wraps a failure of `read` itself (storage I/O): not a verdict on the content. */
export class SourceReadError extends Error {}

/**
 * Serves reads from cached blocks and refuses to fetch more than `budget` bytes in total,
 * which also bounds the cache. Checks `signal` before every fetch, so a timeout stops the
 * work at the next read.
 */
export function createBoundedReader(
  read: ReadRange,
  size: number,
  budget: number,
  signal?: AbortSignal,
): BoundedReader {
  /** In order of use, least recent first. */
  const blocks = new Map<number, Uint8Array>();
  let cached = 0;
  let bytesRead = 0;

  const use = (first: number, last: number) => {
    for (let block = first; block <= last; block++) {
      const data = blocks.get(block);
      if (!data) continue;
      blocks.delete(block);
      blocks.set(block, data);
    }
  };
  /** Blocks that reads still waiting need, with how many reads need each: never evicted. */
  const pinned = new Map<number, number>();
  const pin = (first: number, last: number, by: 1 | -1) => {
    for (let block = first; block <= last; block++) {
      const count = (pinned.get(block) ?? 0) + by;
      if (count > 0) pinned.set(block, count);
      else pinned.delete(block);
    }
  };
  /** Drops the least recently used blocks; results already handed out keep their bytes. */
  const trim = () => {
    for (const [block, data] of blocks) {
      if (cached <= CACHE_BYTES) break;
      if (pinned.has(block)) continue;
      blocks.delete(block);
      cached -= data.length;
    }
  };

  const load = async (first: number, last: number) => {
    for (let from = first; from <= last; from++) {
      if (blocks.has(from)) continue;
      let to = from;
      while (to < last && !blocks.has(to + 1)) to++;
      const start = from * BLOCK_BYTES;
      const end = Math.min(size, (to + 1) * BLOCK_BYTES) - 1;
      if (bytesRead + (end - start + 1) > budget) limit(`read limit of ${budget} bytes reached`);
      bytesRead += end - start + 1;
      const data = await fetchRange(read, start, end, signal);
      if (data.length !== end - start + 1) throw new SourceReadError(`Short read at ${start}`);
      for (let block = from; block <= to; block++) {
        const at = (block - from) * BLOCK_BYTES;
        const piece = data.subarray(at, at + BLOCK_BYTES);
        blocks.set(block, piece);
        cached += piece.length;
      }
      from = to;
    }
  };

  const bytes = async (offset: number, length: number): Promise<Uint8Array> => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0) {
      malformed(`bad range ${offset}+${length}`);
    }
    if (length < 0 || offset + length > size) malformed(`truncated: range ${offset}+${length}`);
    if (length === 0) return new Uint8Array();
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((offset + length - 1) / BLOCK_BYTES);
    use(first, last);
    // Reads running beside this one trim the cache while this one waits for its blocks.
    pin(first, last, 1);
    try {
      await load(first, last);
    } finally {
      pin(first, last, -1);
    }
    if (first === last) {
      const at = offset - first * BLOCK_BYTES;
      const view = (blocks.get(first) ?? new Uint8Array()).subarray(at, at + length);
      trim();
      return view;
    }
    const out = new Uint8Array(length);
    for (let block = first; block <= last; block++) {
      const data = blocks.get(block) ?? new Uint8Array();
      const blockStart = block * BLOCK_BYTES;
      const from = Math.max(offset, blockStart);
      const to = Math.min(offset + length, blockStart + data.length);
      out.set(data.subarray(from - blockStart, to - blockStart), from - offset);
    }
    trim();
    return out;
  };

  return {
    size,
    get bytesRead() {
      return bytesRead;
    },
    get cachedBytes() {
      return cached;
    },
    bytes,
    upTo: (offset, length) => bytes(offset, Math.max(0, Math.min(length, size - offset))),
  };
}

/** One storage read, abandoned (not awaited further) when `signal` aborts. */
function fetchRange(
  read: ReadRange,
  start: number,
  end: number,
  signal: AbortSignal | undefined,
): Promise<Uint8Array> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(new MetadataError('timeout', 'metadata extraction timed out'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    read(start, end).then(
      (data) => {
        signal?.removeEventListener('abort', onAbort);
        resolve(data);
      },
      (error: unknown) => {
        signal?.removeEventListener('abort', onAbort);
        reject(new SourceReadError('Reading the stored file failed', { cause: error }));
      },
    );
  });
}
