/**
 * Behaviour every BlobStore must have. Each implementation's test file calls
 * `blobStoreConformance` with a factory for a fresh, empty store.
 */
import { createHash, randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { Readable } from 'node:stream';
import type { BlobStore, ChunkRef } from './blob-store.js';
import { ChunkBusyError, ObjectExistsError } from './blob-store.js';

const KIB = 1024;
const RECORD = 64 * KIB; // an edge for segmented stores; ranges around it matter
/** Room for one test chunk, where a test gives no offset of its own. */
const SLOT = 1024 * KIB;

function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A stream of `data` in uneven pieces, as a network body would arrive. */
function streamOf(data: Buffer, pieceSize = 7001): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += pieceSize) {
    pieces.push(data.subarray(offset, offset + pieceSize));
  }
  return Readable.from(pieces);
}

/** Emits `data`, then fails with `error` as a dropped connection would. */
function failingStream(data: Buffer, error: Error): Readable {
  return Readable.from(
    (async function* () {
      yield data;
      await new Promise((resolve) => setImmediate(resolve));
      throw error;
    })(),
  );
}

async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(Buffer.from(piece as Uint8Array));
  return Buffer.concat(pieces);
}

/** Opening may throw synchronously or the stream may error: both count as rejecting. */
async function assertReadFails(
  open: () => Readable,
  check?: (error: unknown) => boolean,
): Promise<void> {
  let stream: Readable;
  try {
    stream = open();
  } catch (error) {
    if (check) assert.ok(check(error), `unexpected error: ${String(error)}`);
    return;
  }
  await assert.rejects(readAll(stream), check ?? (() => true));
}

let counter = 0;
/** A fresh, safe id so tests never share state. */
function id(prefix: string): string {
  counter += 1;
  return `${prefix}${counter}_${randomBytes(4).toString('hex')}`;
}

