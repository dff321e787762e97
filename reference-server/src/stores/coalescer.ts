import { Transform, type TransformCallback } from 'node:stream';

/** Joins small pieces into pieces of at least `size` bytes (the last may be shorter). */
export class Coalescer extends Transform {
  #pieces: Buffer[] = [];
  #bytes = 0;

  constructor(private readonly size: number) {
    super();
  }

  override _transform(piece: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    this.#pieces.push(piece);
    this.#bytes += piece.length;
    if (this.#bytes >= this.size) this.#flushPieces();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.#flushPieces();
    done();
  }

  #flushPieces(): void {
    if (this.#bytes === 0) return;
    this.push(
      this.#pieces.length === 1 ? this.#pieces[0] : Buffer.concat(this.#pieces, this.#bytes),
    );
    this.#pieces = [];
    this.#bytes = 0;
  }
}
