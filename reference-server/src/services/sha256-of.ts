import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';

/** SHA-256 of everything a stream yields. */
export async function sha256Of(stream: Readable): Promise<Buffer> {
  const hash = createHash('sha256');
  for await (const part of stream) hash.update(part as Buffer);
  return hash.digest();
}