export function blobStoreConformance(
  name: string,
  create: () => Promise<{ store: BlobStore; cleanup: () => Promise<void> }>,
): void {
  describe(`BlobStore conformance: ${name}`, () => {
    let store: BlobStore;
    let cleanup: () => Promise<void>;

    before(async () => {
      ({ store, cleanup } = await create());
    });

    after(async () => {
      await store.close();
      await cleanup();
    });

    /**
     * Where a chunk lies in its file. Stores may write placed chunks in place, so every chunk
     * here is placed: by default in a slot of its own, or at the offset a test gives.
     */
    const place = (ref: ChunkRef, data: Buffer, offset = ref.index * SLOT) => ({
      offset,
      length: data.length,
    });

    async function putChunk(
      ref: ChunkRef,
      data: Buffer,
      offset?: number,
    ): Promise<'created' | 'exists'> {
      const staged = await store.stageChunk(ref, streamOf(data), place(ref, data, offset));
      return staged.commit();
    }

    describe('chunks', () => {
      it('stage + commit makes a chunk listable and readable with the exact bytes', async () => {
        const ref = { sessionId: id('s'), fileId: id('f'), index: 0 };
        const data = randomBytes(150 * KIB + 17);
        const staged = await store.stageChunk(ref, streamOf(data), place(ref, data));
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), []);
        assert.equal(await staged.commit(), 'created');
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), [0]);
        assert.equal(sha256(await readAll(store.readChunk(ref))), sha256(data));
        await staged.discard(); // safe after commit, and keeps the chunk
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), [0]);
      });

      it('stores an empty chunk', async () => {
        const ref = { sessionId: id('s'), fileId: id('f'), index: 0 };
        assert.equal(await putChunk(ref, Buffer.alloc(0)), 'created');
        assert.equal((await readAll(store.readChunk(ref))).length, 0);
      });

      it('discard leaves nothing behind', async () => {
        const ref = { sessionId: id('s'), fileId: id('f'), index: 2 };
        const data = randomBytes(10 * KIB);
        const staged = await store.stageChunk(ref, streamOf(data), place(ref, data));
        await staged.discard();
        await staged.discard();
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), []);
        await assertReadFails(() => store.readChunk(ref));
      });

      it('rejects with the body error and keeps nothing when the body fails midway', async () => {
        const ref = { sessionId: id('s'), fileId: id('f'), index: 0 };
        const failure = new Error('connection reset');
        await assert.rejects(
          store.stageChunk(ref, failingStream(randomBytes(100 * KIB), failure), {
            offset: 0,
            length: 100 * KIB,
          }),
          (error) => error === failure,
        );
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), []);
        await assertReadFails(() => store.readChunk(ref));
        // The index is still free afterwards.
        assert.equal(await putChunk(ref, randomBytes(10)), 'created');
      });

      it('committing an index twice keeps the first bytes', async () => {
        const ref = { sessionId: id('s'), fileId: id('f'), index: 5 };
        const first = randomBytes(70 * KIB);
        const second = randomBytes(70 * KIB);
        const stagedFirst = await store.stageChunk(ref, streamOf(first), place(ref, first));
        // While the first is staged, a second may stage too or be told the chunk is busy.
        const stagedSecond = await store
          .stageChunk(ref, streamOf(second), place(ref, second))
          .catch((error: unknown) => {
            if (error instanceof ChunkBusyError) return undefined;
            throw error;
          });
        assert.equal(await stagedFirst.commit(), 'created');
        if (stagedSecond) {
          assert.equal(await stagedSecond.commit(), 'exists');
          await stagedSecond.discard();
        }
        // Once committed, other bytes for the index are refused without touching the stored.
        const third = await store.stageChunk(ref, streamOf(second), place(ref, second));
        assert.equal(await third.commit(), 'exists');
        await third.discard();
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), [5]);
        assert.equal(sha256(await readAll(store.readChunk(ref))), sha256(first));
      });

      it('lists indices ascending whatever the commit order', async () => {
        const sessionId = id('s');
        const fileId = id('f');
        for (const index of [3, 0, 12, 2]) {
          await putChunk({ sessionId, fileId, index }, randomBytes(100));
        }
        assert.deepEqual(await store.listChunks(sessionId, fileId), [0, 2, 3, 12]);
      });

      it('handles parallel stage + commit of many chunks', async () => {
        const sessionId = id('s');
        const fileId = id('f');
        const data = Array.from({ length: 8 }, () => randomBytes(40 * KIB + 3));
        const results = await Promise.all(
          data.map((bytes, index) => putChunk({ sessionId, fileId, index }, bytes)),
        );
        assert.deepEqual(results, Array(8).fill('created'));
        assert.deepEqual(await store.listChunks(sessionId, fileId), [0, 1, 2, 3, 4, 5, 6, 7]);
        for (const [index, bytes] of data.entries()) {
          const read = await readAll(store.readChunk({ sessionId, fileId, index }));
          assert.equal(sha256(read), sha256(bytes), `chunk ${index}`);
        }
      });

      it('lists nothing and errors on read for an unknown file', async () => {
        const ref = { sessionId: id('s'), fileId: id('f'), index: 0 };
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), []);
        await assertReadFails(() => store.readChunk(ref));
      });

      it('deleteChunks removes one file and is idempotent', async () => {
        const sessionId = id('s');
        const [kept, deleted] = [id('f'), id('f')];
        await putChunk({ sessionId, fileId: kept, index: 0 }, randomBytes(10));
        await putChunk({ sessionId, fileId: deleted, index: 0 }, randomBytes(10));
        await putChunk({ sessionId, fileId: deleted, index: 1 }, randomBytes(10));
        await store.deleteChunks(sessionId, deleted);
        await store.deleteChunks(sessionId, deleted);
        await store.deleteChunks(id('s'), id('f'));
        assert.deepEqual(await store.listChunks(sessionId, deleted), []);
        assert.deepEqual(await store.listChunks(sessionId, kept), [0]);
      });

      it('deleteChunks also removes staged chunks', async () => {
        const ref = { sessionId: id('s'), fileId: id('f'), index: 0 };
        const data = randomBytes(10);
        const staged = await store.stageChunk(ref, streamOf(data), place(ref, data));
        await store.deleteChunks(ref.sessionId, ref.fileId);
        // A staged chunk that was deleted must not reappear: commit may fail or be a no-op.
        await staged.commit().catch(() => undefined);
        assert.deepEqual(await store.listChunks(ref.sessionId, ref.fileId), []);
        await staged.discard();
      });

      it('deleteSessionChunks removes every file of a session and is idempotent', async () => {
        const sessionId = id('s');
        const other = { sessionId: id('s'), fileId: id('f'), index: 0 };
        const files = [id('f'), id('f')];
        for (const fileId of files) await putChunk({ sessionId, fileId, index: 0 }, randomBytes(9));
        await putChunk(other, randomBytes(9));
        await store.deleteSessionChunks(sessionId);
        await store.deleteSessionChunks(sessionId);
        await store.deleteSessionChunks(id('s'));
        for (const fileId of files) assert.deepEqual(await store.listChunks(sessionId, fileId), []);
        assert.deepEqual(await store.listChunks(other.sessionId, other.fileId), [0]);
      });
    });

    describe('objects', () => {
      it('round-trips ~1 MiB of random bytes', async () => {
        const key = `${id('o')}/nested/file.bin`;
        const data = randomBytes(1024 * KIB + 123);
        assert.deepEqual(await store.writeObject(key, streamOf(data, 65 * KIB)), {
          size: data.length,
        });
        assert.deepEqual(await store.statObject(key), { size: data.length });
        assert.equal(sha256(await readAll(store.readObject(key))), sha256(data));
      });

      it('reports exact sizes around record boundaries', async () => {
        for (const size of [0, 1, RECORD - 1, RECORD, RECORD + 1, 2 * RECORD, 2 * RECORD + 1]) {
          const key = id('size');
          const data = randomBytes(size);
          assert.deepEqual(await store.writeObject(key, streamOf(data)), { size });
          assert.deepEqual(await store.statObject(key), { size }, `size ${size}`);
          assert.equal(sha256(await readAll(store.readObject(key))), sha256(data), `size ${size}`);
        }
      });

      it('serves inclusive byte ranges', async () => {
        const key = id('range');
        const data = randomBytes(3 * RECORD + 1000);
        const last = data.length - 1;
        await store.writeObject(key, streamOf(data));
        const ranges: Array<[number, number]> = [
          [0, 0],
          [0, 99],
          [1000, 1000],
          [RECORD - 1, RECORD],
          [RECORD, RECORD],
          [RECORD, 2 * RECORD - 1],
          [RECORD - 10, 2 * RECORD + 10],
          [5, last - 5],
          [3 * RECORD, last],
          [last, last],
          [0, last],
        ];
        for (const [start, end] of ranges) {
          const read = await readAll(store.readObject(key, { start, end }));
          assert.equal(read.length, end - start + 1, `length of ${start}-${end}`);
          assert.ok(read.equals(data.subarray(start, end + 1)), `bytes of ${start}-${end}`);
        }
      });

      it('never overwrites an existing object', async () => {
        const key = id('o');
        const original = randomBytes(80 * KIB);
        await store.writeObject(key, streamOf(original));
        await assert.rejects(
          store.writeObject(key, streamOf(randomBytes(90 * KIB))),
          (error) => error instanceof ObjectExistsError && error.key === key,
        );
        assert.deepEqual(await store.statObject(key), { size: original.length });
        assert.equal(sha256(await readAll(store.readObject(key))), sha256(original));
      });

      it('leaves no object when the source fails', async () => {
        const key = `${id('o')}/partial.bin`;
        const failure = new Error('source failed');
        await assert.rejects(
          store.writeObject(key, failingStream(randomBytes(200 * KIB), failure)),
          (error) => error === failure,
        );
        assert.equal(await store.statObject(key), undefined);
        await assertReadFails(() => store.readObject(key));
        // The key is still free afterwards.
        assert.deepEqual(await store.writeObject(key, streamOf(randomBytes(5))), { size: 5 });
      });

      it('concatenates chunks in order into an object that outlives them', async () => {
        const [sessionId, fileId] = [id('s'), id('f')];
        const parts = [randomBytes(RECORD + 5), randomBytes(3 * KIB), randomBytes(RECORD - 1)];
        // Committed out of order: the object follows the indices, not the commit order.
        const offsets = [0, parts[0]!.length, parts[0]!.length + parts[1]!.length];
        for (const index of [2, 0, 1]) {
          await putChunk({ sessionId, fileId, index }, parts[index]!, offsets[index]);
        }
        const key = `${id('o')}/joined.bin`;
        const whole = Buffer.concat(parts);
        assert.deepEqual(await store.concatChunks(sessionId, fileId, 3, key), {
          size: whole.length,
        });
        assert.deepEqual(await store.listChunks(sessionId, fileId), [0, 1, 2]);
        await store.deleteChunks(sessionId, fileId);
        assert.deepEqual(await store.statObject(key), { size: whole.length });
        assert.equal(sha256(await readAll(store.readObject(key))), sha256(whole));
        const range = { start: RECORD - 2, end: RECORD + 3 * KIB + 9 };
        const read = await readAll(store.readObject(key, range));
        assert.ok(read.equals(whole.subarray(range.start, range.end + 1)));
      });

      it('concatenates only the first `count` chunks, and none into an empty object', async () => {
        const [sessionId, fileId] = [id('s'), id('f')];
        const parts = [randomBytes(1000), randomBytes(2000), randomBytes(3000)];
        for (const [index, part] of parts.entries())
          await putChunk({ sessionId, fileId, index }, part, [0, 1000, 3000][index]);
        const key = id('o');
        assert.deepEqual(await store.concatChunks(sessionId, fileId, 2, key), { size: 3000 });
        assert.equal(
          sha256(await readAll(store.readObject(key))),
          sha256(Buffer.concat(parts.slice(0, 2))),
        );
        const empty = id('o');
        assert.deepEqual(await store.concatChunks(sessionId, fileId, 0, empty), { size: 0 });
        assert.deepEqual(await store.statObject(empty), { size: 0 });
      });

      it('concatChunks leaves no object when a chunk is missing, and never overwrites', async () => {
        const [sessionId, fileId] = [id('s'), id('f')];
        await putChunk({ sessionId, fileId, index: 0 }, randomBytes(500), 0);
        await putChunk({ sessionId, fileId, index: 2 }, randomBytes(500), 1000);
        const key = `${id('o')}/gap.bin`;
        await assert.rejects(store.concatChunks(sessionId, fileId, 3, key));
        assert.equal(await store.statObject(key), undefined);

        const original = randomBytes(700);
        await store.writeObject(key, streamOf(original));
        await putChunk({ sessionId, fileId, index: 1 }, randomBytes(500), 500);
        await assert.rejects(
          store.concatChunks(sessionId, fileId, 3, key),
          (error) => error instanceof ObjectExistsError && error.key === key,
        );
        assert.equal(sha256(await readAll(store.readObject(key))), sha256(original));
      });

      it('copies an object that outlives its source', async () => {
        const source = id('src');
        const target = `${id('dst')}/copy.bin`;
        const data = randomBytes(300 * KIB);
        await store.writeObject(source, streamOf(data));
        await store.copyObject(source, target);
        await store.deleteObject(source);
        assert.equal(await store.statObject(source), undefined);
        assert.deepEqual(await store.statObject(target), { size: data.length });
        assert.equal(sha256(await readAll(store.readObject(target))), sha256(data));
      });

      it('copyObject never overwrites and fails with ENOENT for a missing source', async () => {
        const [source, target] = [id('src'), id('dst')];
        const original = randomBytes(1000);
        await store.writeObject(source, streamOf(randomBytes(2000)));
        await store.writeObject(target, streamOf(original));
        await assert.rejects(
          store.copyObject(source, target),
          (error) => error instanceof ObjectExistsError,
        );
        assert.equal(sha256(await readAll(store.readObject(target))), sha256(original));
        await assert.rejects(
          store.copyObject(id('missing'), id('dst')),
          (error) => (error as NodeJS.ErrnoException).code === 'ENOENT',
        );
      });

      it('deleteObject is idempotent', async () => {
        const key = `${id('o')}/a/b.bin`;
        await store.writeObject(key, streamOf(randomBytes(10)));
        await store.deleteObject(key);
        await store.deleteObject(key);
        await store.deleteObject(id('never'));
        assert.equal(await store.statObject(key), undefined);
        await assertReadFails(() => store.readObject(key));
      });

      it('round-trips an empty object', async () => {
        const key = id('empty');
        assert.deepEqual(await store.writeObject(key, Readable.from([])), { size: 0 });
        assert.deepEqual(await store.statObject(key), { size: 0 });
        assert.equal((await readAll(store.readObject(key))).length, 0);
      });

      it('rejects unsafe keys', async () => {
        const safe = id('safe');
        await store.writeObject(safe, streamOf(randomBytes(10)));
        const unsafe = ['', '/etc/passwd', '../escape', 'a/../../escape', 'a/..', 'a//b', 'a/'];
        unsafe.push('nul\0byte');
        const isTypeError = (error: unknown): boolean => error instanceof TypeError;
        for (const key of unsafe) {
          const label = JSON.stringify(key);
          await assert.rejects(store.writeObject(key, streamOf(randomBytes(1))), TypeError, label);
          await assert.rejects(store.statObject(key), TypeError, label);
          await assert.rejects(store.deleteObject(key), TypeError, label);
          await assert.rejects(store.copyObject(safe, key), TypeError, label);
          await assert.rejects(store.copyObject(key, id('dst')), TypeError, label);
          await assertReadFails(() => store.readObject(key), isTypeError);
        }
      });
    });
  });
}
