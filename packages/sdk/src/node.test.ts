import { strict as assert } from 'node:assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CONTENT_HASH_BLOCK_SIZE } from '@file-uploader/protocol';
import { FileHasher } from './file-hasher.js';
import { hashBlocks, readSlice } from './hashing.js';
import {
  FileResumeStore,
  fileFromBuffer,
  fileFromPath,
  fileFromStream,
  guessType,
  type ResumeRecord,
} from '@file-uploader/sdk/node';

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** The SHA-256 of each 4 MiB block of `bytes`, one after another (what `hashBlocks` keeps). */
function blockDigests(bytes: Buffer): Buffer {
  const digests: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += CONTENT_HASH_BLOCK_SIZE) {
    digests.push(
      createHash('sha256')
        .update(bytes.subarray(at, at + CONTENT_HASH_BLOCK_SIZE))
        .digest(),
    );
  }
  return Buffer.concat(digests);
}

/** SHA-256 of a blob, streamed (never the whole blob in memory). */
async function blobSha256(blob: Blob): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of blob.stream() as unknown as AsyncIterable<Uint8Array>) {
    hash.update(chunk);
  }
  return hash.digest('hex');
}

function record(key: string, overrides: Partial<ResumeRecord> = {}): ResumeRecord {
  return {
    key,
    endpoint: 'http://uploads.example/api/v1/upload',
    sessionId: 'session-1',
    fileId: `file-${key.length}`,
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    chunkSize: 256 * 1024,
    name: 'report.pdf',
    size: 1234,
    type: 'application/pdf',
    lastModified: 1_700_000_000_000,
    contentHash: 'a'.repeat(64),
    ...overrides,
  };
}

let dir: string;
before(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'sdk-node-test-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('FileResumeStore', () => {
  it('round-trips records, and a new instance over the same directory sees them', async () => {
    const folder = path.join(dir, 'records', 'nested');
    const store = new FileResumeStore(folder);
    assert.deepEqual(await store.list(), [], 'a missing directory holds no records');
    assert.equal(await store.get('nothing'), undefined);

    const a = record('fu1|http://uploads.example/api/v1/upload|a/b.pdf|1234|application/pdf|1');
    const b = record('fu1|other|x.png|99|image/png|', { name: 'x.png', type: 'image/png' });
    await store.set(a);
    await store.set(b);
    await store.set({ ...a, sessionId: 'session-2' }); // overwrite
    assert.deepEqual(await store.get(a.key), { ...a, sessionId: 'session-2' });

    const again = new FileResumeStore(folder);
    const listed = (await again.list()).sort((x, y) => x.key.localeCompare(y.key));
    assert.deepEqual(
      listed,
      [{ ...a, sessionId: 'session-2' }, b].sort((x, y) => x.key.localeCompare(y.key)),
    );
    const names = await readdir(folder);
    assert.equal(names.length, 2, `one file per record, no temporary files left: ${names}`);
    assert.ok(names.every((n) => n.endsWith('.json')));

    await again.delete(a.key);
    await again.delete('never-there'); // no error
    assert.equal(await store.get(a.key), undefined);
    assert.deepEqual(await store.list(), [b]);
  });

  it('ignores damaged and foreign files in its directory', async () => {
    const folder = path.join(dir, 'damaged');
    const store = new FileResumeStore(folder);
    const good = record('good');
    await store.set(good);
    await writeFile(path.join(folder, 'broken.json'), '{"key": "half');
    await writeFile(path.join(folder, 'other.json'), '[1, 2, 3]');
    await writeFile(path.join(folder, 'x.json.123.tmp'), '{}');
    assert.deepEqual(await store.list(), [good]);
  });

  it('keeps no bytes', () => {
    const store = new FileResumeStore(dir);
    assert.equal('saveBytes' in store, false);
    assert.equal('loadBytes' in store, false);
  });
});

