import { strict as assert } from 'node:assert';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Database from 'better-sqlite3';
import { CONTENT_HASH_BLOCK_SIZE } from '@file-uploader/protocol';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  contentHash,
  expectStoredObject,
  startTestServer,
  uploadFile,
  type Api,
  type TestServer,
} from './harness.js';

// At the default chunk size (one content-hash block) assembly builds the content hash from the
// digests recorded as chunks arrived; these tests pin that path and its crash fallback.
const USER = 'hasher';
let server: TestServer;
let token: string;
let client: Api;

before(async () => {
  server = await startTestServer({ CHUNK_SIZE: String(CONTENT_HASH_BLOCK_SIZE) });
  token = await server.token(USER);
  client = api(server, token);
});

after(async () => {
  await server.stop();
});

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

describe('content hash from chunk digests (4 MiB chunks)', () => {
  test('a multi-chunk file is stored whole with the right content hash, and its twin is deduplicated', async () => {
    const bytes = sample(2 * CONTENT_HASH_BLOCK_SIZE + 123_457);
    const first = await uploadFile(server, token, 'big.pdf', bytes, 'application/pdf');
    assert.equal(first.initiated.chunkSize, CONTENT_HASH_BLOCK_SIZE);
    assert.equal(first.status.status, 'ready');
    assert.equal(first.status.contentHash, contentHash(bytes));
    await expectStoredObject(server, USER, first, bytes);

    const twin = await uploadFile(server, token, 'again.pdf', bytes, 'application/pdf', {
      contentHash: contentHash(bytes),
    });
    assert.equal(twin.chunks.length, 0);
    assert.equal(twin.status.status, 'ready');
    await expectStoredObject(server, USER, twin, bytes);
  });

  test('digests lost before assembly (a crash between commit and record) are computed from the chunks', async () => {
    const bytes = sample(3 * CONTENT_HASH_BLOCK_SIZE - 99);
    const init = await client.initiate({
      files: [{ name: 'lost.pdf', size: bytes.length, type: 'application/pdf' }],
    });
    assert.equal(init.status, 201);
    const ids = { sessionId: init.body.sessionId, fileId: init.body.files[0]!.fileId };
    for (const index of [0, 1]) {
      const res = await client.chunk({
        ...chunkOf(ids, bytes, index, CONTENT_HASH_BLOCK_SIZE),
        digest: true,
      });
      assert.equal(res.status, 200);
    }
    const db = new Database(path.join(server.dataDir, 'sessions.db'));
    try {
      const removed = db
        .prepare('DELETE FROM chunk_digests WHERE file_id = ? AND idx = 1')
        .run(ids.fileId);
      assert.equal(removed.changes, 1);
    } finally {
      db.close();
    }
    const last = await client.chunk({
      ...chunkOf(ids, bytes, 2, CONTENT_HASH_BLOCK_SIZE),
      digest: true,
    });
    assert.equal(last.status, 200);
    assert.equal(last.body.status, 'ready');
    const status = await client.status(ids.fileId);
    assert.equal(status.body.contentHash, contentHash(bytes));
    await expectStoredObject(server, USER, ids, bytes);

    const db2 = new Database(path.join(server.dataDir, 'sessions.db'));
    try {
      const left = db2
        .prepare('SELECT COUNT(*) AS n FROM chunk_digests WHERE file_id = ?')
        .get(ids.fileId);
      assert.deepEqual(left, { n: 0 }); // forgotten after assembly
    } finally {
      db2.close();
    }
  });
});
