import { createHash, randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';
import {
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  readlink,
  rm,
  stat,
  truncate,
  unlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { blobStoreConformance } from './blob-store.conformance.js';
import { DecryptionError, HEADER_LENGTH, RECORD_LENGTH } from './encrypted-format.js';
import { ChunkBusyError } from './blob-store.js';
import { FsBlobStore } from './fs-blob-store.js';

async function tempRoot(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'fs-blob-store-'));
}

async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(Buffer.from(piece as Uint8Array));
  return Buffer.concat(pieces);
}

/** Every regular file under `dir`, recursively. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

async function flipByte(path: string, offset: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[offset] = (bytes[offset] ?? 0) ^ 0x01;
  await writeFile(path, bytes);
}

const isDecryptionError = (error: unknown): boolean => error instanceof DecryptionError;

for (const [name, options] of [
  ['FsBlobStore', {}],
  ['FsBlobStore (encrypted)', { encryptionKey: randomBytes(32) }],
  ['FsBlobStore (in place)', { inPlace: true }],
] as const) {
  blobStoreConformance(name, async () => {
    const root = await tempRoot();
    const store = await FsBlobStore.open({ root, ...options });
    return { store, cleanup: () => rm(root, { recursive: true, force: true }) };
  });
}

describe('FsBlobStore on disk', () => {
  let root: string;
  let store: FsBlobStore;

  before(async () => {
    root = await tempRoot();
    store = await FsBlobStore.open({ root });
  });

  after(() => rm(root, { recursive: true, force: true }));

  it('uses the documented layout', async () => {
    const staged = await store.stageChunk(
      { sessionId: 'sess', fileId: 'file', index: 3 },
      Readable.from([Buffer.from('abc')]),
    );
    await staged.commit();
    await store.writeObject('dir/name.txt', Readable.from([Buffer.from('xyz')]));
    assert.equal(await readFile(join(root, 'chunks/sess/file/00000003'), 'utf8'), 'abc');
    assert.equal(await readFile(join(root, 'objects/dir/name.txt'), 'utf8'), 'xyz');
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('does not list leftover temp files or stray names as chunks', async () => {
    const ref = { sessionId: 'leftover', fileId: 'file', index: 1 };
    await (await store.stageChunk(ref, Readable.from([Buffer.from('one')]))).commit();
    await writeFile(join(root, 'tmp', 'chunk.leftover.file.2.deadbeef'), 'half written');
    await writeFile(join(root, 'chunks/leftover/file/.00000004.swp'), 'junk');
    assert.deepEqual(await store.listChunks('leftover', 'file'), [1]);
    await store.deleteChunks('leftover', 'file');
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('removes temp files after failed and refused writes', async () => {
    const failing = Readable.from(
      (async function* () {
        yield randomBytes(1000);
        throw new Error('boom');
      })(),
    );
    await assert.rejects(store.stageChunk({ sessionId: 's', fileId: 'f', index: 0 }, failing));
    await store.writeObject('taken', Readable.from([Buffer.from('first')]));
    await assert.rejects(store.writeObject('taken', Readable.from([Buffer.from('second')])));
    assert.deepEqual(await readdir(join(root, 'tmp')), []);
  });

  it('prunes directories emptied by deleteObject, up to objects/', async () => {
    await store.writeObject('deep/er/still/file', Readable.from([Buffer.from('x')]));
    await store.writeObject('deep/sibling', Readable.from([Buffer.from('y')]));
    await store.deleteObject('deep/er/still/file');
    assert.deepEqual(await readdir(join(root, 'objects/deep')), ['sibling']);
    await store.deleteObject('deep/sibling');
    assert.deepEqual((await readdir(join(root, 'objects'))).sort(), ['dir', 'taken']);
    // The freed prefix can now be an object itself.
    await store.writeObject('deep', Readable.from([Buffer.from('z')]));
    assert.deepEqual(await store.statObject('deep'), { size: 1 });
  });

  it('treats a directory as a prefix, not an object', async () => {
    assert.equal(await store.statObject('dir'), undefined);
  });

  it('leaves no directories behind when copying a missing object', async () => {
    await assert.rejects(store.copyObject('missing', 'fresh/prefix/copy'), { code: 'ENOENT' });
    await assert.rejects(stat(join(root, 'objects/fresh')), { code: 'ENOENT' });
  });

  it('rejects unsafe session ids, file ids, indices and keys', async () => {
    const body = (): Readable => Readable.from([Buffer.from('x')]);
    for (const bad of ['', '..', 'a/b', 'a.b', 'x'.repeat(129), 'nul\0']) {
      await assert.rejects(store.stageChunk({ sessionId: bad, fileId: 'f', index: 0 }, body()));
      await assert.rejects(store.stageChunk({ sessionId: 's', fileId: bad, index: 0 }, body()));
      await assert.rejects(store.listChunks(bad, 'f'), TypeError);
      await assert.rejects(store.deleteChunks('s', bad), TypeError);
      await assert.rejects(store.deleteSessionChunks(bad), TypeError);
      assert.throws(() => store.readChunk({ sessionId: bad, fileId: 'f', index: 0 }), TypeError);
    }
    for (const index of [-1, 1.5, Number.NaN]) {
      await assert.rejects(store.stageChunk({ sessionId: 's', fileId: 'f', index }, body()));
    }
    for (const key of ['./a', 'a/./b', 'a\\..\\b']) {
      await assert.rejects(store.writeObject(key, body()), TypeError);
    }
  });

  it('rejects malformed ranges', () => {
    assert.throws(() => store.readObject('taken', { start: 5, end: 4 }), RangeError);
    assert.throws(() => store.readObject('taken', { start: -1, end: 4 }), RangeError);
  });

  it('rejects an encryption key of the wrong length', () => {
    assert.throws(() => new FsBlobStore({ root, encryptionKey: randomBytes(16) }), RangeError);
  });
});

describe('FsBlobStore writing chunks in place', () => {
  let root: string;
  let store: FsBlobStore;
  let n = 0;
  const file = () => ({ sessionId: 'sess', fileId: `file${++n}` });

  before(async () => {
    root = await tempRoot();
    store = await FsBlobStore.open({ root, inPlace: true });
  });

  after(() => rm(root, { recursive: true, force: true }));

  async function put(
    ref: { sessionId: string; fileId: string; index: number },
    data: Buffer,
    offset: number,
  ) {
    const staged = await store.stageChunk(ref, Readable.from([data]), {
      offset,
      length: data.length,
    });
    return staged.commit();
  }

  it('writes each chunk at its offset of one file, and assembly links that file', async () => {
    const ids = file();
    const parts = [randomBytes(300_000), randomBytes(300_000), randomBytes(12_345)];
    for (const index of [2, 0, 1]) {
      assert.equal(await put({ ...ids, index }, parts[index]!, index * 300_000), 'created');
    }
    const dir = join(root, 'chunks', ids.sessionId, ids.fileId);
    assert.deepEqual((await readdir(dir)).sort(), [
      '00000000.at',
      '00000001.at',
      '00000002.at',
      'data',
    ]);
    assert.equal(await readlink(join(dir, '00000001.at')), '300000 300000');
    assert.ok((await readAll(store.readChunk({ ...ids, index: 1 }))).equals(parts[1]!));
    // A marker of an earlier version (a file holding "offset length\n") reads the same.
    await unlink(join(dir, '00000001.at'));
    await writeFile(join(dir, '00000001.at'), '300000 300000\n');
    assert.ok((await readAll(store.readChunk({ ...ids, index: 1 }))).equals(parts[1]!));

    const whole = Buffer.concat(parts);
    assert.deepEqual(await store.concatChunks(ids.sessionId, ids.fileId, 3, 'k/joined.bin'), {
      size: whole.length,
    });
    const object = join(root, 'objects/k/joined.bin');
    assert.equal(
      (await stat(object)).ino,
      (await stat(join(dir, 'data'))).ino,
      'linked, not copied',
    );
    await store.deleteChunks(ids.sessionId, ids.fileId);
    assert.ok((await readFile(object)).equals(whole));
  });

  it("never writes past a chunk's range, nor over a stored chunk", async () => {
    const ids = file();
    const second = randomBytes(100);
    await put({ ...ids, index: 1 }, second, 100);
    const long = Readable.from([randomBytes(150)]);
    await assert.rejects(
      store.stageChunk({ ...ids, index: 0 }, long, { offset: 0, length: 100 }),
      RangeError,
    );
    assert.deepEqual(await store.listChunks(ids.sessionId, ids.fileId), [1]);
    assert.equal(await put({ ...ids, index: 1 }, randomBytes(100), 100), 'exists');
    assert.ok((await readAll(store.readChunk({ ...ids, index: 1 }))).equals(second));
    const first = randomBytes(100);
    assert.equal(await put({ ...ids, index: 0 }, first, 0), 'created');
    assert.deepEqual(await store.concatChunks(ids.sessionId, ids.fileId, 2, 'k/two.bin'), {
      size: 200,
    });
    assert.ok(
      (await readFile(join(root, 'objects/k/two.bin'))).equals(Buffer.concat([first, second])),
    );
  });

  it('hashes what it staged itself, and a body it dropped as stored already', async () => {
    assert.equal(store.hashesStagedChunks, true);
    const ids = file();
    const bytes = randomBytes(700_000);
    const sha = (b: Buffer) => createHash('sha256').update(b).digest();
    const first = await store.stageChunk({ ...ids, index: 1 }, Readable.from([bytes]), {
      offset: 700_000,
      length: bytes.length,
    });
    assert.ok((await first.digest?.())?.equals(sha(bytes)));
    assert.equal(await first.commit(), 'created');
    await first.discard();
    // Sent again with other bytes: nothing is written, and the digest is of what came.
    const other = randomBytes(700_000);
    const again = await store.stageChunk({ ...ids, index: 1 }, Readable.from([other]), {
      offset: 700_000,
      length: other.length,
    });
    assert.ok((await again.digest?.())?.equals(sha(other)));
    assert.equal(await again.commit(), 'exists');
    assert.ok((await readAll(store.readChunk({ ...ids, index: 1 }))).equals(bytes));
  });

  it('tells a second writer of a chunk that is being written that it is busy', async () => {
    const ref = { ...file(), index: 0 };
    const body = new PassThrough();
    const first = store.stageChunk(ref, body, { offset: 0, length: 6 });
    body.write('abc');
    await new Promise((resolve) => setImmediate(resolve));
    await assert.rejects(
      store.stageChunk(ref, Readable.from([Buffer.from('xyzxyz')]), { offset: 0, length: 6 }),
      ChunkBusyError,
    );
    body.end('def');
    assert.equal(await (await first).commit(), 'created');
    assert.equal((await readAll(store.readChunk(ref))).toString(), 'abcdef');
  });

  it('lets a chunk sent again wait for its first try to fail, then stores it', async () => {
    const ref = { ...file(), index: 0 };
    const dropped = new PassThrough();
    dropped.on('error', () => {}); // reported through the staging's rejection
    const first = store.stageChunk(ref, dropped, { offset: 0, length: 6 });
    dropped.write('abc');
    await new Promise((resolve) => setImmediate(resolve));
    const again = store.stageChunk(ref, Readable.from([Buffer.from('abcdef')]), {
      offset: 0,
      length: 6,
    });
    dropped.destroy(new Error('connection reset')); // the first try's connection drops
    await assert.rejects(first, /connection reset/);
    assert.equal(await (await again).commit(), 'created');
    assert.equal((await readAll(store.readChunk(ref))).toString(), 'abcdef');
  });

  it('assembles chunks stored before it wrote in place, by copying them', async () => {
    const ids = file();
    const plain = await FsBlobStore.open({ root });
    const parts = [randomBytes(1000), randomBytes(500)];
    await (await plain.stageChunk({ ...ids, index: 0 }, Readable.from([parts[0]!]))).commit();
    assert.equal(await put({ ...ids, index: 1 }, parts[1]!, 1000), 'created');
    assert.deepEqual(await store.listChunks(ids.sessionId, ids.fileId), [0, 1]);
    assert.deepEqual(await store.concatChunks(ids.sessionId, ids.fileId, 2, 'k/mixed.bin'), {
      size: 1500,
    });
    assert.ok((await readFile(join(root, 'objects/k/mixed.bin'))).equals(Buffer.concat(parts)));
  });
});

describe('FsBlobStore encryption at rest', () => {
  let root: string;
  let store: FsBlobStore;
  const key = randomBytes(32);
  // Four records and a bit, so damage can land in a record other than the first.
  const plaintext = randomBytes(4 * 64 * 1024 + 500);

  before(async () => {
    root = await tempRoot();
    store = await FsBlobStore.open({ root, encryptionKey: key });
  });

  after(() => rm(root, { recursive: true, force: true }));

  async function writeSample(name: string): Promise<string> {
    await store.writeObject(name, Readable.from([plaintext]));
    return join(root, 'objects', name);
  }

  it('never stores the plaintext', async () => {
    const text = Buffer.from('a very recognizable plaintext line\n'.repeat(5000));
    await store.writeObject('text.txt', Readable.from([text]));
    const staged = await store.stageChunk(
      { sessionId: 's', fileId: 'f', index: 0 },
      Readable.from([text]),
    );
    await staged.commit();
    await writeSample('random.bin');
    const files = await filesUnder(root);
    assert.equal(files.length, 3);
    for (const file of files) {
      const raw = await readFile(file);
      assert.equal(raw.subarray(0, 4).toString('ascii'), 'FUE1', file);
      assert.ok(!raw.includes('recognizable plaintext'), file);
      for (const offset of [0, 1000, 70_000, 200_000]) {
        assert.ok(!raw.includes(plaintext.subarray(offset, offset + 32)), `${file} @${offset}`);
      }
    }
  });

  it('errors when one byte is flipped', async () => {
    const path = await writeSample('flipped.bin');
    await flipByte(path, HEADER_LENGTH + 2 * RECORD_LENGTH + 100);
    await assert.rejects(readAll(store.readObject('flipped.bin')), isDecryptionError);
    const inRecord2 = { start: 2 * 64 * 1024 + 10, end: 2 * 64 * 1024 + 20 };
    await assert.rejects(readAll(store.readObject('flipped.bin', inRecord2)), isDecryptionError);
    // Records that were not touched still authenticate on their own.
    const untouched = await readAll(store.readObject('flipped.bin', { start: 0, end: 99 }));
    assert.ok(untouched.equals(plaintext.subarray(0, 100)));
  });

  it('errors when a header byte is flipped', async () => {
    const path = await writeSample('header.bin');
    await flipByte(path, 6);
    await assert.rejects(readAll(store.readObject('header.bin')), isDecryptionError);
  });

  it('errors when the file is truncated', async () => {
    const { size } = await stat(await writeSample('cut.bin'));
    const cuts = [
      HEADER_LENGTH + 2 * RECORD_LENGTH, // at a record boundary
      size - 1, // inside the final record
      HEADER_LENGTH + 5, // shorter than any record
      2, // inside the header
    ];
    for (const length of cuts) {
      await truncate(join(root, 'objects', 'cut.bin'), length);
      await assert.rejects(readAll(store.readObject('cut.bin')), isDecryptionError, `${length}`);
    }
  });

  it('errors with the wrong key', async () => {
    await writeSample('wrong-key.bin');
    const other = await FsBlobStore.open({ root, encryptionKey: randomBytes(32) });
    await assert.rejects(readAll(other.readObject('wrong-key.bin')), isDecryptionError);
    const ref = { sessionId: 's', fileId: 'f', index: 0 };
    await assert.rejects(readAll(other.readChunk(ref)), isDecryptionError);
    await assert.rejects(readAll(other.readObject('wrong-key.bin', { start: 5, end: 6 })));
  });

  it('errors on a file that was never encrypted', async () => {
    await mkdir(join(root, 'objects'), { recursive: true });
    await writeFile(join(root, 'objects', 'plain.bin'), randomBytes(1000));
    await assert.rejects(readAll(store.readObject('plain.bin')), isDecryptionError);
  });
});
