/**
 * Checks on the names a BlobStore is given. The server makes them from validated ids and
 * sanitized names already; these are defence in depth, the same for every backend.
 */
import type { ByteRange, ChunkRef } from './blob-store.js';

const SEGMENT = /^[A-Za-z0-9_-]{1,128}$/;

/** Session and file ids: one safe path segment (no '.', so prefixes cannot overlap). */
export function assertSegment(value: string, what: string): void {
  if (typeof value !== 'string' || !SEGMENT.test(value)) {
    throw new TypeError(`Unsafe ${what}: ${JSON.stringify(value)}`);
  }
}

export function assertChunkRef(ref: ChunkRef): void {
  assertSegment(ref.sessionId, 'session id');
  assertSegment(ref.fileId, 'file id');
  if (!Number.isSafeInteger(ref.index) || ref.index < 0) {
    throw new TypeError(`Invalid chunk index: ${ref.index}`);
  }
}

/** A `/`-separated key without empty, `.` or `..` segments, NUL or backslash. */
export function assertObjectKey(key: string): void {
  const unsafe =
    typeof key !== 'string' ||
    key === '' ||
    key.includes('\0') ||
    key.includes('\\') ||
    key.split('/').some((part) => part === '' || part === '.' || part === '..');
  if (unsafe) throw new TypeError(`Unsafe object key: ${JSON.stringify(key)}`);
}

export function assertRange(range: ByteRange): void {
  const { start, end } = range;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) {
    throw new RangeError(`Invalid byte range: ${start}-${end}`);
  }
}