describe('upload sources', () => {
  it('fileFromPath: lazy blob, name, type from the extension, lastModified from stat', async () => {
    const file = path.join(dir, 'Quarterly Report.PDF');
    const bytes = randomBytes(300_000);
    await writeFile(file, bytes);
    const mtime = new Date('2024-05-06T07:08:09.123Z');
    await utimes(file, mtime, mtime);

    const source = await fileFromPath(file);
    assert.equal(source.name, 'Quarterly Report.PDF');
    assert.equal(source.type, 'application/pdf');
    assert.equal(source.blob.type, 'application/pdf');
    assert.equal(source.blob.size, bytes.length);
    // utimes takes float seconds: the stored time may be a hair under the one set.
    assert.ok(
      Math.abs((source.lastModified ?? 0) - mtime.getTime()) <= 1,
      `${source.lastModified}`,
    );
    assert.equal(await blobSha256(source.blob), sha256(bytes));
    // Slices read only their range.
    const slice = new Uint8Array(await source.blob.slice(1000, 2000).arrayBuffer());
    assert.deepEqual(slice, new Uint8Array(bytes.subarray(1000, 2000)));

    const named = await fileFromPath(file, { name: 'other.bin', type: 'image/png' });
    assert.equal(named.name, 'other.bin');
    assert.equal(named.type, 'image/png');

    await assert.rejects(fileFromPath(path.join(dir, 'missing.pdf')), { code: 'ENOENT' });
    await assert.rejects(fileFromPath(dir), TypeError);
  });

  it('fileFromPath: ranges are read from the file, and a file changed since is refused', async () => {
    const file = path.join(dir, 'changing.pdf');
    const bytes = randomBytes(200_000);
    await writeFile(file, bytes);
    const source = await fileFromPath(file);
    const read = await readSlice(source.blob, 5000, 70_000);
    assert.ok(Buffer.from(read).equals(bytes.subarray(5000, 70_000)));
    await writeFile(file, randomBytes(200_001));
    await assert.rejects(readSlice(source.blob, 0, 10), { code: 'file_changed' });
  });

  it('fileFromPath: a large file is hashed on the hashing thread, and refused once changed', async () => {
    const file = path.join(dir, 'large.pdf');
    const bytes = randomBytes(4 * CONTENT_HASH_BLOCK_SIZE + 12_345); // past the thread's threshold
    await writeFile(file, bytes);
    const blocks = blockDigests(bytes);

    const source = await fileFromPath(file);
    const hashes = await hashBlocks(source.blob, new AbortController().signal);
    assert.equal(hashes.contentHash, sha256(blocks));
    assert.ok(Buffer.from(hashes.blocks).equals(blocks));

    // The same size, other bytes: only the modification time tells.
    await writeFile(file, randomBytes(bytes.length));
    await utimes(file, new Date(), new Date(Date.now() + 5000));
    await assert.rejects(hashBlocks(source.blob, new AbortController().signal), {
      code: 'file_changed',
    });
  });

  it('fileFromBuffer: hashed through the streams of windows of its Blob, past the first', async () => {
    // Node's Blob stream hands out a whole window in one piece: blocks are cut out of it.
    const bytes = randomBytes(9 * CONTENT_HASH_BLOCK_SIZE + 7);
    const blocks = blockDigests(bytes);
    const source = fileFromBuffer(bytes, 'memo.pdf');
    const hashes = await hashBlocks(source.blob, new AbortController().signal);
    assert.ok(Buffer.from(hashes.blocks).equals(blocks));
    assert.equal(hashes.contentHash, sha256(blocks));
  });

  it('FileHasher: the SHA-256 of a range, and clear failures', async () => {
    const file = path.join(dir, 'ranges.bin');
    const bytes = randomBytes(3 * 1024 * 1024 + 7); // more than the thread's 1 MiB buffer
    await writeFile(file, bytes);
    const info = await stat(file, { bigint: true });
    const opened = { path: file, size: info.size, mtimeNs: info.mtimeNs };
    const hasher = new FileHasher();
    const digest = (start: number, end: number) =>
      createHash('sha256').update(bytes.subarray(start, end)).digest('hex');
    const ranges: Array<[number, number]> = [
      [0, bytes.length],
      [1, 1_048_577],
      [2_000_000, 3_145_735],
      [5, 5],
    ];
    const got = await Promise.all(ranges.map(([a, b]) => hasher.sha256(opened, a, b)));
    assert.deepEqual(
      got.map((d) => Buffer.from(d).toString('hex')),
      ranges.map(([a, b]) => digest(a, b)),
    );
    await assert.rejects(hasher.sha256(opened, 0, bytes.length + 1), /ended before byte/);
    await assert.rejects(hasher.sha256({ ...opened, size: opened.size + 1n }, 0, 10), /changed/);
    await assert.rejects(hasher.sha256({ ...opened, path: `${file}.missing` }, 0, 10), /ENOENT/);
    // Still serves after failures.
    assert.equal(Buffer.from(await hasher.sha256(opened, 0, 100)).toString('hex'), digest(0, 100));
  });

  it('guesses types from the protocol table, octet-stream otherwise', () => {
    assert.equal(guessType('a.jpeg'), 'image/jpeg');
    assert.equal(guessType('a.JFIF'), 'image/jpeg');
    assert.equal(guessType('a.xlsx'), FILE_XLSX);
    assert.equal(guessType('a.png'), 'image/png');
    assert.equal(guessType('a.exe'), 'application/octet-stream');
    assert.equal(guessType('README'), 'application/octet-stream');
  });

  it('fileFromBuffer: the same bytes, from a Uint8Array or an ArrayBuffer', async () => {
    const bytes = randomBytes(123_457);
    const source = fileFromBuffer(bytes, 'scan.png');
    assert.equal(source.type, 'image/png');
    assert.equal(source.name, 'scan.png');
    assert.equal(await blobSha256(source.blob), sha256(bytes));

    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
    const fromAb = fileFromBuffer(copy, 'data.bin', 'application/x-custom');
    assert.equal(fromAb.type, 'application/x-custom');
    assert.equal(await blobSha256(fromAb.blob), sha256(bytes));
  });

  it('fileFromStream: spools to a temporary file that dispose() removes', async () => {
    const parts = Array.from({ length: 20 }, () => randomBytes(65_537));
    const whole = Buffer.concat(parts);
    const source = await fileFromStream(Readable.from(parts), 'photo.jpg');
    assert.equal(source.type, 'image/jpeg');
    assert.equal(source.blob.size, whole.length);
    assert.equal(await blobSha256(source.blob), sha256(whole));

    const spools = (await readdir(os.tmpdir())).filter((n) => n.startsWith('file-uploader-'));
    assert.ok(spools.length > 0, 'the spool lives in os.tmpdir()');
    await source.dispose();
    const left = (await readdir(os.tmpdir())).filter((n) => n.startsWith('file-uploader-'));
    assert.equal(left.length, spools.length - 1);
    await source.dispose(); // twice is fine
  });

  it('fileFromStream takes web streams, and cleans up when the stream fails', async () => {
    const bytes = randomBytes(10_000);
    const web = new Blob([bytes]).stream();
    const source = await fileFromStream(web, 'x.pdf', 'application/pdf');
    assert.equal(await blobSha256(source.blob), sha256(bytes));
    await source.dispose();

    const before = (await readdir(os.tmpdir())).filter((n) => n.startsWith('file-uploader-'));
    async function* failing() {
      yield new Uint8Array(100);
      throw new Error('source broke');
    }
    await assert.rejects(fileFromStream(failing(), 'x.pdf'), /source broke/);
    const afterFail = (await readdir(os.tmpdir())).filter((n) => n.startsWith('file-uploader-'));
    assert.deepEqual(afterFail.sort(), before.sort());
  });

  it('a 50 MiB file from a path is not read into memory', async () => {
    const file = path.join(dir, 'big.pdf');
    const piece = randomBytes(1024 * 1024);
    const hash = createHash('sha256');
    const handle = await open(file, 'w');
    for (let i = 0; i < 50; i++) {
      piece[0] = i;
      hash.update(piece);
      await handle.write(piece);
    }
    await handle.close();
    assert.equal((await stat(file)).size, 50 * 1024 * 1024);

    globalThis.gc?.();
    const before = process.memoryUsage().rss;
    const source = await fileFromPath(file);
    const grown = process.memoryUsage().rss - before;
    assert.equal(source.blob.size, 50 * 1024 * 1024);
    assert.ok(grown < 20 * 1024 * 1024, `rss grew by ${(grown / 1024 / 1024).toFixed(1)} MiB`);
    // Streaming it through a hash reads it piece by piece and gives the same digest.
    assert.equal(await blobSha256(source.blob), hash.digest('hex'));
    assert.ok(existsSync(file));
  });
});

const FILE_XLSX = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';
