/**
 * The content hash in Chromium: a file is read once, in order, through the streams of windows of
 * it into one reused buffer, and gives the protocol's hash.
 */
import { CONTENT_HASH_BLOCK_SIZE } from '@file-uploader/protocol';
import { hashBlocks } from '../src/hashing.js';
import {
  describe,
  equal,
  it,
  ok,
  randomFile,
  rejectsWithCode,
  sha256Hex,
} from './test-kit.browser.js';

const hexToBytes = (hex: string) =>
  Uint8Array.from(hex.match(/../g) as string[], (pair) => parseInt(pair, 16));

/** The protocol's content hash, computed here block by block from whole slices. */
async function expected(file: Blob): Promise<{ contentHash: string; blocks: string[] }> {
  const blocks: string[] = [];
  for (let at = 0; at < file.size; at += CONTENT_HASH_BLOCK_SIZE) {
    blocks.push(await sha256Hex(file.slice(at, at + CONTENT_HASH_BLOCK_SIZE)));
  }
  const joined = new Uint8Array(blocks.length * 32);
  blocks.forEach((hex, index) => joined.set(hexToBytes(hex), index * 32));
  return { contentHash: await sha256Hex(joined), blocks };
}

const blockHex = (blocks: Uint8Array, index: number) =>
  Array.from(blocks.subarray(index * 32, index * 32 + 32), (b) =>
    b.toString(16).padStart(2, '0'),
  ).join('');

/**
 * `file` whose slices' streams hand out `piece` bytes at a time (sizes that straddle blocks), and
 * fail with NotReadableError (as a changed file does) once they reach byte `failAt` of the file.
 */
function inPieces(file: File, piece: number, failAt = Infinity): File {
  file.slice = (start = 0, end = file.size) => {
    const part = Blob.prototype.slice.call(file, start, end);
    let at = start;
    part.stream = () =>
      new ReadableStream({
        async pull(controller) {
          if (at >= failAt) {
            controller.error(new DOMException('The file changed.', 'NotReadableError'));
          } else if (at >= end) {
            controller.close();
          } else {
            const next = Blob.prototype.slice.call(file, at, Math.min(at + piece, end));
            at += next.size;
            controller.enqueue(new Uint8Array(await next.arrayBuffer()));
          }
        },
      });
    return part;
  };
  return file;
}

describe('content hash in Chromium', () => {
  it('a file read through its stream: every block, and the content hash', async () => {
    const file = randomFile(2 * CONTENT_HASH_BLOCK_SIZE + 12_345);
    const want = await expected(file);
    const hashing = hashBlocks(file, new AbortController().signal);
    await hashing.hashed[0]; // each block settles as it comes
    equal(blockHex(hashing.blocks, 0), want.blocks[0]);
    const got = await hashing;
    equal(got.contentHash, want.contentHash);
    want.blocks.forEach((hex, index) => equal(blockHex(got.blocks, index), hex));
  });

  it('files smaller than a block, and an empty one, through the stream', async () => {
    for (const size of [1, 70_000, CONTENT_HASH_BLOCK_SIZE - 1, 0]) {
      const file = randomFile(size);
      const got = await hashBlocks(file, new AbortController().signal);
      equal(got.contentHash, (await expected(file)).contentHash, `${size} bytes`);
    }
  });

  it('pieces that straddle blocks and windows of the stream: the same hash', async () => {
    // Nine blocks and a bit: past the first window of eight blocks.
    const file = randomFile(9 * CONTENT_HASH_BLOCK_SIZE + 7);
    const want = await expected(file);
    const got = await hashBlocks(inPieces(file, 100_000), new AbortController().signal);
    equal(got.contentHash, want.contentHash);
    want.blocks.forEach((hex, index) => equal(blockHex(got.blocks, index), hex));
  });

  it('finishes when garbage is collected while it reads', async () => {
    // Chromium 156 lost a BYOB read whose stream was collected meanwhile: it never settled.
    const gc = (globalThis as { gc?: () => void }).gc;
    ok(gc, 'Chromium runs with --js-flags=--expose-gc (web-test-runner.config.mjs)');
    const file = randomFile(2 * CONTENT_HASH_BLOCK_SIZE + 5);
    const want = (await expected(file)).contentHash;
    for (let round = 0; round < 5; round++) {
      // As when an earlier page's upload is resumed: only the reads under way hold the hashing.
      let got: string | undefined;
      void hashBlocks(file, new AbortController().signal).then((h) => (got = h.contentHash));
      for (const start = performance.now(); !got && performance.now() - start < 5000;) {
        gc();
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      equal(got, want, `round ${round}: the content hash`);
    }
  });

  it('a file that fails to read mid-way: file_changed, and blocks not hashed fail too', async () => {
    const file = inPieces(
      randomFile(3 * CONTENT_HASH_BLOCK_SIZE),
      100_000,
      CONTENT_HASH_BLOCK_SIZE + 5,
    );
    const hashing = hashBlocks(file, new AbortController().signal);
    await hashing.hashed[0]; // read before the failure
    await rejectsWithCode(hashing, 'file_changed');
    await rejectsWithCode(hashing.hashed[2] as Promise<unknown>, 'file_changed');
  });

  it('stops when its signal aborts, and the blocks not hashed fail with the reason', async () => {
    const file = randomFile(12 * CONTENT_HASH_BLOCK_SIZE);
    const controller = new AbortController();
    const hashing = hashBlocks(file, controller.signal);
    await hashing.hashed[0];
    controller.abort(new DOMException('stop', 'AbortError'));
    let error: unknown;
    await hashing.catch((err: unknown) => (error = err));
    ok(error instanceof DOMException && error.name === 'AbortError', String(error));
    let last: unknown;
    await (hashing.hashed[11] as Promise<unknown>).catch((err: unknown) => (last = err));
    equal(last, error);
  });
});
