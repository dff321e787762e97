/**
 * Encryption at rest: AES-256-GCM in fixed-size records, so a ranged read decrypts only the
 * records it touches instead of the whole file.
 *
 * File layout:
 *   header  = 'FUE1' (4 bytes) + random nonce prefix (8 bytes)
 *   records = ciphertext of up to 64 KiB of plaintext + 16-byte GCM tag, repeated
 *
 * Every record but the last holds exactly 64 KiB of plaintext; the last holds 0..64 KiB, and an
 * empty plaintext still has one (empty) final record. The nonce of record i is the prefix
 * followed by i as a 4-byte big-endian counter, so records cannot be reordered; the AAD is one
 * byte, 1 for the final record and 0 otherwise, so a file cut at a record boundary (or extended)
 * fails authentication.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { open } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import type { ByteRange } from './blob-store.js';

const MAGIC = Buffer.from('FUE1', 'ascii');
const NONCE_PREFIX_LENGTH = 8;
const TAG_LENGTH = 16;
const ALGORITHM = 'aes-256-gcm';
const MAX_RECORDS = 2 ** 32; // the counter is 4 bytes

/** Size of the file header in bytes. */
export const HEADER_LENGTH = MAGIC.length + NONCE_PREFIX_LENGTH;
/** Plaintext bytes per record (every record but the last is full). */
export const RECORD_PLAINTEXT_LENGTH = 64 * 1024;
/** On-disk bytes of a full record. */
export const RECORD_LENGTH = RECORD_PLAINTEXT_LENGTH + TAG_LENGTH;
/** Required key length in bytes (AES-256). */
export const KEY_LENGTH = 32;

/** Thrown (as a stream error) when an encrypted file cannot be parsed or authenticated. */
export class DecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptionError';
  }
}

export function assertValidKey(key: Buffer): void {
  if (key.length !== KEY_LENGTH) {
    throw new RangeError(`Encryption key must be ${KEY_LENGTH} bytes, got ${key.length}`);
  }
}

function recordNonce(prefix: Buffer, index: number): Buffer {
  const nonce = Buffer.alloc(NONCE_PREFIX_LENGTH + 4);
  prefix.copy(nonce, 0);
  nonce.writeUInt32BE(index, NONCE_PREFIX_LENGTH);
  return nonce;
}

function sealRecord(
  key: Buffer,
  prefix: Buffer,
  index: number,
  final: boolean,
  plaintext: Buffer,
): Buffer {
  if (index >= MAX_RECORDS) throw new RangeError('Plaintext too large for the encrypted format');
  const cipher = createCipheriv(ALGORITHM, key, recordNonce(prefix, index), {
    authTagLength: TAG_LENGTH,
  });
  cipher.setAAD(Buffer.of(final ? 1 : 0));
  return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
}

function openRecord(
  key: Buffer,
  prefix: Buffer,
  index: number,
  final: boolean,
  record: Buffer,
): Buffer {
  const ciphertext = record.subarray(0, record.length - TAG_LENGTH);
  const decipher = createDecipheriv(ALGORITHM, key, recordNonce(prefix, index), {
    authTagLength: TAG_LENGTH,
  });
  decipher.setAAD(Buffer.of(final ? 1 : 0));
  decipher.setAuthTag(record.subarray(record.length - TAG_LENGTH));
  // update() output is unauthenticated until final() succeeds, so nothing is released before.
  const plaintext = decipher.update(ciphertext);
  try {
    return Buffer.concat([plaintext, decipher.final()]);
  } catch {
    throw new DecryptionError(
      `Encrypted record ${index} failed authentication (tampered or truncated file, or wrong key)`,
    );
  }
}

