import { randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { CRC32C } from '@google-cloud/storage';
import { startGcsEmulator, type GcsEmulator } from '../../../test/gcs-emulator/index.js';
import { blobStoreConformance } from './blob-store.conformance.js';
import { ObjectExistsError, type ChunkRef } from './blob-store.js';
import { crc32cCombine, crc32cFromBase64 } from './crc32c-combine.js';
import { GcsBlobStore, type GcsBlobStoreOptions } from './gcs-blob-store.js';

let emulator: GcsEmulator | undefined;
let buckets = 0;

/** One emulator for the file; each store gets a fresh bucket. */
async function freshStore(
  options: Partial<GcsBlobStoreOptions> = {},
): Promise<{ store: GcsBlobStore; bucket: string; gcs: GcsEmulator }> {
  emulator ??= await startGcsEmulator();
  const gcs = emulator;
  const bucket = `uploads-${++buckets}-${randomBytes(3).toString('hex')}`;
  await gcs.storage().createBucket(bucket, { versioning: { enabled: true } });
  const store = new GcsBlobStore({ bucket, storage: gcs.storage(), ...options });
  return { store, bucket, gcs };
}

after(async () => {
  await emulator?.stop();
});

const KMS_KEY = 'projects/p/locations/global/keyRings/uploads/cryptoKeys/blobs';

for (const [label, options] of [
  ['GcsBlobStore', {}],
  ['GcsBlobStore (Cloud KMS key)', { kmsKeyName: KMS_KEY }],
  ['GcsBlobStore (customer-supplied key)', { encryptionKey: randomBytes(32) }],
] as const) {
  blobStoreConformance(label, async () => {
    const { store } = await freshStore(options);
    return { store, cleanup: async () => {} };
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const pieces: Buffer[] = [];
  for await (const piece of stream) pieces.push(Buffer.from(piece as Uint8Array));
  return Buffer.concat(pieces);
}

function crc32cOf(...buffers: Buffer[]): number {
  const crc = new CRC32C();
  for (const buffer of buffers) crc.update(buffer);
  return crc.valueOf() >>> 0;
}

/** Names of the live objects in a bucket of the emulator. */
function liveNames(gcs: GcsEmulator, bucket: string): string[] {
  return [...gcs.state.bucket(bucket).live.keys()].sort();
}

async function putChunk(store: GcsBlobStore, ref: ChunkRef, data: Buffer): Promise<string> {
  return (await store.stageChunk(ref, Readable.from([data]))).commit();
}

describe('crc32cCombine', () => {
  it('equals the CRC32C of the concatenated bytes', () => {
    for (const [a, b] of [
      [0, 0],
      [1, 0],
      [0, 1],
      [1, 1],
      [3, 5],
      [1000, 4096],
      [65_537, 1_048_583],
      [7, 3 * 1024 * 1024 + 1],
    ] as const) {
      const [first, second] = [randomBytes(a), randomBytes(b)];
      const combined = crc32cCombine(crc32cOf(first), crc32cOf(second), b);
      assert.equal(combined, crc32cOf(first, second), `${a} + ${b} bytes`);
    }
  });

  it('is associative over lengths beyond 4 GiB', () => {
    const [x, y, z] = [0x12345678, 0x9abcdef0, 0x0fedcba9];
    const [ly, lz] = [5 * 2 ** 32 + 3, 2 ** 33 + 17];
    const left = crc32cCombine(crc32cCombine(x, y, ly), z, lz);
    const right = crc32cCombine(x, crc32cCombine(y, z, lz), ly + lz);
    assert.equal(left, right);
  });

  it('decodes the base64 form GCS reports', () => {
    const data = Buffer.from('123456789');
    assert.equal(
      crc32cFromBase64(Buffer.from([0xe3, 0x06, 0x92, 0x83]).toString('base64')),
      0xe3069283,
    );
    assert.equal(crc32cOf(data), 0xe3069283);
  });
});

describe('GcsBlobStore on the emulator', () => {
  let store: GcsBlobStore;
  let bucket: string;
  let gcs: GcsEmulator;

  before(async () => {
    ({ store, bucket, gcs } = await freshStore());
  });

  it('uses the documented layout and leaves no temporaries after commit', async () => {
    await putChunk(store, { sessionId: 'sess', fileId: 'file', index: 3 }, Buffer.from('abc'));
    await store.writeObject('user/dir/name.txt', Readable.from([Buffer.from('xyz')]));
    const names = liveNames(gcs, bucket);
    assert.deepEqual(names, ['objects/user/dir/name.txt', 'staging/sess/file/00000003']);
    await store.deleteSessionChunks('sess');
    assert.deepEqual(liveNames(gcs, bucket), ['objects/user/dir/name.txt']);
  });

  it('lets exactly one of several instances commit an index, atomically', async () => {
    const ref = { sessionId: 'race', fileId: 'f', index: 0 };
    const instances = Array.from(
      { length: 3 },
      () => new GcsBlobStore({ bucket, storage: gcs.storage() }),
    );
    const bodies = Array.from({ length: 6 }, () => randomBytes(30 * 1024));
    const staged = await Promise.all(
      bodies.map((body, i) => instances[i % 3]!.stageChunk(ref, Readable.from([body]))),
    );
    const outcomes = await Promise.all(staged.map((chunk) => chunk.commit()));
    assert.deepEqual(outcomes.filter((o) => o === 'created').length, 1);
    const winner = bodies[outcomes.indexOf('created')]!;
    assert.ok((await readAll(store.readChunk(ref))).equals(winner));
    await Promise.all(staged.map((chunk) => chunk.discard()));
    assert.deepEqual(
      liveNames(gcs, bucket).filter((name) => name.startsWith('staging/race/')),
      ['staging/race/f/00000000'],
      'no temporaries left',
    );
  });

  it('reads a missing chunk as an ENOENT error', async () => {
    const missing = store.readChunk({ sessionId: 'nobody', fileId: 'none', index: 0 });
    await assert.rejects(readAll(missing), { code: 'ENOENT' });
    await assert.rejects(readAll(store.readObject('no/such/object')), { code: 'ENOENT' });
  });

  it('composes 70 chunks through a tree of composes and removes the intermediates', async () => {
    const [sessionId, fileId] = ['tree', 'f70'];
    const parts = Array.from({ length: 70 }, (_, i) => randomBytes(1000 + i));
    await Promise.all(
      parts.map((part, index) => putChunk(store, { sessionId, fileId, index }, part)),
    );
    const whole = Buffer.concat(parts);
    assert.deepEqual(await store.concatChunks(sessionId, fileId, 70, 'u/tree/f70/out.bin'), {
      size: whole.length,
    });
    const [metadata] = await gcs
      .storage()
      .bucket(bucket)
      .file('objects/u/tree/f70/out.bin')
      .getMetadata();
    assert.equal(metadata.componentCount, 70);
    assert.equal(crc32cFromBase64(metadata.crc32c!), crc32cOf(whole));
    assert.ok((await readAll(store.readObject('u/tree/f70/out.bin'))).equals(whole));
    assert.deepEqual(
      liveNames(gcs, bucket).filter((name) => name.includes('/compose/')),
      [],
      'intermediates deleted',
    );
  });

  it('refuses a composed object whose CRC32C differs from its parts and keeps none', async () => {
    const [sessionId, fileId] = ['bad', 'crc'];
    for (const index of [0, 1])
      await putChunk(store, { sessionId, fileId, index }, randomBytes(500));
    // A chunk whose stored checksum no longer matches its bytes, as after silent corruption.
    const chunk = gcs.state.bucket(bucket).live.get('staging/bad/crc/00000001')!;
    chunk.content = { ...chunk.content, crc32c: Buffer.from([1, 2, 3, 4]).toString('base64') };
    await assert.rejects(store.concatChunks(sessionId, fileId, 2, 'u/bad.bin'), /CRC32C/);
    assert.equal(await store.statObject('u/bad.bin'), undefined);
  });

  it('never overwrites a final object, so versioning has nothing to restore', async () => {
    await store.writeObject('u/once.bin', Readable.from([Buffer.from('first')]));
    await putChunk(store, { sessionId: 'again', fileId: 'f', index: 0 }, Buffer.from('second'));
    await assert.rejects(store.concatChunks('again', 'f', 1, 'u/once.bin'), ObjectExistsError);
    await assert.rejects(store.copyObject('user/dir/name.txt', 'u/once.bin'), ObjectExistsError);
    await assert.rejects(
      store.writeObject('u/once.bin', Readable.from([Buffer.from('third')])),
      ObjectExistsError,
    );
    assert.equal((await readAll(store.readObject('u/once.bin'))).toString(), 'first');
    assert.equal(gcs.state.bucket(bucket).noncurrent.get('objects/u/once.bin'), undefined);
  });

  it('signs download URLs that serve the object as an attachment until they expire', async () => {
    const data = randomBytes(5000);
    await store.writeObject('u/report.pdf', Readable.from([data]));
    const url = await store.signedDownloadUrl('u/report.pdf', {
      filename: 'Résumé "final".pdf',
      expiresInSeconds: 60,
    });
    assert.ok(url !== undefined);
    assert.ok(url.startsWith(`${gcs.url}/${bucket}/objects/u/report.pdf?X-Goog-Algorithm=`));
    const ok = await fetch(url);
    assert.equal(ok.status, 200);
    assert.equal(
      ok.headers.get('content-disposition'),
      `attachment; filename="R_sum_ _final_.pdf"; filename*=UTF-8''R%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
    assert.ok(Buffer.from(await ok.arrayBuffer()).equals(data));
    const tampered = url.replace('attachment', 'inline');
    assert.equal((await fetch(tampered)).status, 403);
    gcs.advanceClock(61_000);
    try {
      assert.equal((await fetch(url)).status, 400);
    } finally {
      gcs.advanceClock(-61_000);
    }
  });

  it('lists staging objects older than a cutoff for the cleanup job', async () => {
    await putChunk(store, { sessionId: 'stale', fileId: 'f1', index: 0 }, randomBytes(10));
    await putChunk(store, { sessionId: 'stale', fileId: 'f2', index: 4 }, randomBytes(20));
    const future = new Date(gcs.state.now().getTime() + 60_000);
    const stale = (await store.listStagingOlderThan(future)).filter((o) => o.sessionId === 'stale');
    assert.deepEqual(
      stale.map(({ name, fileId, size }) => ({ name, fileId, size })),
      [
        { name: 'staging/stale/f1/00000000', fileId: 'f1', size: 10 },
        { name: 'staging/stale/f2/00000004', fileId: 'f2', size: 20 },
      ],
    );
    const past = new Date(gcs.state.now().getTime() - 60_000);
    assert.deepEqual(await store.listStagingOlderThan(past), []);
    await store.deleteSessionChunks('stale');
    assert.deepEqual(
      (await store.listStagingOlderThan(future)).filter((o) => o.sessionId === 'stale'),
      [],
    );
  });

  it('rejects bad options', () => {
    assert.throws(() => new GcsBlobStore({ bucket, encryptionKey: randomBytes(16) }), RangeError);
    const both = { bucket, encryptionKey: randomBytes(32), kmsKeyName: KMS_KEY };
    assert.throws(() => new GcsBlobStore(both), TypeError);
    assert.throws(
      () => new GcsBlobStore({ bucket, objectPrefix: 'a/', stagingPrefix: 'a/b/' }),
      TypeError,
    );
    assert.throws(() => new GcsBlobStore({ bucket, objectPrefix: 'no-slash' }), TypeError);
  });
});

describe('GcsBlobStore encryption', () => {
  it('writes every object under the Cloud KMS key', async () => {
    const { store, bucket, gcs } = await freshStore({ kmsKeyName: KMS_KEY });
    await putChunk(store, { sessionId: 's', fileId: 'f', index: 0 }, randomBytes(100));
    await store.concatChunks('s', 'f', 1, 'k/joined.bin');
    await store.copyObject('k/joined.bin', 'k/copy.bin');
    await store.writeObject('k/direct.bin', Readable.from([randomBytes(10)]));
    const [files] = await gcs.storage().bucket(bucket).getFiles();
    assert.ok(files.length >= 4);
    for (const file of files) {
      assert.equal(file.metadata.kmsKeyName, `${KMS_KEY}/cryptoKeyVersions/1`, file.name);
    }
  });

  it('keeps customer-key objects unreadable without the key', async () => {
    const key = randomBytes(32);
    const { store, bucket, gcs } = await freshStore({ encryptionKey: key });
    const text = Buffer.from('a very recognizable plaintext line\n'.repeat(2000));
    await putChunk(store, { sessionId: 's', fileId: 'f', index: 0 }, text);
    await store.concatChunks('s', 'f', 1, 'c/secret.txt');
    for (const version of gcs.state.bucket(bucket).live.values()) {
      const stored = Buffer.concat(version.content.segments);
      assert.ok(!stored.includes('recognizable plaintext'), version.name);
      assert.ok(version.content.encryption, version.name);
    }
    assert.ok((await readAll(store.readObject('c/secret.txt'))).equals(text));
    const withoutKey = new GcsBlobStore({ bucket, storage: gcs.storage() });
    await assert.rejects(readAll(withoutKey.readObject('c/secret.txt')), { code: 400 });
    const wrongKey = new GcsBlobStore({
      bucket,
      storage: gcs.storage(),
      encryptionKey: randomBytes(32),
    });
    await assert.rejects(readAll(wrongKey.readObject('c/secret.txt')), { code: 400 });
    // The server then streams such objects itself through its own signed route.
    assert.equal(
      await store.signedDownloadUrl('c/secret.txt', { filename: 'secret.txt' }),
      undefined,
    );
  });
});
