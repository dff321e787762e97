import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { HttpError } from '../http-error.js';

/**
 * Passes a chunk body through while counting and (unless `hash` is false, when the store hashes
 * what it staged) hashing it. Fails the stream as soon as more bytes arrive than declared, or
 * when no byte arrives for `idleMs`.
 */
export class ChunkMeter extends Transform {
  bytes = 0;
  readonly #hash: Hash | undefined;
  readonly #timer: NodeJS.Timeout;
  #digest?: Buffer;

  constructor(
    readonly expected: number,
    idleMs: number,
    hash = true,
  ) {
    super();
    this.#hash = hash ? createHash('sha256') : undefined;
    this.#timer = setTimeout(() => this.destroy(new HttpError('request_timeout')), idleMs);
    this.#timer.unref();
  }

  /** SHA-256 of everything that passed; call once the stream has ended (repeat calls reuse it). */
  digest(): Buffer {
    if (!this.#hash) throw new Error('This meter does not hash');
    this.#digest ??= this.#hash.digest();
    return this.#digest;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.#timer.refresh();
    this.bytes += chunk.length;
    if (this.bytes > this.expected) {
      callback(new HttpError('body_length_mismatch', 'The body is longer than Content-Length.'));
      return;
    }
    this.#hash?.update(chunk);
    callback(null, chunk);
  }

  override _flush(callback: TransformCallback): void {
    clearTimeout(this.#timer);
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    clearTimeout(this.#timer);
    callback(error);
  }
}
