/**
 * Pins the emulator's behaviour with the real @google-cloud/storage client (and raw HTTP where
 * the wire format itself is the point). Reads, encryption and signed URLs are in
 * emulator-access.cases.ts, run from here on the same emulator.
 */
import { randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import type { Bucket, Storage } from '@google-cloud/storage';
import { Crc32c } from './crc32c.js';
import { accessCases } from './emulator-access.cases.js';
import { startGcsEmulator, type GcsEmulator } from './index.js';
import { crc32c, KIB, md5, MIB, statusOf } from './test-support.js';

let gcs: GcsEmulator;
let storage: Storage;
let bucket: Bucket;

before(async () => {
  gcs = await startGcsEmulator();
  storage = gcs.storage();
  [bucket] = await storage.createBucket('emulator-test');
});

after(() => gcs.stop());

/** A raw JSON API call. */
function api(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${gcs.url}${path}`, init);
}

describe('checksums', () => {
  it('computes the CRC32C check value and matches the client on random data', () => {
    assert.equal(new Crc32c().update(Buffer.from('123456789')).value(), 0xe3069283);
    const data = randomBytes(100_003);
    assert.equal(new Crc32c().update(data).base64(), crc32c(data));
  });
});

describe('buckets', () => {
  it('creates, gets and refuses a duplicate', async () => {
    const [created] = await storage.createBucket('second-bucket', {
      versioning: { enabled: true },
    });
    const [metadata] = await created.getMetadata();
    assert.equal(metadata.versioning?.enabled, true);
    assert.equal(await statusOf(storage.createBucket('second-bucket')), 409);
    assert.equal(await statusOf(storage.bucket('missing-bucket').getMetadata()), 404);
  });
});

describe('uploads', () => {
  it('simple media upload reports md5Hash and crc32c of the bytes', async () => {
    const data = randomBytes(70 * KIB);
    const response = await api(
      '/upload/storage/v1/b/emulator-test/o?uploadType=media&name=simple.bin',
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-test' },
        body: data,
      },
    );
    assert.equal(response.status, 200);
    const object = (await response.json()) as Record<string, string>;
    assert.deepEqual(
      [object.md5Hash, object.crc32c, object.size, object.contentType],
      [md5(data), crc32c(data), String(data.length), 'application/x-test'],
    );
  });

  it('multipart upload passes the client validation and stores the bytes', async () => {
    const data = randomBytes(MIB + 7);
    const file = bucket.file('dir/multipart.bin');
    await file.save(data, { resumable: false, metadata: { metadata: { origin: 'test' } } });
    const [metadata] = await file.getMetadata();
    assert.equal(metadata.md5Hash, md5(data));
    assert.equal(metadata.metadata?.origin, 'test');
    const [read] = await file.download(); // validated against x-goog-hash by the client
    assert.ok(read.equals(data));
  });

  it('resumable upload in several chunks with the client chunkSize', async () => {
    const data = randomBytes(3 * MIB + 12_345);
    const file = bucket.file('dir/resumable.bin');
    const seen = gcs.requests.length;
    await file.save(data, { resumable: true, chunkSize: 512 * KIB, validation: 'md5' });
    const puts = gcs.requests.slice(seen).filter((r) => r.method === 'PUT');
    assert.deepEqual(
      puts.map((r) => r.status),
      [...Array(6).fill(308), 200],
      'six full chunks answered 308, the last 200',
    );
    assert.equal(puts[1]!.contentRange, `bytes ${512 * KIB}-${1024 * KIB - 1}/*`);
    const [metadata] = await file.getMetadata();
    assert.deepEqual([metadata.md5Hash, metadata.crc32c], [md5(data), crc32c(data)]);
    assert.ok((await file.download())[0].equals(data));
  });

  it('resumable wire protocol: 308 with Range, status queries, 200 with the object', async () => {
    const start = await api(
      '/upload/storage/v1/b/emulator-test/o?uploadType=resumable&name=wire.bin',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ contentType: 'text/plain' }),
      },
    );
    assert.equal(start.status, 200);
    const session = start.headers.get('location')!;
    assert.match(session, /\/upload\/storage\/v1\/b\/emulator-test\/o\?.*upload_id=/);
    const put = (range: string, body: Buffer = Buffer.alloc(0)) =>
      fetch(session, {
        method: 'PUT',
        headers: { 'content-range': range },
        body: new Uint8Array(body),
      });
    const first = randomBytes(256 * KIB);
    const last = randomBytes(1000);
    assert.equal((await put('bytes */*')).headers.get('range'), null);
    const middle = await put(`bytes 0-${first.length - 1}/*`, first);
    assert.deepEqual(
      [middle.status, middle.headers.get('range')],
      [308, `bytes=0-${first.length - 1}`],
    );
    const query = await put('bytes */*');
    assert.deepEqual(
      [query.status, query.headers.get('range')],
      [308, `bytes=0-${first.length - 1}`],
    );
    assert.equal(
      (await put('bytes 0-999/*', randomBytes(1000))).status,
      400,
      'not a 256 KiB multiple',
    );
    const total = first.length + last.length;
    const done = await put(`bytes ${first.length}-${total - 1}/${total}`, last);
    assert.equal(done.status, 200);
    const object = (await done.json()) as Record<string, string>;
    const whole = Buffer.concat([first, last]);
    assert.deepEqual(
      [object.size, object.md5Hash, object.contentType],
      [String(total), md5(whole), 'text/plain'],
    );
    assert.equal(
      (await put(`bytes */${total}`)).status,
      200,
      'a finished session reports the object',
    );
  });

  it('single-request resumable upload (bytes 0-*/*) and hash checks on the last request', async () => {
    const start = await api(
      '/upload/storage/v1/b/emulator-test/o?uploadType=resumable&name=single.bin',
      {
        method: 'POST',
      },
    );
    const session = start.headers.get('location')!;
    const data = randomBytes(300 * KIB);
    const wrong = await fetch(session, {
      method: 'PUT',
      headers: {
        'content-range': 'bytes 0-*/*',
        'x-goog-hash': `crc32c=${crc32c(randomBytes(9))}`,
      },
      body: data,
    });
    assert.equal(wrong.status, 400, 'a mismatching X-Goog-Hash is refused');
    const file = bucket.file('single.bin');
    await file.save(data, { resumable: true }); // the client sends bytes 0-*/* with X-Goog-Hash
    assert.ok((await file.download())[0].equals(data));
  });
});

