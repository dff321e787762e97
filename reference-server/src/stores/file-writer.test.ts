import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FileWriter, WRITE_SIZE } from './file-writer.js';
import { RangeHasher } from './range-hasher.js';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'file-writer-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `bytes` cut into pieces of the given sizes (the rest as one last piece). */
function cut(bytes: Buffer, sizes: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let at = 0;
  for (const size of sizes) {
    if (at >= bytes.length) break;
    pieces.push(bytes.subarray(at, at + size));
    at += size;
  }
  if (at < bytes.length) pieces.push(bytes.subarray(at));
  return pieces;
}

describe('FileWriter', () => {
  it('writes any cut of a body at its place, leaving the bytes around it alone', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 3 * WRITE_SIZE + 17 }),
        fc.array(fc.integer({ min: 1, max: 100_000 }), { maxLength: 40 }),
        fc.integer({ min: 0, max: 5000 }),
        async (length, sizes, start) => {
          const path = join(dir, `cut-${n++}`);
          const around = Buffer.alloc(start + length + 300, 0xee);
          await writeFile(path, around);
          const body = randomBytes(length);
          const out = await open(path, 'r+');
          const writer = new FileWriter(out, start, length);
          try {
            await pipeline(Readable.from(cut(body, sizes)), writer);
          } finally {
            await out.close();
          }
          assert.equal(writer.bytesWritten, length);
          const expected = Buffer.from(around);
          body.copy(expected, start);
          assert.ok((await readFile(path)).equals(expected));
          await rm(path);
        },
      ),
      { numRuns: 40 },
    );
  });

  it('fails a body longer than its limit and writes nothing past the limit', async () => {
    const path = join(dir, 'limit');
    await writeFile(path, Buffer.alloc(1000, 0xee));
    const out = await open(path, 'r+');
    try {
      await assert.rejects(
        pipeline(
          Readable.from([randomBytes(300), randomBytes(300)]),
          new FileWriter(out, 100, 500),
        ),
        RangeError,
      );
    } finally {
      await out.close();
    }
    const after = await readFile(path);
    assert.ok(after.subarray(600).equals(Buffer.alloc(400, 0xee)), 'bytes past the limit kept');
  });
});

describe('RangeHasher', () => {
  it('hashes a range of an open file on its thread', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 5);
    const path = join(dir, 'hashed');
    await writeFile(path, bytes);
    const hasher = new RangeHasher();
    const file = await open(path, 'r');
    try {
      const ranges: Array<[number, number]> = [
        [0, bytes.length],
        [12_345, 2 * 1024 * 1024],
        [bytes.length, 0],
      ];
      const digests = await Promise.all(
        ranges.map(([offset, length]) => hasher.digest(file.fd, offset, length)),
      );
      ranges.forEach(([offset, length], i) => {
        const expected = createHash('sha256')
          .update(bytes.subarray(offset, offset + length))
          .digest();
        assert.ok(digests[i]?.equals(expected), `range ${offset}+${length}`);
      });
      await assert.rejects(hasher.digest(file.fd, bytes.length - 10, 20), /ends before byte/);
    } finally {
      await file.close();
    }
  });
});
