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
import { WritingThread } from './writing-thread.js';

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

/**
 * Writes random bodies, cut into random pieces, at random places of files filled around them,
 * checking the bytes (and, on a writing thread, the digest) after each.
 */
async function writesAnyCut(thread: WritingThread | undefined, numRuns: number): Promise<void> {
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
        const writer = new FileWriter(out, start, length, thread);
        try {
          await pipeline(Readable.from(cut(body, sizes)), writer);
          if (thread) {
            const expected = createHash('sha256').update(body).digest();
            assert.ok((await writer.digest()).equals(expected), 'digest');
          }
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
    { numRuns },
  );
}

describe('FileWriter', () => {
  it('writes any cut of a body at its place, leaving the bytes around it alone', async () => {
    await writesAnyCut(undefined, 40);
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

describe('FileWriter on the writing thread', () => {
  it('writes any cut of a body at its place and hashes exactly those bytes', async () => {
    await writesAnyCut(new WritingThread(), 25);
  });

  it('keeps the bodies of writers working at once apart', async () => {
    const thread = new WritingThread();
    const path = join(dir, 'beside');
    const bodies = [0, 1, 2, 3].map(() => randomBytes(2 * WRITE_SIZE + 1000));
    const size = bodies[0]!.length;
    const out = await open(path, 'w+');
    try {
      const writers = bodies.map((_, i) => new FileWriter(out, i * size, size, thread));
      await Promise.all(
        bodies.map((body, i) =>
          pipeline(Readable.from(cut(body, [70_000, 3, 99_999])), writers[i]!),
        ),
      );
      const digests = await Promise.all(writers.map((writer) => writer.digest()));
      digests.forEach((digest, i) => {
        assert.ok(digest.equals(createHash('sha256').update(bodies[i]!).digest()), `body ${i}`);
      });
    } finally {
      await out.close();
    }
    assert.ok((await readFile(path)).equals(Buffer.concat(bodies)));
  });

  it('hashes an empty body, and refuses a digest its thread does not know', async () => {
    const path = join(dir, 'empty');
    const out = await open(path, 'w+');
    const thread = new WritingThread();
    try {
      const empty = new FileWriter(out, 0, 0, thread);
      await pipeline(Readable.from([]), empty);
      assert.ok((await empty.digest()).equals(createHash('sha256').digest()));
      // A job the thread never wrote for (as after the thread was started again).
      await assert.rejects(thread.end(thread.job()), /lost this job/);
    } finally {
      await out.close();
    }
  });

  it("fails with the write's own error, and so does the digest", async () => {
    const path = join(dir, 'read-only');
    await writeFile(path, Buffer.alloc(10));
    const out = await open(path, 'r');
    const writer = new FileWriter(out, 0, Number.POSITIVE_INFINITY, new WritingThread());
    try {
      await assert.rejects(
        pipeline(Readable.from([randomBytes(WRITE_SIZE), randomBytes(WRITE_SIZE)]), writer),
        { code: 'EBADF' },
      );
      await assert.rejects(writer.digest(), { code: 'EBADF' });
    } finally {
      await out.close();
    }
    assert.ok((await readFile(path)).equals(Buffer.alloc(10)), 'the file is untouched');
  });
});