describe('preconditions', () => {
  it('answers 412 for ifGenerationMatch=0 on an existing object, whatever the upload type', async () => {
    const file = bucket.file('pre/once.bin');
    await file.save(Buffer.from('first'), { preconditionOpts: { ifGenerationMatch: 0 } });
    for (const resumable of [false, true]) {
      const again = file.save(Buffer.from('second'), {
        resumable,
        preconditionOpts: { ifGenerationMatch: 0 },
      });
      assert.equal(await statusOf(again), 412, `resumable: ${resumable}`);
    }
    assert.equal((await file.download())[0].toString(), 'first');
  });

  it('honours ifGenerationMatch=N and ifMetagenerationMatch', async () => {
    const file = bucket.file('pre/gen.bin');
    await file.save(Buffer.from('v1'));
    const [{ generation }] = await file.getMetadata();
    const stale = bucket.file('pre/gen.bin').save(Buffer.from('x'), {
      preconditionOpts: { ifGenerationMatch: Number(generation) + 1 },
    });
    assert.equal(await statusOf(stale), 412);
    await file.save(Buffer.from('v2'), {
      preconditionOpts: { ifGenerationMatch: Number(generation) },
    });
    const patch = file.setMetadata({ metadata: { a: '1' } }, { ifMetagenerationMatch: 99 });
    assert.equal(await statusOf(patch), 412);
    const [updated] = await file.setMetadata({ metadata: { a: '1', b: '2' } });
    assert.equal(updated.metageneration, '2');
    assert.notEqual(updated.generation, generation);
    const [removed] = await file.setMetadata({ metadata: { a: null } });
    assert.deepEqual(removed.metadata, { b: '2' });
  });
});

describe('compose and copy', () => {
  it('composes up to 32 sources with the combined CRC32C and refuses 33', async () => {
    const parts = [randomBytes(1000), randomBytes(70 * KIB), randomBytes(3)];
    const sources = await Promise.all(
      parts.map(async (part, i) => {
        const file = bucket.file(`compose/part-${i}`);
        await file.save(part);
        return file;
      }),
    );
    const [, response] = await bucket.combine(sources, 'compose/joined.bin', {
      ifGenerationMatch: 0,
    });
    const whole = Buffer.concat(parts);
    const object = response as Record<string, unknown>;
    assert.deepEqual(
      [object.crc32c, object.size, object.componentCount],
      [crc32c(whole), String(whole.length), 3],
    );
    assert.equal(object.md5Hash, undefined, 'composite objects have no MD5');
    assert.ok((await bucket.file('compose/joined.bin').download())[0].equals(whole));
    const again = bucket.combine(sources, 'compose/joined.bin', { ifGenerationMatch: 0 });
    assert.equal(await statusOf(again), 412);
    const tooMany = bucket.combine(Array(33).fill(sources[0]), 'compose/too-many.bin');
    assert.equal(await statusOf(tooMany), 400);
  });

  it('copies (rewrite) without overwriting and 404s a missing source', async () => {
    const data = randomBytes(2000);
    await bucket.file('copy/source.bin').save(data);
    const options = { preconditionOpts: { ifGenerationMatch: 0 } };
    await bucket.file('copy/source.bin').copy(bucket.file('copy/target.bin'), options);
    assert.ok((await bucket.file('copy/target.bin').download())[0].equals(data));
    assert.equal(
      await statusOf(bucket.file('copy/source.bin').copy('copy/target.bin', options)),
      412,
    );
    assert.equal(await statusOf(bucket.file('copy/missing').copy('copy/x.bin')), 404);
    const copyTo = await api(
      '/storage/v1/b/emulator-test/o/copy%2Fsource.bin/copyTo/b/emulator-test/o/copy%2Fold-api.bin',
      { method: 'POST' },
    );
    assert.equal(copyTo.status, 200);
    assert.equal(((await copyTo.json()) as { md5Hash: string }).md5Hash, md5(data));
  });
});

accessCases(() => ({ gcs, storage, bucket }));
