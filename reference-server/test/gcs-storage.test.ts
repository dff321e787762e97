import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Bucket } from '@google-cloud/storage';
import { startGcsEmulator, type GcsEmulator } from '../../test/gcs-emulator/index.js';
import { pdf, randomBytes, text } from './fixtures.js';
import {
  api,
  chunkOf,
  contentHash,
  expectError,
  request,
  sha256,
  startTestServer,
  tempDir,
  uploadFile,
  type TestServer,
} from './harness.js';

// The whole server on STORAGE=gcs: the real @google-cloud/storage client in the server process
// talks to the emulator over HTTP; nothing lands in DATA_DIR but the session database.
const USER = 'clouded';
const BUCKET = 'uploads-test';
let gcs: GcsEmulator;
let bucket: Bucket;
let server: TestServer;
let token: string;

before(async () => {
  gcs = await startGcsEmulator();
  bucket = gcs.storage().bucket(BUCKET);
  await bucket.create();
  const keyFile = path.join(await tempDir('fu-gcs-key-'), 'key.json');
  await writeFile(keyFile, JSON.stringify(gcs.serviceAccountKey));
  server = await startTestServer({
    STORAGE: 'gcs',
    GCS_BUCKET: BUCKET,
    GCS_API_ENDPOINT: gcs.url,
    GCS_PROJECT_ID: gcs.projectId,
    GCS_KEY_FILE: keyFile,
  });
  token = await server.token(USER);
});

after(async () => {
  await server?.stop();
  await gcs?.stop();
});

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

async function objectNames(prefix: string): Promise<string[]> {
  const [files] = await bucket.getFiles({ prefix });
  return files.map((file) => file.name);
}

async function bucketBytes(name: string): Promise<Buffer> {
  const [bytes] = await bucket.file(name).download();
  return bytes;
}

describe('STORAGE=gcs', () => {
  test('a file of many chunks is composed in the bucket, verified, and served by a signed URL', async () => {
    const bytes = sample(40 * 256 * 1024 + 777); // 41 chunks: a compose tree beyond 32 sources
    const up = await uploadFile(server, token, 'big.pdf', bytes, 'application/pdf');
    assert.equal(up.status.status, 'ready');
    assert.equal(up.status.contentHash, contentHash(bytes));

    const objects = await objectNames(`objects/${USER}/${up.sessionId}/`);
    assert.equal(objects.length, 1);
    assert.equal(sha256(await bucketBytes(objects[0]!)), sha256(bytes));
    assert.deepEqual(await objectNames(`staging/${up.sessionId}/`), [], 'no staging object left');

    const link = await api(server, token).download(up.fileId);
    assert.equal(link.status, 200);
    assert.ok(link.body.url.startsWith(`${gcs.url}/${BUCKET}/`), link.body.url);
    const file = await request(link.body.url);
    assert.equal(file.status, 200);
    assert.equal(sha256(file.raw), sha256(bytes));
    assert.match(file.headers.get('content-disposition') ?? '', /^attachment;.*big\.pdf/);
    const tampered = link.body.url.replace(/X-Goog-Signature=[0-9a-f]{4}/, 'X-Goog-Signature=0000');
    assert.equal((await request(tampered)).status, 403);
  });

  test('a duplicate is a copy in the bucket; deleting one leaves the other', async () => {
    const bytes = sample(3 * 256 * 1024);
    const first = await uploadFile(server, token, 'one.pdf', bytes, 'application/pdf');
    const twin = await uploadFile(server, token, 'two.pdf', bytes, 'application/pdf', {
      contentHash: contentHash(bytes),
    });
    assert.equal(twin.chunks.length, 0);
    assert.equal(twin.status.status, 'ready');
    assert.equal((await api(server, token).remove(first.fileId)).status, 204);
    assert.deepEqual(await objectNames(`objects/${USER}/${first.sessionId}/`), []);
    const kept = await objectNames(`objects/${USER}/${twin.sessionId}/`);
    assert.equal(kept.length, 1);
    assert.equal(sha256(await bucketBytes(kept[0]!)), sha256(bytes));
  });

  test('a chunk whose bucket connection drops is answered 503 and stored whole when sent again', async () => {
    const bytes = sample(3 * 256 * 1024);
    const client = api(server, token);
    const init = await client.initiate({
      files: [{ name: 'dropped.pdf', size: bytes.length, type: 'application/pdf' }],
    });
    assert.equal(init.status, 201);
    const ids = { sessionId: init.body.sessionId, fileId: init.body.files[0]!.fileId };
    const upload = ({ method, url }: { method: string; url: string }) =>
      method === 'POST' && url.startsWith(`/upload/storage/v1/b/${BUCKET}/o`);
    // The bucket drops the chunk's upload while the body still streams in, then once it has
    // reached the bucket whole: neither is the client's fault.
    for (const when of ['arrival', 'body'] as const) {
      gcs.cutNext(upload, when);
      const dropped = await client.chunk({ ...chunkOf(ids, bytes, 1), digest: true });
      expectError(dropped, 503, 'unavailable');
      assert.equal(dropped.headers.get('retry-after'), '1', 'the client is told when to retry');
    }
    assert.deepEqual(await objectNames(`staging/${ids.sessionId}/`), [], 'nothing was kept');
    for (const index of [1, 0, 2]) {
      const sent = await client.chunk({ ...chunkOf(ids, bytes, index), digest: true });
      assert.equal(sent.status, 200, JSON.stringify(sent.body));
    }
    const status = await client.status(ids.fileId);
    assert.equal(status.body.status, 'ready');
    const objects = await objectNames(`objects/${USER}/${ids.sessionId}/`);
    assert.equal(objects.length, 1);
    assert.equal(sha256(await bucketBytes(objects[0]!)), sha256(bytes));
  });

  test('a spoofed file is rejected and leaves nothing in the bucket', async () => {
    const bytes = Buffer.concat([text('plain words '.repeat(40_000))]);
    const up = await uploadFile(server, token, 'fake.pdf', bytes, 'application/pdf');
    assert.equal(up.status.status, 'rejected');
    assert.equal(up.status.error?.code, 'type_mismatch');
    expectError(await api(server, token).download(up.fileId), 409, 'conflict');
    assert.deepEqual(await objectNames(`objects/${USER}/${up.sessionId}/`), []);
    assert.deepEqual(await objectNames(`staging/${up.sessionId}/`), []);
  });
});
