/**
 * Object bytes in memory. With a customer-supplied key the bytes are kept encrypted
 * (AES-256-CTR under that key, a fresh IV per object), so nothing can read them without the key;
 * only the key's SHA-256 is remembered, as GCS does.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { Crc32c } from './crc32c.js';
import { badRequest } from './errors.js';

/** A customer-supplied encryption key taken from request headers. */
export interface CustomerKey {
  key: Buffer;
  /** Base64 SHA-256 of the key, as in `x-goog-encryption-key-sha256`. */
  sha256: string;
}

/** Immutable stored bytes of one object generation. */
export interface StoredContent {
  segments: readonly Buffer[];
  size: number;
  md5Hash: string;
  crc32c: string;
  /** Set when encrypted with a customer-supplied key. */
  encryption?: { iv: Buffer; keySha256: string };
}

const PIECE = 64 * 1024;

/**
 * Reads the key from `x-goog-encryption-*` headers, or from `x-goog-copy-source-encryption-*`
 * with `source` (rewrite). Undefined when no key is given; 400 when the headers are inconsistent.
 */
export function customerKeyFrom(
  headers: IncomingHttpHeaders,
  source = false,
): CustomerKey | undefined {
  const prefix = source ? 'x-goog-copy-source-encryption-' : 'x-goog-encryption-';
  const algorithm = headers[`${prefix}algorithm`];
  const encoded = headers[`${prefix}key`];
  const hash = headers[`${prefix}key-sha256`];
  if (algorithm === undefined && encoded === undefined && hash === undefined) return undefined;
  if (algorithm !== 'AES256') {
    throw badRequest(
      'Encryption algorithm must be AES256.',
      'customerEncryptionAlgorithmIsInvalid',
    );
  }
  if (typeof encoded !== 'string' || typeof hash !== 'string') {
    throw badRequest(
      'Missing an encryption key, or it is not base64 encoded.',
      'customerEncryptionKeyFormatIsInvalid',
    );
  }
  const key = Buffer.from(encoded, 'base64');
  if (key.length !== 32) {
    throw badRequest(
      'Missing an encryption key, or it is not base64 encoded, or it does not meet the required length of the encryption algorithm.',
      'customerEncryptionKeyFormatIsInvalid',
    );
  }
  const sha256 = createHash('sha256').update(key).digest('base64');
  if (sha256 !== hash) {
    throw badRequest(
      'The provided encryption key SHA256 hash does not match the key.',
      'customerEncryptionKeySha256IsInvalid',
    );
  }
  return { key, sha256 };
}

/** Checks that `key` opens `content`: GCS refuses reads of CSEK objects without the right key. */
export function assertKeyFits(content: StoredContent, key: CustomerKey | undefined): void {
  if (content.encryption) {
    if (!key) {
      throw badRequest(
        'The target object is encrypted by a customer-supplied encryption key.',
        'resourceIsEncryptedWithCustomerEncryptionKey',
      );
    }
    if (key.sha256 !== content.encryption.keySha256) {
      throw badRequest(
        'The provided encryption key is incorrect.',
        'customerEncryptionKeyIsIncorrect',
      );
    }
  } else if (key) {
    throw badRequest(
      'The target object is not encrypted by a customer-supplied encryption key.',
      'resourceNotEncryptedWithCustomerEncryptionKey',
    );
  }
}

/** The CTR counter block for byte `offset` of a stream that started at `iv`. */
function counterAt(iv: Buffer, offset: number): Buffer {
  const counter = Buffer.from(iv);
  let carry = BigInt(Math.floor(offset / 16));
  for (let i = 15; i >= 0 && carry > 0n; i--) {
    const sum = BigInt(counter[i]!) + (carry & 0xffn);
    counter[i] = Number(sum & 0xffn);
    carry = (carry >> 8n) + (sum >> 8n);
  }
  return counter;
}

/** Collects bytes as they arrive, hashing the plaintext and encrypting when a key is given. */
export class ContentWriter {
  readonly #segments: Buffer[] = [];
  readonly #md5 = createHash('md5');
  readonly #crc = new Crc32c();
  readonly #iv = randomBytes(16);
  readonly #cipher;
  #size = 0;

  constructor(private readonly key?: CustomerKey) {
    this.#cipher = key ? createCipheriv('aes-256-ctr', key.key, this.#iv) : undefined;
  }

  get size(): number {
    return this.#size;
  }

  write(plain: Buffer): void {
    if (plain.length === 0) return;
    this.#md5.update(plain);
    this.#crc.update(plain);
    this.#size += plain.length;
    this.#segments.push(this.#cipher ? this.#cipher.update(plain) : plain);
  }

  finish(): StoredContent {
    return {
      segments: this.#segments,
      size: this.#size,
      md5Hash: this.#md5.digest('base64'),
      crc32c: this.#crc.base64(),
      ...(this.key ? { encryption: { iv: this.#iv, keySha256: this.key.sha256 } } : {}),
    };
  }
}

/** Plaintext of bytes `start..end` (inclusive) in pieces of at most 64 KiB. */
export function readContent(
  content: StoredContent,
  key: CustomerKey | undefined,
  start = 0,
  end = content.size - 1,
): Generator<Buffer> {
  assertKeyFits(content, key); // now, not on the first read: errors must precede any header
  return pieces(content, key, start, end);
}

function* pieces(
  content: StoredContent,
  key: CustomerKey | undefined,
  start: number,
  end: number,
): Generator<Buffer> {
  let decipher;
  if (content.encryption && key) {
    decipher = createDecipheriv('aes-256-ctr', key.key, counterAt(content.encryption.iv, start));
    decipher.update(Buffer.alloc(start % 16)); // align the keystream inside the first block
  }
  let offset = 0;
  for (const segment of content.segments) {
    const segmentEnd = offset + segment.length;
    if (segmentEnd > start && offset <= end) {
      const from = Math.max(start, offset) - offset;
      const to = Math.min(end + 1, segmentEnd) - offset;
      for (let at = from; at < to; at += PIECE) {
        const raw = segment.subarray(at, Math.min(at + PIECE, to));
        yield decipher ? decipher.update(raw) : raw;
      }
    }
    offset = segmentEnd;
    if (offset > end) break;
  }
}

/** Reads the whole plaintext (compose and rewrite copy through this). */
export function copyContent(
  sources: ReadonlyArray<{ content: StoredContent; key: CustomerKey | undefined }>,
  target: ContentWriter,
): void {
  for (const { content, key } of sources) {
    for (const piece of readContent(content, key)) target.write(piece);
  }
}
