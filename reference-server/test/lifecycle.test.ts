import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HEADERS } from '@file-uploader/protocol';
import { pdf, png, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  contentHash,
  expectDownload,
  expectError,
  expectStoredObject,
  rawChunkHead,
  rawConnection,
  rawJson,
  rawStatus,
  request,
  startTestServer,
  storedChunks,
  storedObject,
  tamperBase64url,
  uploadFile,
  type Api,
  type TestServer,
} from './harness.js';

const USER = 'keeper';
let server: TestServer;
let token: string;
let client: Api;

before(async () => {
  server = await startTestServer();
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

async function initiateOne(bytes: Buffer, name = 'file.pdf', extra: { contentHash?: string } = {}) {
  const init = await client.initiate({
    files: [{ name, size: bytes.length, type: 'application/pdf', ...extra }],
  });
  assert.equal(init.status, 201, JSON.stringify(init.body));
  const file = init.body.files[0];
  assert.ok(file);
  return { ids: { sessionId: init.body.sessionId, fileId: file.fileId }, file, init: init.body };
}

describe('delete', () => {
  test('deleting a file mid-upload: 204, its chunks leave the disk, status is 404 and later chunks get 404', async () => {
    const bytes = sample(3 * 256 * 1024 - 10);
    const { ids } = await initiateOne(bytes);
    for (const i of [0, 1]) {
      assert.equal((await client.chunk({ ...chunkOf(ids, bytes, i), digest: true })).status, 200);
    }
    assert.equal((await storedChunks(server.dataDir, ids.sessionId, ids.fileId)).length, 2);

    const res = await client.remove(ids.fileId);
    assert.equal(res.status, 204, JSON.stringify(res.body));
    assert.equal(res.raw.length, 0);
    assert.deepEqual(await storedChunks(server.dataDir, ids.sessionId, ids.fileId), []);
    assert.equal(
      existsSync(path.join(server.dataDir, 'blobs', 'chunks', ids.sessionId, ids.fileId)),
      false,
    );
    expectError(await client.status(ids.fileId), 404, 'not_found');
    expectError(await client.chunk({ ...chunkOf(ids, bytes, 2), digest: true }), 404, 'not_found');
    expectError(await client.chunk({ ...chunkOf(ids, bytes, 0), digest: true }), 404, 'not_found');
    assert.deepEqual(await storedChunks(server.dataDir, ids.sessionId, ids.fileId), []);
    const session = await client.session(ids.sessionId);
    assert.equal(session.status, 200);
    assert.deepEqual(session.body.files, [], 'the session no longer lists the file');
  });

  test('a chunk whose body is still arriving when its file is deleted is not kept', async () => {
    const bytes = sample(2 * 256 * 1024 + 100);
    const { ids } = await initiateOne(bytes);
    const c = chunkOf(ids, bytes, 0);
    const conn = await rawConnection(server);
    await conn.write(rawChunkHead(server, token, { ...c, contentLength: c.body.length }));
    await conn.write(c.body.subarray(0, 100 * 1024));
    assert.equal((await client.remove(ids.fileId)).status, 204);
    const rest = await conn.write(c.body.subarray(100 * 1024)).then(
      () => 'sent',
      (err: Error) => err.message,
    );
    const response = await conn.response();
    conn.destroy();
    assert.equal(rawStatus(response), 404, `${rest}; ${response.slice(0, 2000)}`);
    assert.equal(rawJson(response)?.error?.code, 'not_found');
    assert.deepEqual(await storedChunks(server.dataDir, ids.sessionId, ids.fileId), []);
  });

  test('deleting a ready file: 204, the object leaves the disk, links stop working, and a second delete is 404', async () => {
    const bytes = sample(300 * 1024);
    const upload = await uploadFile(server, token, 'ready.pdf', bytes, 'application/pdf');
    assert.equal(upload.status.status, 'ready');
    const object = await expectStoredObject(server, USER, upload, bytes);
    const link = await client.download(upload.fileId);

    const res = await client.remove(upload.fileId);
    assert.equal(res.status, 204);
    assert.equal(existsSync(object.path), false, 'the object file is gone');
    assert.equal(existsSync(path.dirname(object.path)), false, 'its folder is gone too');
    assert.equal(
      await storedObject(server.dataDir, USER, upload.sessionId, upload.fileId),
      undefined,
    );
    expectError(await client.status(upload.fileId), 404, 'not_found');
    expectError(await client.download(upload.fileId), 404, 'not_found');
    const old = await request(link.body.url);
    assert.ok(old.status === 403 || old.status === 404, `old link: ${old.status}`);
    assert.ok(old.body.error?.code, 'the old link gets a protocol error');

    const again = await client.remove(upload.fileId);
    expectError(again, 404, 'not_found');
  });

  test('delete without Upload-Confirm: delete is refused with 428 precondition_required and the file stays', async () => {
    const bytes = sample(1000);
    const upload = await uploadFile(server, token, 'keep.pdf', bytes, 'application/pdf');
    expectError(await client.remove(upload.fileId, false), 428, 'precondition_required');
    expectError(await client.remove(upload.fileId, 'yes'), 428, 'precondition_required');
    assert.equal((await client.status(upload.fileId)).body.status, 'ready');
    await expectStoredObject(server, USER, upload, bytes);
    // The header value is case-insensitive.
    assert.equal((await client.remove(upload.fileId, 'DELETE')).status, 204);
  });

  test('deleting unknown or malformed ids is 404, never 500', async () => {
    for (const id of ['no-such-file', 'x'.repeat(200), '..', '%2e%2e%2fetc']) {
      const res = await client.remove(id);
      assert.equal(res.status, 404, `${id}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  });

  test('deleting a rejected file works too', async () => {
    const upload = await uploadFile(server, token, 'fake.pdf', png(), 'application/pdf');
    assert.equal(upload.status.status, 'rejected');
    assert.equal((await client.remove(upload.fileId)).status, 204);
    expectError(await client.status(upload.fileId), 404, 'not_found');
  });
});

describe('dedupe', () => {
  test('the same bytes initiated again with their content hash are ready at once, as a duplicate that outlives the original', async () => {
    const bytes = sample(600 * 1024);
    const hash = contentHash(bytes);
    const original = await uploadFile(server, token, 'original.pdf', bytes, 'application/pdf');
    assert.equal(original.status.status, 'ready');
    assert.equal(original.status.contentHash, hash, 'the server computes the same content hash');

    const dup = await initiateOne(bytes, 'again.pdf', { contentHash: hash });
    assert.equal(dup.file.status, 'ready');
    assert.equal(dup.file.duplicateOf, original.fileId);
    assert.equal(dup.file.totalChunks, 3, 'totalChunks is still reported');
    assert.notEqual(dup.file.fileId, original.fileId);
    assert.equal(dup.file.name, 'again.pdf');

    const status = await client.status(dup.ids.fileId);
    assert.equal(status.body.status, 'ready');
    assert.equal(status.body.contentHash, hash);
    assert.equal(status.body.fileType, 'pdf');
    assert.equal(status.body.receivedBytes, bytes.length);
    const session = await client.session(dup.ids.sessionId);
    assert.equal(session.body.files[0]?.duplicateOf, original.fileId);
    assert.deepEqual(session.body.files[0]?.receivedChunks, [0, 1, 2]);

    const object = await expectStoredObject(server, USER, dup.ids, bytes);
    assert.ok(object.key.endsWith('/again.pdf'), object.key);
    await expectDownload(client, dup.ids.fileId, bytes);

    // A chunk sent to the duplicate anyway is compared with its bytes.
    assert.equal((await client.chunk({ ...chunkOf(dup.ids, bytes, 1), digest: true })).status, 200);
    expectError(
      await client.chunk({ ...chunkOf(dup.ids, bytes, 1), body: randomBytes(256 * 1024) }),
      409,
      'conflict',
    );

    // Deleting the original leaves the duplicate whole.
    assert.equal((await client.remove(original.fileId)).status, 204);
    assert.equal(
      await storedObject(server.dataDir, USER, original.sessionId, original.fileId),
      undefined,
    );
    await expectStoredObject(server, USER, dup.ids, bytes);
    await expectDownload(client, dup.ids.fileId, bytes);
  });

  test('a content hash announced on a chunk completes the file as a duplicate there; a malformed one is refused', async () => {
    const bytes = sample(4 * 256 * 1024 + 99);
    const hash = contentHash(bytes);
    const original = await uploadFile(server, token, 'first.pdf', bytes, 'application/pdf');
    assert.equal(original.status.contentHash, hash);

    const twin = await initiateOne(bytes, 'later.pdf'); // no hash at initiate
    assert.equal(twin.file.status, 'pending');
    assert.equal(
      (await client.chunk({ ...chunkOf(twin.ids, bytes, 0), digest: true })).status,
      200,
    );
    expectError(
      await client.chunk({
        ...chunkOf(twin.ids, bytes, 1),
        digest: true,
        headers: { [HEADERS.contentHash]: hash.toUpperCase() },
      }),
      400,
      'validation_failed',
    );
    const announced = await client.chunk({
      ...chunkOf(twin.ids, bytes, 1),
      digest: true,
      headers: { [HEADERS.contentHash]: hash },
    });
    assert.equal(announced.status, 200, JSON.stringify(announced.body));
    assert.equal(announced.body.status, 'ready');
    const session = await client.session(twin.ids.sessionId);
    assert.equal(session.body.files[0]?.duplicateOf, original.fileId);
    assert.deepEqual(await storedChunks(server.dataDir, twin.ids.sessionId, twin.ids.fileId), []);
    await expectStoredObject(server, USER, twin.ids, bytes);
    // The chunks the client still had in flight are compared with the stored bytes.
    assert.equal(
      (await client.chunk({ ...chunkOf(twin.ids, bytes, 2), digest: true })).status,
      200,
    );

    // A hash nobody has changes nothing: the upload goes on and ends with its own bytes.
    const fresh = sample(2 * 256 * 1024);
    const own = await initiateOne(fresh, 'fresh.pdf');
    const first = await client.chunk({
      ...chunkOf(own.ids, fresh, 0),
      digest: true,
      headers: { [HEADERS.contentHash]: contentHash(fresh) },
    });
    assert.equal(first.body.status, 'uploading');
    assert.equal(
      (await client.chunk({ ...chunkOf(own.ids, fresh, 1), digest: true })).body.status,
      'ready',
    );
    await expectStoredObject(server, USER, own.ids, fresh);
  });

  test('no dedupe for an unknown hash, another size, or another claimed type', async () => {
    const bytes = sample(300 * 1024);
    const hash = contentHash(bytes);
    const original = await uploadFile(server, token, 'base.pdf', bytes, 'application/pdf');
    assert.equal(original.status.contentHash, hash);
    await expectStoredObject(server, USER, original, bytes);

    const unknown = await initiateOne(bytes, 'a.pdf', {
      contentHash: contentHash(randomBytes(10)),
    });
    assert.equal(unknown.file.status, 'pending');
    assert.equal(unknown.file.duplicateOf, undefined);

    const otherSize = await initiateOne(Buffer.concat([bytes, Buffer.from('x')]), 'b.pdf', {
      contentHash: hash,
    });
    assert.equal(otherSize.file.status, 'pending');

    const otherType = await client.initiate({
      files: [{ name: 'c.png', size: bytes.length, type: 'image/png', contentHash: hash }],
    });
    assert.equal(otherType.body.files[0]?.status, 'pending');
    assert.equal(otherType.body.files[0]?.duplicateOf, undefined);
  });

  test('a hash that lies about the content does not turn into someone’s bytes: the upload goes through normally', async () => {
    const real = sample(200 * 1024);
    await uploadFile(server, token, 'real.pdf', real, 'application/pdf');
    const other = sample(200 * 1024);
    // Claim the hash of `real` for `other`: the server dedupes by hash (the client asked
    // for it), so only the client's own ready file can be the result.
    const lying = await initiateOne(other, 'liar.pdf', { contentHash: contentHash(real) });
    if (lying.file.status === 'ready') {
      await expectDownload(client, lying.ids.fileId, real);
    } else {
      for (let i = 0; i < lying.file.totalChunks; i++) {
        await client.chunk({ ...chunkOf(lying.ids, other, i), digest: true });
      }
      await expectStoredObject(server, USER, lying.ids, other);
    }
  });
});

describe('download links', () => {
  let bytes: Buffer;
  let fileId: string;
  let url: URL;

  before(async () => {
    bytes = sample(100 * 1024);
    const upload = await uploadFile(server, token, 'linked.pdf', bytes, 'application/pdf');
    fileId = upload.fileId;
    const link = await client.download(fileId);
    assert.equal(link.status, 200);
    url = new URL(link.body.url);
  });

  test('the signed link downloads without a token, as an attachment the browser will not sniff', async () => {
    const res = await request(url.href);
    assert.equal(res.status, 200);
    assert.deepEqual(res.raw, bytes);
    assert.equal(res.headers.get('content-type'), 'application/pdf');
    assert.equal(res.headers.get('content-length'), String(bytes.length));
    assert.match(
      res.headers.get('content-disposition') ?? '',
      /^attachment; filename="linked\.pdf"/,
    );
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    assert.match(res.headers.get('content-security-policy') ?? '', /sandbox/);
  });

  test('the link is built from the address the client called, never from its Origin header', async () => {
    const link = await client.download(fileId, { Origin: 'https://evil.example' });
    assert.equal(link.status, 200);
    assert.ok(link.body.url.startsWith(`${server.url}/api/v1/upload/files/`), link.body.url);
  });

  test('a tampered signature is 403 forbidden', async () => {
    const tampered = new URL(url);
    const signature = tampered.searchParams.get('signature') ?? '';
    tampered.searchParams.set('signature', tamperBase64url(signature));
    expectError(await request(tampered.href), 403, 'forbidden');
    const truncated = new URL(url);
    truncated.searchParams.set('signature', signature.slice(0, 10));
    expectError(await request(truncated.href), 403, 'forbidden');
  });

  test('a tampered expiry is 403 forbidden', async () => {
    const later = new URL(url);
    later.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    expectError(await request(later.href), 403, 'forbidden');
    const garbage = new URL(url);
    garbage.searchParams.set('expires', 'tomorrow');
    expectError(await request(garbage.href), 403, 'forbidden');
  });

  test('a link without its parameters is 403 forbidden', async () => {
    const bare = new URL(url);
    bare.search = '';
    expectError(await request(bare.href), 403, 'forbidden');
  });

  test('a link moved to another file id is 403 forbidden', async () => {
    const other = await uploadFile(server, token, 'other.pdf', sample(2000), 'application/pdf');
    const moved = new URL(url);
    moved.pathname = moved.pathname.replace(fileId, other.fileId);
    expectError(await request(moved.href), 403, 'forbidden');
  });

  test('asking for a link to a file that is not ready is 409 conflict', async () => {
    const bytes2 = sample(300 * 1024);
    const { ids } = await initiateOne(bytes2);
    expectError(await client.download(ids.fileId), 409, 'conflict');
    await client.chunk({ ...chunkOf(ids, bytes2, 0), digest: true });
    expectError(await client.download(ids.fileId), 409, 'conflict');
  });

  test('a link to an unknown file id is 403, not an oracle', async () => {
    const unknown = new URL(url);
    unknown.pathname = unknown.pathname.replace(fileId, 'no-such-file');
    expectError(await request(unknown.href), 403, 'forbidden');
  });
});
