import { strict as assert } from 'node:assert';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  eventually,
  expectDownload,
  expectStoredObject,
  rawChunkHead,
  rawConnection,
  rawJson,
  rawStatus,
  request,
  sleep,
  startTestServer,
  storedChunks,
  type TestServer,
} from './harness.js';

const CHUNK = 256 * 1024;
const USER = 'survivor';
let server: TestServer;

before(async () => {
  server = await startTestServer({ SHUTDOWN_TIMEOUT: '2s' });
});

after(async () => {
  await server.stop();
});

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

async function initiate(bytes: Buffer) {
  const client = api(server, await server.token(USER));
  const init = await client.initiate({
    files: [{ name: 'resumable.pdf', size: bytes.length, type: 'application/pdf' }],
  });
  assert.equal(init.status, 201);
  const ids = { sessionId: init.body.sessionId, fileId: init.body.files[0]?.fileId ?? '' };
  return {
    ids,
    send: async (i: number) => {
      const res = await api(server, await server.token(USER)).chunk({
        ...chunkOf(ids, bytes, i),
        digest: true,
      });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body;
    },
    progress: async () => {
      const session = await api(server, await server.token(USER)).session(ids.sessionId);
      assert.equal(session.status, 200, JSON.stringify(session.body));
      const file = session.body.files[0];
      assert.ok(file);
      return file;
    },
  };
}

async function stagingIsEmpty(): Promise<boolean> {
  return (await readdir(path.join(server.dataDir, 'blobs', 'tmp'))).length === 0;
}

test('after a graceful restart (SIGTERM) the session shows exactly the stored chunks and the upload resumes; ready files and their links survive', async () => {
  const bytes = sample(4 * CHUNK - 100);
  const file = await initiate(bytes);
  await file.send(0);
  await file.send(2);

  const readyBytes = sample(100 * 1024);
  const readyFile = await initiate(readyBytes);
  assert.equal((await readyFile.send(0)).status, 'ready');
  const link = await api(server, await server.token(USER)).download(readyFile.ids.fileId);
  assert.equal(link.status, 200);

  const code = await server.stop('SIGTERM');
  assert.equal(code, 0, `exit code after SIGTERM\n${server.stderr()}`);
  await server.restart();

  const progress = await file.progress();
  assert.deepEqual(progress.receivedChunks, [0, 2]);
  assert.equal(progress.receivedBytes, 2 * CHUNK);
  assert.equal(progress.status, 'uploading');

  assert.equal((await file.send(3)).status, 'uploading');
  assert.equal((await file.send(1)).status, 'ready');
  await expectStoredObject(server, USER, file.ids, bytes);
  await expectDownload(api(server, await server.token(USER)), file.ids.fileId, bytes);

  // The link handed out before the restart still works (same DOWNLOAD_SECRET).
  const res = await request(link.body.url);
  assert.equal(res.status, 200);
  assert.deepEqual(res.raw, readyBytes);
  assert.equal((await readyFile.progress()).status, 'ready');
});

test('after kill -9 with a chunk half sent, the session shows only whole chunks and the upload resumes to a ready file', async () => {
  const bytes = sample(4 * CHUNK - 100);
  const file = await initiate(bytes);
  await file.send(1);
  await file.send(2);

  // Chunk 0 is half way through its body when the process dies.
  const c = chunkOf(file.ids, bytes, 0);
  const conn = await rawConnection(server);
  await conn.write(
    rawChunkHead(server, await server.token(USER), { ...c, contentLength: c.body.length }),
  );
  await conn.write(c.body.subarray(0, CHUNK / 2));
  await sleep(100);
  await server.kill();
  conn.destroy();
  await server.restart();

  const progress = await file.progress();
  assert.deepEqual(progress.receivedChunks, [1, 2]);
  assert.equal(progress.receivedBytes, 2 * CHUNK);
  assert.equal(progress.status, 'uploading');

  await file.send(0);
  assert.equal((await file.send(3)).status, 'ready');
  await expectStoredObject(server, USER, file.ids, bytes);
  await expectDownload(api(server, await server.token(USER)), file.ids.fileId, bytes);
  // The staged half chunk the crash left behind is gone once the file is complete.
  assert.ok(await eventually(stagingIsEmpty, 2_000), 'no staged bytes are left behind');
});

test('SIGTERM while a chunk is in flight: the chunk completes with 200 and the process exits 0', async () => {
  const bytes = sample(2 * CHUNK + 100);
  const file = await initiate(bytes);
  const c = chunkOf(file.ids, bytes, 0);
  const conn = await rawConnection(server);
  await conn.write(
    rawChunkHead(server, await server.token(USER), { ...c, contentLength: c.body.length }),
  );
  await conn.write(c.body.subarray(0, CHUNK / 2));
  await sleep(100);

  const stopped = server.stop('SIGTERM');
  await sleep(500);
  // Still serving the request in flight: send the rest of the body (well within 2 s).
  await conn.write(c.body.subarray(CHUNK / 2));
  const response = await conn.response();
  conn.destroy();
  assert.equal(rawStatus(response), 200, response.slice(0, 500));
  const body = rawJson(response) as { chunkIndex?: number; receivedBytes?: number } | undefined;
  assert.equal(body?.chunkIndex, 0);
  assert.equal(body?.receivedBytes, CHUNK);
  assert.equal(await stopped, 0, `exit code\n${server.stderr()}`);

  // The chunk was committed before the process went away.
  assert.deepEqual(await storedChunks(server.dataDir, file.ids.sessionId, file.ids.fileId), [
    '00000000',
  ]);
  await server.restart();
  assert.deepEqual((await file.progress()).receivedChunks, [0]);
  await file.send(1);
  assert.equal((await file.send(2)).status, 'ready');
  await expectStoredObject(server, USER, file.ids, bytes);
});

test('SIGTERM with a body that never finishes: the process still exits 0 after SHUTDOWN_TIMEOUT and keeps nothing of it', async () => {
  const bytes = sample(2 * CHUNK + 100);
  const file = await initiate(bytes);
  const c = chunkOf(file.ids, bytes, 1);
  const conn = await rawConnection(server);
  await conn.write(
    rawChunkHead(server, await server.token(USER), { ...c, contentLength: c.body.length }),
  );
  await conn.write(c.body.subarray(0, 1000));
  await sleep(100);

  const started = Date.now();
  const code = await server.stop('SIGTERM');
  const took = Date.now() - started;
  conn.destroy();
  assert.equal(code, 0, `exit code\n${server.stderr()}`);
  assert.ok(took >= 1_800 && took < 7_000, `exited after ${took} ms, about SHUTDOWN_TIMEOUT=2s`);
  assert.deepEqual(await storedChunks(server.dataDir, file.ids.sessionId, file.ids.fileId), []);
});
