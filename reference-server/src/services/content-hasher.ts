import { createHash, type Hash } from 'node:crypto';
import { Transform, type TransformCallback } from 'node:stream';
import { CONTENT_HASH_BLOCK_SIZE } from '@file-uploader/protocol';

/**
 * Passes bytes through while computing the protocol's content hash: SHA-256 over the
 * concatenated SHA-256s of 4 MiB blocks (lowercase hex), and counting bytes.
 */
export class ContentHasher extends Transform {
  bytes = 0;
  readonly #blockDigests: Buffer[] = [];
  #block: Hash = createHash('sha256');
  #blockBytes = 0;

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    this.bytes += chunk.length;
    let offset = 0;
    while (offset < chunk.length) {
      const take = Math.min(CONTENT_HASH_BLOCK_SIZE - this.#blockBytes, chunk.length - offset);
      this.#block.update(chunk.subarray(offset, offset + take));
      this.#blockBytes += take;
      offset += take;
      if (this.#blockBytes === CONTENT_HASH_BLOCK_SIZE) this.#closeBlock();
    }
    callback(null, chunk);
  }

  #closeBlock(): void {
    this.#blockDigests.push(this.#block.digest());
    this.#block = createHash('sha256');
    this.#blockBytes = 0;
  }

  /** The content hash; call once the stream has ended. */
  contentHash(): string {
    if (this.#blockBytes > 0) this.#closeBlock();
    return createHash('sha256').update(Buffer.concat(this.#blockDigests)).digest('hex');
  }
}
