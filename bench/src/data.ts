/** Payload files: random bytes that the reference server accepts (a PDF by its magic bytes). */
import { createHash, randomFillSync } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';

export const MiB = 1024 * 1024;

/**
 * The reference server checks the real type of every file, so payloads start with a PDF header;
 * the rest is random (incompressible, nothing for any layer to shortcut). Every server gets the
 * same file.
 */
const PDF_HEADER = Buffer.from('%PDF-1.7\n%\xE2\xE3\xCF\xD3\n', 'latin1');

/** Writes `size` bytes of payload to `file`, 8 MiB at a time; returns its SHA-256 (hex). */
export async function writePayload(file: string, size: number): Promise<string> {
  const hash = createHash('sha256');
  const handle = await open(file, 'wx');
  try {
    const block = Buffer.alloc(8 * MiB);
    for (let at = 0; at < size; at += block.length) {
      const part = block.subarray(0, Math.min(block.length, size - at));
      randomFillSync(part);
      if (at === 0) PDF_HEADER.copy(part, 0, 0, Math.min(PDF_HEADER.length, part.length));
      hash.update(part);
      await handle.write(part, 0, part.length, at);
    }
  } finally {
    await handle.close();
  }
  return hash.digest('hex');
}

/** Payload bytes in memory (for the browser and hashing rows). */
export function payloadBuffer(size: number): Buffer {
  const bytes = randomFillSync(Buffer.allocUnsafe(size));
  PDF_HEADER.copy(bytes, 0, 0, Math.min(PDF_HEADER.length, size));
  return bytes;
}

/** SHA-256 of a file on disk (hex), streamed. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file, { highWaterMark: 4 * MiB }), hash);
  return hash.digest('hex');
}

/** Throws unless the stored file's SHA-256 is the payload's. */
export async function verifyStored(what: string, file: string, expected: string): Promise<void> {
  const actual = await sha256File(file);
  if (actual !== expected) {
    throw new Error(`${what}: stored SHA-256 ${actual} differs from the payload's ${expected}`);
  }
}
