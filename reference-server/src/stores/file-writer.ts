import { createHash } from 'node:crypto';
import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';
import type { WritingThread } from './writing-thread.js';

/**
 * Bytes per write. Network bodies arrive in 64 KiB pieces; one write per 256 KiB of them takes
 * 4 times fewer calls.
 */
export const WRITE_SIZE = 256 * 1024;

/** Write buffers kept for reuse across requests (16 MiB), so filling them allocates nothing. */
const SPARE_LIMIT = 64;
const spare: Buffer[] = [];

function takeBuffer(): Buffer {
  return spare.pop() ?? Buffer.allocUnsafeSlow(WRITE_SIZE);
}

function giveBack(buffer: Buffer): void {
  if (spare.length < SPARE_LIMIT) spare.push(buffer);
}

/** Writes all of `bytes` at `position` of the file (a write may take fewer). */
export async function writeAll(out: FileHandle, bytes: Buffer, position: number): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    const { bytesWritten } = await out.write(bytes, at, bytes.length - at, position + at);
    at += bytesWritten;
  }
}

/** Writes of one writer under way at once: the network never waits for one slow write. */
const FLIGHTS = 4;

/**
 * A stream's bytes written into an open file from `start`, never more than `limit` of them
 * (the next range of the file may belong to someone else). Each piece is copied into a reused
 * WRITE_SIZE buffer the moment it arrives and let go, and up to FLIGHTS full buffers are
 * written at once: pieces held until a slow write completes outlive the young generation, and
 * old pieces of memory outside the heap set off a full garbage collection every few dozen
 * megabytes, which then slows everything further. When all buffers are under way, the stream
 * pushes back and the bytes wait in the socket, not in the heap. Given a writing thread, the
 * buffers are written there and hashed on the way (`digest()`), instead of by the thread pool.
 * The file handle stays open; its owner closes it.
 */
export class FileWriter extends Writable {
  /** Bytes handed to writes so far (the next write's place); all on disk once finished. */
  #sent = 0;
  #filling: Buffer | undefined;
  #filled = 0;
  #flights = new Set<Promise<void>>();
  #failure: Error | undefined;

  /** The job on the writing thread, when writes go there (and are hashed there). */
  readonly #job: number | undefined;

  constructor(
    private readonly out: FileHandle,
    private readonly start: number,
    private readonly limit = Number.POSITIVE_INFINITY,
    private readonly thread?: WritingThread,
  ) {
    // One network piece waits here at most; the rest wait in the socket.
    super({ highWaterMark: 64 * 1024 });
    this.#job = thread?.job();
  }

  /**
   * SHA-256 of the bytes written, for a writer on a writing thread, once the stream has finished;
   * rejects when a write failed.
   */
  digest(): Promise<Buffer> {
    if (!this.thread) return Promise.reject(new Error('This writer does not hash'));
    // A writer that failed or was stopped dropped its job: a digest would be of part of the body.
    if (!this.writableFinished) {
      return Promise.reject(
        this.#failure ?? this.errored ?? new Error('The body was not written whole'),
      );
    }
    // Nothing was written on the thread (an empty body): nothing to ask it.
    if (this.#sent === 0) return Promise.resolve(createHash('sha256').digest());
    return this.thread.end(this.#job as number);
  }

  /** Bytes written, once the stream has finished. */
  get bytesWritten(): number {
    return this.#sent;
  }

  override _write(piece: Buffer, _encoding: BufferEncoding, done: (error?: Error) => void): void {
    if (this.#sent + this.#filled + piece.length > this.limit) {
      done(new RangeError(`More than ${this.limit} bytes for this range of the file`));
      return;
    }
    this.#take(piece).then(() => done(), done);
  }

  override _final(done: (error?: Error) => void): void {
    this.#finish().then(() => done(), done);
  }

  override _destroy(error: Error | null, done: (error?: Error | null) => void): void {
    // Writes under way still use their buffers: those go back to the spares when done.
    if (this.#filling) giveBack(this.#filling);
    this.#filling = undefined;
    if (!this.thread) return done(error);
    // Not done before the thread has answered every write under way: the owner closes the file
    // then, and its descriptor's number could be a new file's by the time a late write ran.
    const { thread } = this;
    void Promise.allSettled([...this.#flights]).then(() => {
      if (!this.writableFinished) thread.drop(this.#job as number);
      done(error);
    });
  }

  async #take(piece: Buffer): Promise<void> {
    let at = 0;
    while (at < piece.length) {
      this.#filling ??= takeBuffer();
      const copied = piece.copy(this.#filling, this.#filled, at);
      this.#filled += copied;
      at += copied;
      if (this.#filled === this.#filling.length) await this.#send();
    }
  }

  /** Starts writing the filled buffer, once fewer than FLIGHTS writes are under way. */
  async #send(): Promise<void> {
    while (this.#flights.size >= FLIGHTS) await Promise.race(this.#flights);
    if (this.#failure) throw this.#failure;
    const buffer = this.#filling as Buffer;
    const bytes = this.#filled;
    this.#filling = undefined;
    this.#filled = 0;
    const position = this.start + this.#sent;
    this.#sent += bytes;
    const fail = (error: unknown) => {
      this.#failure ??= error instanceof Error ? error : new Error(String(error));
    };
    const written = this.thread
      ? this.thread
          .write(this.#job as number, this.out.fd, buffer, bytes, position)
          .then((done) => {
            giveBack(done.buffer);
            if (done.error) throw done.error;
          })
      : writeAll(this.out, buffer.subarray(0, bytes), position).then(() => giveBack(buffer));
    const flight: Promise<void> = written
      .then(() => undefined, fail)
      .finally(() => this.#flights.delete(flight));
    this.#flights.add(flight);
  }

  async #finish(): Promise<void> {
    if (this.#filled > 0) await this.#send();
    else if (this.#filling) {
      giveBack(this.#filling);
      this.#filling = undefined;
    }
    await Promise.all(this.#flights);
    if (this.#failure) throw this.#failure;
  }
}
