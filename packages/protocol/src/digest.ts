/**
 * `Content-Digest` (RFC 9530) with the `sha-256` algorithm, and `Content-Range` for chunks.
 */

/** Formats a SHA-256 digest (raw bytes) as a Content-Digest value: `sha-256=:<base64>:`. */
export function formatContentDigest(sha256: Uint8Array): string {
  let binary = '';
  for (const byte of sha256) binary += String.fromCharCode(byte);
  return `sha-256=:${btoa(binary)}:`;
}

/**
 * Extracts the SHA-256 digest from a Content-Digest value. Other algorithms in the
 * dictionary are ignored. Returns null when the header has no sha-256 member, and
 * throws a TypeError when that member is malformed.
 */
export function parseContentDigest(value: string): Uint8Array | null {
  for (const member of value.split(',')) {
    const eq = member.indexOf('=');
    if (eq < 0) continue;
    const key = member.slice(0, eq).trim().toLowerCase();
    if (key !== 'sha-256') continue;
    const match = /^:([A-Za-z0-9+/]*={0,2}):$/.exec(member.slice(eq + 1).trim());
    if (!match?.[1]) throw new TypeError('Content-Digest sha-256 must be :<base64>:');
    const binary = atob(match[1]);
    if (binary.length !== 32) throw new TypeError('Content-Digest sha-256 must be 32 bytes');
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }
  return null;
}

/** A chunk's byte range: `start` and `end` inclusive, and the whole file's size. */
export interface ContentRange {
  start: number;
  end: number;
  size: number;
}

/** Formats `bytes <start>-<end>/<size>`. */
export function formatContentRange({ start, end, size }: ContentRange): string {
  return `bytes ${start}-${end}/${size}`;
}

/** Parses `bytes <start>-<end>/<size>`; returns null when malformed or inconsistent. */
export function parseContentRange(value: string): ContentRange | null {
  const match = /^bytes (\d{1,15})-(\d{1,15})\/(\d{1,15})$/.exec(value.trim());
  if (!match) return null;
  const [start, end, size] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (start > end || end >= size) return null;
  return { start, end, size };
}