/** A Transform from plaintext to the encrypted file format (header included). */
export function createEncryptStream(key: Buffer): Transform {
  assertValidKey(key);
  const prefix = randomBytes(NONCE_PREFIX_LENGTH);
  let pending: Buffer[] = [];
  let pendingLength = 0;
  let index = 0;
  let headerSent = false;

  const sendHeader = (stream: Transform): void => {
    if (headerSent) return;
    headerSent = true;
    stream.push(Buffer.concat([MAGIC, prefix]));
  };

  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      try {
        sendHeader(this);
        pending.push(chunk);
        pendingLength += chunk.length;
        // Strictly greater: a full record is only known to be non-final once more bytes follow.
        if (pendingLength > RECORD_PLAINTEXT_LENGTH) {
          let buffered = Buffer.concat(pending, pendingLength);
          while (buffered.length > RECORD_PLAINTEXT_LENGTH) {
            const plaintext = buffered.subarray(0, RECORD_PLAINTEXT_LENGTH);
            this.push(sealRecord(key, prefix, index++, false, plaintext));
            buffered = buffered.subarray(RECORD_PLAINTEXT_LENGTH);
          }
          pending = [buffered];
          pendingLength = buffered.length;
        }
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback: TransformCallback) {
      try {
        sendHeader(this);
        const plaintext = Buffer.concat(pending, pendingLength);
        pending = [];
        callback(null, sealRecord(key, prefix, index, true, plaintext));
      } catch (error) {
        callback(error as Error);
      }
    },
  });
}

function recordCount(fileSize: number): number {
  const body = fileSize - HEADER_LENGTH;
  const count = Math.ceil(body / RECORD_LENGTH);
  const last = body - (count - 1) * RECORD_LENGTH;
  if (body < TAG_LENGTH || last < TAG_LENGTH) {
    throw new DecryptionError(`Encrypted file has an impossible size (${fileSize} bytes)`);
  }
  return count;
}

/** Plaintext size of an encrypted file of `fileSize` bytes; throws when no file has that size. */
export function plaintextSize(fileSize: number): number {
  return fileSize - HEADER_LENGTH - recordCount(fileSize) * TAG_LENGTH;
}

async function readExactly(handle: FileHandle, length: number, position: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await handle.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw new DecryptionError('Encrypted file ended early (truncated)');
    filled += bytesRead;
  }
  return buffer;
}

async function* decryptFile(
  path: string,
  key: Buffer,
  range: ByteRange | undefined,
): AsyncGenerator<Buffer> {
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size < HEADER_LENGTH) throw new DecryptionError('Encrypted file has no header');
    const header = await readExactly(handle, HEADER_LENGTH, 0);
    if (!header.subarray(0, MAGIC.length).equals(MAGIC)) {
      throw new DecryptionError('Not an encrypted blob (bad magic)');
    }
    const prefix = header.subarray(MAGIC.length);
    const count = recordCount(size);
    const total = plaintextSize(size);

    const start = range?.start ?? 0;
    const end = Math.min(range?.end ?? total - 1, total - 1);
    // A whole read of an empty plaintext still authenticates its single final record.
    if (start > end && !(range === undefined && total === 0)) return;
    const first = Math.floor(start / RECORD_PLAINTEXT_LENGTH);
    const last = Math.max(first, Math.floor(end / RECORD_PLAINTEXT_LENGTH));

    for (let index = first; index <= last; index++) {
      const offset = HEADER_LENGTH + index * RECORD_LENGTH;
      const final = index === count - 1;
      const length = final ? size - offset : RECORD_LENGTH;
      const plaintext = openRecord(
        key,
        prefix,
        index,
        final,
        await readExactly(handle, length, offset),
      );
      const recordStart = index * RECORD_PLAINTEXT_LENGTH;
      const slice = plaintext.subarray(
        Math.max(start - recordStart, 0),
        Math.min(end - recordStart + 1, plaintext.length),
      );
      if (slice.length > 0) yield slice;
    }
  } finally {
    await handle.close();
  }
}

/**
 * Reads the plaintext of an encrypted file, or an inclusive range of it, seeking straight to
 * the record that holds `range.start`. Bytes past the end are clipped, as with fs streams.
 * Errors (missing file, failed authentication) surface as stream errors.
 */
export function createDecryptedReadStream(path: string, key: Buffer, range?: ByteRange): Readable {
  assertValidKey(key);
  return Readable.from(decryptFile(path, key, range), { objectMode: false });
}
