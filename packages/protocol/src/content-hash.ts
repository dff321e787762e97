/**
 * A file's content hash, as Dropbox's content_hash: split the file into 4 MiB blocks, take
 * the SHA-256 of each block, then the SHA-256 of those digests concatenated; lowercase hex.
 * Block hashes can be computed in any order and in parallel, so both the SDK and the
 * server compute it while they stream.
 */
export const CONTENT_HASH_BLOCK_SIZE = 4 * 1024 * 1024;

/** A content hash: 64 lowercase hex characters. */
export const CONTENT_HASH_PATTERN = /^[0-9a-f]{64}$/;

/** Lowercase hex of bytes. */
export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

/** Concatenates block digests in order, ready for the final SHA-256. */
export function concatBlockDigests(digests: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(digests.length * 32);
  digests.forEach((digest, i) => out.set(digest, i * 32));
  return out;
}
