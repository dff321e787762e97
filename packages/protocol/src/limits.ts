/** Chunk sizes are multiples of this. */
export const CHUNK_SIZE_UNIT = 256 * 1024;

/**
 * Default chunk size chosen by the server: one content-hash block (4 MiB), so each chunk's
 * SHA-256 is also its block digest and neither side hashes the bytes twice.
 */
export const DEFAULT_CHUNK_SIZE = 4 * 1024 * 1024;

/** Default limit on the bytes of one session (and of one file): 100 MiB. */
export const DEFAULT_MAX_SESSION_BYTES = 100 * 1024 * 1024;

/** Default limit on the number of files in one session. */
export const DEFAULT_MAX_FILES = 20;

/** Sessions expire this long after creation. */
export const SESSION_TTL_MS = 24 * 60 * 60 * 1000;

/** Longest file name accepted at initiate, in UTF-16 code units (names are sanitized, then cut to 255 bytes). */
export const MAX_NAME_LENGTH = 1024;

/** Number of chunks a file of `size` bytes is split into. An empty file has none. */
export function totalChunks(size: number, chunkSize: number): number {
  return Math.ceil(size / chunkSize);
}

/** Byte range `[start, end]` (inclusive) of chunk `index`. */
export function chunkRange(
  index: number,
  size: number,
  chunkSize: number,
): { start: number; end: number } {
  const start = index * chunkSize;
  return { start, end: Math.min(start + chunkSize, size) - 1 };
}
