import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  eventually,
  expectDownload,
  expectError,
  expectStoredObject,
  request,
  sleep,
  startTestServer,
  storedChunks,
  type TestServer,
} from './harness.js';

const USER = 'expirer';
let server: TestServer;

before(async () => {
  server = await startTestServer({
    SESSION_TTL: '2s',
    CLEANUP_INTERVAL: '1s',
    DOWNLOAD_URL_TTL: '1s',
  });
});

after(async () => {
  await server.stop();
});

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

test('an expired session refuses chunks and reads with 410, its chunks are cleaned up and unfinished files end failed; ready files and fresh download links live on', async () => {
  const client = api(server, await server.token(USER));
  const partial = sample(600 * 1024);
  const untouched = sample(300 * 1024);
  const done = sample(200 * 1024);
  const init = await client.initiate({
    files: [
      { name: 'partial.pdf', size: partial.length, type: 'application/pdf' },
      { name: 'untouched.pdf', size: untouched.length, type: 'application/pdf' },
      { name: 'done.pdf', size: done.length, type: 'application/pdf' },
    ],
  });
  assert.equal(init.status, 201);
  const sessionId = init.body.sessionId;
  const [fPartial, fUntouched, fDone] = init.body.files.map((f) => ({
    sessionId,
    fileId: f.fileId,
  }));
  assert.ok(fPartial && fUntouched && fDone);
  const expiresAt = Date.parse(init.body.expiresAt);
  assert.ok(expiresAt - Date.now() <= 2_000 && expiresAt - Date.now() > 0, init.body.expiresAt);

  // Before expiry: some chunks of one file, the whole of another.
  for (const i of [0, 2]) {
    assert.equal(
      (await client.chunk({ ...chunkOf(fPartial, partial, i), digest: true })).status,
      200,
    );
  }
  assert.equal(
    (await client.chunk({ ...chunkOf(fDone, done, 0), digest: true })).body.status,
    'ready',
  );
  assert.deepEqual(await storedChunks(server.dataDir, sessionId, fPartial.fileId), [
    '00000000',
    '00000002',
  ]);
  const link = await client.download(fDone.fileId);
  assert.equal(link.status, 200);
  assert.equal((await request(link.body.url)).status, 200, 'a fresh link works');

  await sleep(Math.max(0, expiresAt - Date.now()) + 200);

  expectError(await client.session(sessionId), 410, 'session_expired');
  expectError(
    await client.chunk({ ...chunkOf(fPartial, partial, 1), digest: true }),
    410,
    'session_expired',
  );
  expectError(
    await client.chunk({ ...chunkOf(fUntouched, untouched, 0), digest: true }),
    410,
    'session_expired',
  );

  // The cleanup job (every second) removes the chunks and fails the unfinished files.
  const chunkDir = path.join(server.dataDir, 'blobs', 'chunks', sessionId);
  const cleaned = await eventually(async () => !existsSync(chunkDir), 4_000);
  assert.ok(cleaned, 'the expired session’s chunk directory is removed');
  const failed = await eventually(
    async () => (await client.status(fPartial.fileId)).body.status === 'failed',
    3_000,
  );
  assert.ok(failed, 'the partial file ends failed');
  for (const file of [fPartial, fUntouched]) {
    const status = await client.status(file.fileId);
    assert.equal(status.status, 200);
    assert.equal(status.body.status, 'failed', JSON.stringify(status.body));
    assert.equal(status.body.error?.code, 'session_expired');
    assert.equal(status.body.receivedBytes, 0, 'no bytes remain');
    expectError(await client.download(file.fileId), 409, 'conflict');
  }

  // The link handed out before has expired (DOWNLOAD_URL_TTL=1s) ...
  await sleep(Math.max(0, Date.parse(link.body.expiresAt) + 1_050 - Date.now()));
  expectError(await request(link.body.url), 403, 'forbidden');
  // ... but the ready file outlives its session: it keeps its status, object and bytes.
  const status = await client.status(fDone.fileId);
  assert.equal(status.body.status, 'ready');
  await expectStoredObject(server, USER, fDone, done);
  await expectDownload(client, fDone.fileId, done);
});

test('a download link stops working once DOWNLOAD_URL_TTL has passed', async () => {
  const client = api(server, await server.token(USER));
  const bytes = sample(1000);
  const init = await client.initiate({ files: [{ name: 'a.pdf', size: bytes.length, type: '' }] });
  const ids = { sessionId: init.body.sessionId, fileId: init.body.files[0]?.fileId ?? '' };
  assert.equal(
    (await client.chunk({ ...chunkOf(ids, bytes, 0), digest: true })).body.status,
    'ready',
  );
  const link = await client.download(ids.fileId);
  assert.ok(Date.parse(link.body.expiresAt) - Date.now() <= 1_000);
  await sleep(Math.max(0, Date.parse(link.body.expiresAt) - Date.now()) + 1_100);
  const res = await request(link.body.url);
  expectError(res, 403, 'forbidden');
  assert.match(res.body.error?.message ?? '', /expired/i);
});
