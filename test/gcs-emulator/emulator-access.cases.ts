/** Reads, listings, deletes, encryption and signed URLs, run by emulator.test.ts. */
import { createHash, randomBytes } from 'node:crypto';
import { strict as assert } from 'node:assert';
import { before, describe, it } from 'node:test';
import { Storage, type Bucket } from '@google-cloud/storage';
import { startGcsEmulator, type GcsEmulator } from './index.js';
import { crc32c, KIB, statusOf, type EmulatorEnv } from './test-support.js';

export function accessCases(env: () => EmulatorEnv): void {
  describe('access', () => {
    let gcs: GcsEmulator;
    let storage: Storage;
    let bucket: Bucket;

    before(() => {
      ({ gcs, storage, bucket } = env());
    });

    const api = (path: string, init: RequestInit = {}): Promise<Response> =>
      fetch(`${gcs.url}${path}`, init);

    describe('reads, lists, deletes', () => {
      const data = randomBytes(200 * KIB + 11);

      before(() => bucket.file('read/data.bin').save(data));

      it('serves ranges with 206 and Content-Range, and 416 past the end', async () => {
        const file = bucket.file('read/data.bin');
        const [range] = await file.download({ start: 1000, end: 70_000 });
        assert.ok(range.equals(data.subarray(1000, 70_001)));
        const raw = await api('/storage/v1/b/emulator-test/o/read%2Fdata.bin?alt=media', {
          headers: { range: 'bytes=-10' },
        });
        assert.equal(raw.status, 206);
        assert.equal(
          raw.headers.get('content-range'),
          `bytes ${data.length - 10}-${data.length - 1}/${data.length}`,
        );
        assert.ok(Buffer.from(await raw.arrayBuffer()).equals(data.subarray(-10)));
        const beyond = await api('/storage/v1/b/emulator-test/o/read%2Fdata.bin?alt=media', {
          headers: { range: `bytes=${data.length}-` },
        });
        assert.equal(beyond.status, 416);
      });

      it('lists with prefix and delimiter, in pages', async () => {
        for (const name of [
          'list/a.txt',
          'list/b/1.txt',
          'list/b/2.txt',
          'list/c/3.txt',
          'list/d.txt',
        ]) {
          await bucket.file(name).save(name);
        }
        const [files, , response] = await bucket.getFiles({
          prefix: 'list/',
          delimiter: '/',
          autoPaginate: false,
        });
        assert.deepEqual(
          files.map((f) => f.name),
          ['list/a.txt', 'list/d.txt'],
        );
        assert.deepEqual((response as { prefixes: string[] }).prefixes, ['list/b/', 'list/c/']);
        const [page, next] = await bucket.getFiles({
          prefix: 'list/',
          maxResults: 2,
          autoPaginate: false,
        });
        assert.deepEqual(
          page.map((f) => f.name),
          ['list/a.txt', 'list/b/1.txt'],
        );
        const [second, next2] = await bucket.getFiles({ ...next!, autoPaginate: false });
        assert.deepEqual(
          second.map((f) => f.name),
          ['list/b/2.txt', 'list/c/3.txt'],
        );
        const [third, next3] = await bucket.getFiles({ ...next2!, autoPaginate: false });
        assert.deepEqual(
          third.map((f) => f.name),
          ['list/d.txt'],
        );
        assert.equal(next3, null, 'no token after the last page');
      });

      it('deletes, then answers 404', async () => {
        const file = bucket.file('read/gone.bin');
        await file.save('x');
        await file.delete();
        assert.equal(await statusOf(file.getMetadata()), 404);
        assert.equal(await statusOf(file.delete()), 404);
        await file.delete({ ignoreNotFound: true });
      });

      it('keeps noncurrent versions in a versioned bucket', async () => {
        const versioned = storage.bucket('second-bucket');
        await versioned.file('v.txt').save('one');
        await versioned.file('v.txt').save('two');
        const [versions] = await versioned.getFiles({ versions: true });
        assert.equal(versions.length, 2);
        const [old] = await versioned
          .file('v.txt', { generation: Number(versions[0]!.metadata.generation) })
          .download();
        assert.equal(old.toString(), 'one');
      });

      it('serves the JSON API at / for STORAGE_EMULATOR_HOST clients', async () => {
        const previous = process.env.STORAGE_EMULATOR_HOST;
        process.env.STORAGE_EMULATOR_HOST = gcs.url;
        let client: Storage;
        try {
          client = new Storage({ projectId: gcs.projectId, credentials: gcs.credentials });
        } finally {
          if (previous === undefined) delete process.env.STORAGE_EMULATOR_HOST;
          else process.env.STORAGE_EMULATOR_HOST = previous;
        }
        const file = client.bucket('emulator-test').file('host-mode.txt');
        await file.save('via emulator host', { resumable: false });
        assert.equal((await file.download())[0].toString(), 'via emulator host');
        assert.equal((await api('/b/emulator-test/o/host-mode.txt')).status, 200);
        assert.equal((await api('/storage/v1/b/emulator-test/o/host-mode.txt')).status, 200);
      });
    });

    describe('encryption', () => {
      it('stores customer-key objects encrypted and needs the key to read them', async () => {
        const key = randomBytes(32);
        const text = Buffer.from('plain words that must not be stored as such '.repeat(100));
        const file = bucket.file('csek/secret.txt', { encryptionKey: key });
        await file.save(text, { resumable: false });
        const stored = gcs.state.bucket('emulator-test').live.get('csek/secret.txt')!;
        assert.ok(!Buffer.concat(stored.content.segments).includes('plain words'));
        assert.ok((await file.download())[0].equals(text));
        const [ranged] = await file.download({ start: 50, end: 120 });
        assert.ok(ranged.equals(text.subarray(50, 121)));
        const [withKey] = await file.getMetadata();
        assert.equal(withKey.crc32c, crc32c(text));
        const [noKeyMeta] = await bucket.file('csek/secret.txt').getMetadata();
        assert.equal(noKeyMeta.crc32c, undefined, 'checksums are hidden without the key');
        assert.equal(
          noKeyMeta.customerEncryption?.keySha256,
          createHash('sha256').update(key).digest('base64'),
        );
        assert.equal(await statusOf(bucket.file('csek/secret.txt').download()), 400);
        const wrong = bucket.file('csek/secret.txt', { encryptionKey: randomBytes(32) });
        assert.equal(await statusOf(wrong.download()), 400);
      });

      it('accepts and reports a Cloud KMS key', async () => {
        const kmsKeyName = 'projects/p/locations/us/keyRings/r/cryptoKeys/k';
        const file = bucket.file('kms/object.bin', { kmsKeyName });
        await file.save(randomBytes(100), { resumable: false });
        const [metadata] = await bucket.file('kms/object.bin').getMetadata();
        assert.equal(metadata.kmsKeyName, `${kmsKeyName}/cryptoKeyVersions/1`);
      });
    });

    describe('v4 signed URLs', () => {
      const data = randomBytes(10 * KIB);
      let url: string;

      before(async () => {
        await bucket.file('signed/file name.bin').save(data);
        [url] = await bucket.file('signed/file name.bin').getSignedUrl({
          version: 'v4',
          action: 'read',
          expires: Date.now() + 60_000,
          responseDisposition: 'attachment; filename="x.bin"',
        });
      });

      it('serves a valid URL, path style, with the requested disposition', async () => {
        assert.ok(
          url.startsWith(
            `${gcs.url}/emulator-test/signed/file%20name.bin?X-Goog-Algorithm=GOOG4-RSA-SHA256&`,
          ),
        );
        const response = await fetch(url);
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('content-disposition'), 'attachment; filename="x.bin"');
        assert.ok(Buffer.from(await response.arrayBuffer()).equals(data));
      });

      it('refuses a tampered URL or one signed by another key', async () => {
        const tampered = new URL(url);
        tampered.searchParams.set('response-content-disposition', 'inline');
        assert.equal((await fetch(tampered)).status, 403);
        const otherPath = url.replace('file%20name.bin', 'other.bin');
        assert.equal((await fetch(otherPath)).status, 403);
        const stranger = await startGcsEmulator();
        try {
          const client = new Storage({
            apiEndpoint: gcs.url,
            projectId: 'x',
            credentials: stranger.credentials,
          });
          const [forged] = await client
            .bucket('emulator-test')
            .file('signed/file name.bin')
            .getSignedUrl({
              version: 'v4',
              action: 'read',
              expires: Date.now() + 60_000,
            });
          assert.equal((await fetch(forged)).status, 403);
        } finally {
          await stranger.stop();
        }
      });

      it('refuses an expired URL', async () => {
        gcs.advanceClock(61_000);
        try {
          const response = await fetch(url);
          assert.equal(response.status, 400);
          assert.match(await response.text(), /ExpiredToken/);
        } finally {
          gcs.advanceClock(-61_000);
        }
      });
    });
  });
}
