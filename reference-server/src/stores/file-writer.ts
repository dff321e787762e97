import type { FileHandle } from 'node:fs/promises';
import { Writable } from 'node:stream';

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
 * pushes back and the bytes wait in the socket, not in the heap. The file handle stays open;
 * its owner closes it.
 */
export class FileWriter extends Writable {
  /** Bytes handed to writes so far (the next write's place); all on disk once finished. */
  #sent = 0;
  #filling: Buffer | undefined;
  #filled = 0;
  #flights = new Set<Promise<void>>();
  #failure: Error | undefined;

  constructor(
    private readonly out: FileHandle,
    private readonly start: number,
    private readonly limit = Number.POSITIVE_INFINITY,
  ) {
    // One network piece waits here at most; the rest wait in the socket.
    super({ highWaterMark: 64 * 1024 });
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
    done(error);
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
    const flight: Promise<void> = writeAll(this.out, buffer.subarray(0, bytes), position)
      .then(
        () => giveBack(buffer),
        (error: unknown) => {
          this.#failure ??= error instanceof Error ? error : new Error(String(error));
        },
      )
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
