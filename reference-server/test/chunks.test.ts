import { strict as assert } from 'node:assert';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  digestOf,
  eventually,
  expectDownload,
  expectError,
  expectStoredObject,
  rawChunkHead,
  rawExchange,
  rawJson,
  rawResponses,
  rawStatus,
  shuffled,
  startTestServer,
  storedChunks,
  type Api,
  type TestServer,
} from './harness.js';

const CHUNK = 256 * 1024;
const USER = 'chunker';

let server: TestServer;
let token: string;
let client: Api;

before(async () => {
  // A short body timeout so the stalled-body test stays quick.
  server = await startTestServer({ BODY_TIMEOUT: '1s' });
  token = await server.token(USER);
  client = api(server, token);
});

after(async () => {
  await server.stop();
});

/** A valid PDF of `size` bytes with random bytes after %%EOF. */
function samplePdf(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

/** Initiates one PDF; returns its ids and the helpers to send its chunks. */
async function newFile(bytes: Buffer, name = 'doc.pdf') {
  const init = await client.initiate({
    files: [{ name, size: bytes.length, type: 'application/pdf' }],
  });
  assert.equal(init.status, 201, JSON.stringify(init.body));
  const file = init.body.files[0];
  assert.ok(file);
  const ids = { sessionId: init.body.sessionId, fileId: file.fileId };
  return {
    ids,
    totalChunks: file.totalChunks,
    send: (index: number, body?: Buffer) => {
      const c = chunkOf(ids, bytes, index);
      return client.chunk({ ...c, body: body ?? c.body, digest: true });
    },
    received: async () => {
      const session = await client.session(ids.sessionId);
      assert.equal(session.status, 200);
      return session.body.files.find((f) => f.fileId === ids.fileId)?.receivedChunks;
    },
  };
}

/** Waits until the staging area holds nothing (a dropped body's temp file is removed). */
async function expectNoStagedFiles(): Promise<void> {
  const tmp = path.join(server.dataDir, 'blobs', 'tmp');
  const left = await eventually(async () => (await readdir(tmp)).length === 0, 3_000);
  assert.ok(left, `staging is empty: ${(await readdir(tmp)).join(', ')}`);
}

describe('ordering and repeats', () => {
  test('chunks sent one by one out of order are each acknowledged, and the last one assembles the file', async () => {
    const bytes = samplePdf(3 * CHUNK - 1000);
    const f = await newFile(bytes);
    assert.equal(f.totalChunks, 3);

    const third = await f.send(2);
    assert.equal(third.status, 200);
    assert.deepEqual(third.body, {
      fileId: f.ids.fileId,
      chunkIndex: 2,
      receivedBytes: CHUNK - 1000,
      status: 'uploading',
    });
    assert.deepEqual(await f.received(), [2]);

    const first = await f.send(0);
    assert.equal(first.status, 200);
    assert.equal(first.body.receivedBytes, 2 * CHUNK - 1000);
    assert.equal(first.body.status, 'uploading');
    assert.deepEqual(await f.received(), [0, 2]);

    const second = await f.send(1);
    assert.equal(second.status, 200);
    assert.equal(second.body.status, 'ready');
    assert.equal(second.body.receivedBytes, bytes.length);

    await expectStoredObject(server, USER, f.ids, bytes);
    // Chunks are removed once the object is stored.
    assert.deepEqual(await storedChunks(server.dataDir, f.ids.sessionId, f.ids.fileId), []);
    await expectDownload(client, f.ids.fileId, bytes);
  });

  test('eight chunks sent all at once in random order end ready with the right bytes', async () => {
    const bytes = samplePdf(8 * CHUNK - 7);
    const f = await newFile(bytes);
    const responses = await Promise.all(shuffled([0, 1, 2, 3, 4, 5, 6, 7]).map((i) => f.send(i)));
    for (const res of responses) assert.equal(res.status, 200, JSON.stringify(res.body));
    const status = await client.status(f.ids.fileId);
    assert.equal(status.body.status, 'ready');
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('a file of exactly one chunk is assembled by its only request', async () => {
    const bytes = samplePdf(CHUNK);
    const f = await newFile(bytes);
    assert.equal(f.totalChunks, 1);
    const res = await f.send(0);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body, {
      fileId: f.ids.fileId,
      chunkIndex: 0,
      receivedBytes: CHUNK,
      status: 'ready',
    });
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('a file smaller than one chunk is one chunk too', async () => {
    const bytes = samplePdf(5_000);
    const f = await newFile(bytes);
    assert.equal(f.totalChunks, 1);
    const res = await f.send(0);
    assert.equal(res.body.status, 'ready');
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('a chunk sent again with the same bytes is accepted and changes nothing', async () => {
    const bytes = samplePdf(3 * CHUNK - 5);
    const f = await newFile(bytes);
    const once = await f.send(0);
    const again = await f.send(0);
    assert.equal(again.status, 200);
    assert.deepEqual(again.body, once.body);
    assert.deepEqual(await f.received(), [0]);
    assert.deepEqual(await storedChunks(server.dataDir, f.ids.sessionId, f.ids.fileId), [
      '00000000',
    ]);
    await f.send(1);
    assert.equal((await f.send(2)).body.status, 'ready');
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('different bytes for a stored chunk are refused with 409 conflict and the stored bytes win', async () => {
    const bytes = samplePdf(3 * CHUNK - 5);
    const f = await newFile(bytes);
    await f.send(1);
    const other = randomBytes(CHUNK);
    expectError(await f.send(1, other), 409, 'conflict');
    assert.deepEqual(await f.received(), [1]);
    await f.send(0);
    assert.equal((await f.send(2)).body.status, 'ready');
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('after the file is ready, a repeated chunk with the same bytes gets 200 and different bytes get 409', async () => {
    const bytes = samplePdf(3 * CHUNK - 5);
    const f = await newFile(bytes);
    for (const i of [0, 1, 2]) await f.send(i);
    assert.equal((await client.status(f.ids.fileId)).body.status, 'ready');

    const last = await f.send(2);
    assert.equal(last.status, 200, JSON.stringify(last.body));
    assert.equal(last.body.status, 'ready');
    assert.equal(last.body.receivedBytes, bytes.length);
    // A middle chunk is compared with the final object too.
    assert.equal((await f.send(1)).status, 200);

    const tampered = Buffer.from(chunkOf(f.ids, bytes, 2).body);
    tampered[10] = (tampered[10] ?? 0) ^ 0xff;
    expectError(await f.send(2, tampered), 409, 'conflict');
    expectError(await f.send(0, randomBytes(CHUNK)), 409, 'conflict');

    await expectStoredObject(server, USER, f.ids, bytes);
    await expectDownload(client, f.ids.fileId, bytes);
  });
});

describe('bodies that do not match their headers', () => {
  test('a body that does not match its Content-Digest gets 400 digest_mismatch and is not stored', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 0);
    const res = await client.chunk({ ...c, digest: digestOf(randomBytes(16)) });
    expectError(res, 400, 'digest_mismatch');
    assert.deepEqual(await f.received(), []);
    assert.deepEqual(await storedChunks(server.dataDir, f.ids.sessionId, f.ids.fileId), []);
    await expectNoStagedFiles();

    // The same chunk with its right digest is then stored.
    assert.equal((await f.send(0)).status, 200);
    assert.deepEqual(await f.received(), [0]);
  });

  test('a malformed Content-Digest gets 400 validation_failed', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 0);
    for (const digest of ['sha-256=abc', 'sha-256=:bm90IDMyIGJ5dGVz:']) {
      expectError(await client.chunk({ ...c, digest }), 400, 'validation_failed');
    }
    assert.deepEqual(await f.received(), []);
  });

  test('a body cut short by the client closing the connection is not stored', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 0);
    const head = rawChunkHead(server, token, { ...c, contentLength: c.body.length });
    await rawExchange(server, Buffer.concat([Buffer.from(head), c.body.subarray(0, 1000)]), {
      after: 'destroy',
    });
    await expectNoStagedFiles();
    assert.deepEqual(await f.received(), []);
    assert.deepEqual(await storedChunks(server.dataDir, f.ids.sessionId, f.ids.fileId), []);

    // The client retries the whole chunk and the upload completes.
    for (const i of [0, 1, 2]) assert.equal((await f.send(i)).status, 200);
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('a body cut short by a half-closed connection is not stored', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 1);
    const head = rawChunkHead(server, token, { ...c, contentLength: c.body.length });
    const { response } = await rawExchange(
      server,
      Buffer.concat([Buffer.from(head), c.body.subarray(0, CHUNK - 1)]),
      { after: 'end', waitMs: 2_000 },
    );
    // The server may still answer on the half-open connection; it must not be a success.
    if (response) assert.notEqual(rawStatus(response), 200, response);
    await expectNoStagedFiles();
    assert.deepEqual(await f.received(), []);
  });

  test('a body that stalls gets 408 request_timeout after BODY_TIMEOUT and is not stored', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 0);
    const head = rawChunkHead(server, token, { ...c, contentLength: c.body.length });
    const { response, ms } = await rawExchange(
      server,
      Buffer.concat([Buffer.from(head), c.body.subarray(0, 4096)]),
      { after: 'keep', waitMs: 5_000 },
    );
    assert.equal(rawStatus(response), 408, response);
    assert.equal(rawJson(response)?.error?.code, 'request_timeout');
    assert.ok(
      ms >= 900 && ms < 4_000,
      `answered ${ms} ms after sending, about the 1 s body timeout`,
    );
    await expectNoStagedFiles();
    assert.deepEqual(await f.received(), []);
  });

  test('bytes after Content-Length are the next request, not chunk data: a digest over them does not match', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 2); // the 10-byte last chunk
    const next = Buffer.from(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const longer = Buffer.concat([c.body, next]);
    const head = rawChunkHead(server, token, {
      ...c,
      contentLength: c.body.length,
      digest: digestOf(longer),
    });
    const { response } = await rawExchange(server, Buffer.concat([Buffer.from(head), longer]), {
      responses: 2,
    });
    const [first, second] = rawResponses(response);
    assert.equal(rawStatus(first ?? ''), 400, response.slice(0, 300));
    assert.equal(rawJson(first ?? '')?.error?.code, 'digest_mismatch');
    assert.equal(rawStatus(second ?? ''), 200, 'the surplus was answered as GET /healthz');
    assert.deepEqual(await f.received(), []);
  });

  test('bytes after Content-Length are the next request, not chunk data: the chunk holds exactly Content-Length bytes', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 0);
    const head = rawChunkHead(server, token, { ...c, contentLength: c.body.length });
    const next = Buffer.from(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
    const { response } = await rawExchange(
      server,
      Buffer.concat([Buffer.from(head), c.body, next]),
      { responses: 2 },
    );
    const [first, second] = rawResponses(response);
    assert.equal(rawStatus(first ?? ''), 200, response.slice(0, 300));
    assert.equal(rawStatus(second ?? ''), 200, 'the surplus was answered as GET /healthz');
    assert.deepEqual(await f.received(), [0]);
    for (const i of [1, 2]) await f.send(i);
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('garbage after the declared body never reaches the stored chunk', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 1);
    const head = rawChunkHead(server, token, { ...c, contentLength: c.body.length });
    const { response } = await rawExchange(
      server,
      Buffer.concat([Buffer.from(head), c.body, randomBytes(2000)]),
      { responses: 2, waitMs: 2_000 },
    );
    // Node answers the unparsable surplus with 400 and drops the connection; whether the chunk
    // made it before that is a race, but it can only ever hold the declared bytes.
    for (const r of rawResponses(response)) {
      assert.ok([200, 400].includes(rawStatus(r)), r.slice(0, 300));
    }
    const stored = await f.received();
    assert.ok(stored?.length === 0 || (stored?.length === 1 && stored[0] === 1), String(stored));
    // Re-sending the right bytes is accepted (a stored chunk with other bytes would be a 409).
    for (const i of [0, 1, 2]) assert.equal((await f.send(i)).status, 200);
    await expectStoredObject(server, USER, f.ids, bytes);
  });

  test('Content-Length together with Transfer-Encoding is refused and nothing is stored', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 2);
    const head = rawChunkHead(server, token, {
      ...c,
      contentLength: c.body.length,
      headers: { 'Transfer-Encoding': 'chunked' },
    });
    const body = `${c.body.length.toString(16)}\r\n${c.body.toString('latin1')}\r\n0\r\n\r\n`;
    const { response } = await rawExchange(server, head + body, { after: 'keep', waitMs: 2_000 });
    assert.equal(rawStatus(response), 400, response.slice(0, 300));
    assert.deepEqual(await f.received(), []);
  });

  test('a chunk without Content-Length (chunked transfer) gets 411 length_required', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 2);
    const res = await client.chunk({
      ...c,
      headers: { 'Content-Length': null, 'Transfer-Encoding': 'chunked' },
    });
    expectError(res, 411, 'length_required');
    assert.deepEqual(await f.received(), []);
  });

  test('a Content-Length that does not match Content-Range gets 400 body_length_mismatch', async () => {
    const bytes = samplePdf(2 * CHUNK + 10);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 0);
    // The range names the whole first chunk; the body (and its Content-Length) is shorter.
    const res = await client.chunk({ ...c, body: c.body.subarray(0, 100) });
    expectError(res, 400, 'body_length_mismatch');
    // And the last chunk's range with a full chunk's length.
    const last = chunkOf(f.ids, bytes, 2);
    expectError(
      await client.chunk({ ...last, body: randomBytes(CHUNK) }),
      400,
      'body_length_mismatch',
    );
    assert.deepEqual(await f.received(), []);
  });
});

describe('Content-Range checks', () => {
  const SIZE = 2 * CHUNK + 10;
  const cases: Array<{ what: string; range: (size: number) => string; length: number }> = [
    { what: 'a malformed range', range: () => 'bytes=0-9', length: 10 },
    { what: 'a range without the size', range: () => 'bytes 0-9', length: 10 },
    { what: 'a range in other units', range: (s) => `items 0-9/${s}`, length: 10 },
    { what: 'an end before the start', range: (s) => `bytes 10-5/${s}`, length: 6 },
    {
      what: 'a size other than the file’s',
      range: (s) => `bytes 0-${CHUNK - 1}/${s + 1}`,
      length: CHUNK,
    },
    {
      what: 'a start that is not a multiple of the chunk size',
      range: (s) => `bytes 1-${CHUNK}/${s}`,
      length: CHUNK,
    },
    { what: 'an end short of the chunk’s end', range: (s) => `bytes 0-99/${s}`, length: 100 },
    {
      what: 'an end past the chunk’s end',
      range: (s) => `bytes 0-${CHUNK}/${s}`,
      length: CHUNK + 1,
    },
    {
      what: 'a last chunk cut short',
      range: (s) => `bytes ${2 * CHUNK}-${2 * CHUNK + 4}/${s}`,
      length: 5,
    },
    {
      what: 'a range beyond the end of the file',
      range: (s) => `bytes ${3 * CHUNK}-${4 * CHUNK - 1}/${s}`,
      length: CHUNK,
    },
  ];
  for (const { what, range, length } of cases) {
    test(`${what} gets 416 range_not_satisfiable and nothing is stored`, async () => {
      const bytes = samplePdf(SIZE);
      const f = await newFile(bytes);
      const res = await client.chunk({
        ...f.ids,
        start: 0,
        end: 0,
        size: SIZE,
        body: randomBytes(length),
        headers: { 'Content-Range': range(SIZE) },
      });
      expectError(res, 416, 'range_not_satisfiable');
      assert.deepEqual(await f.received(), []);
    });
  }
});

describe('chunk addressing', () => {
  test('a chunk without Upload-Session or Upload-File gets 400 validation_failed', async () => {
    const bytes = samplePdf(CHUNK);
    const f = await newFile(bytes);
    const c = chunkOf(f.ids, bytes, 0);
    expectError(
      await client.chunk({ ...c, headers: { 'Upload-Session': null } }),
      400,
      'validation_failed',
    );
    expectError(
      await client.chunk({ ...c, headers: { 'Upload-File': null } }),
      400,
      'validation_failed',
    );
    assert.deepEqual(await f.received(), []);
  });

  test('a chunk for an unknown session or file, or a file of another session, gets 404 not_found', async () => {
    const bytes = samplePdf(CHUNK);
    const a = await newFile(bytes);
    const b = await newFile(bytes);
    const c = chunkOf(a.ids, bytes, 0);
    expectError(await client.chunk({ ...c, sessionId: 'no-such-session' }), 404, 'not_found');
    expectError(await client.chunk({ ...c, fileId: 'no-such-file' }), 404, 'not_found');
    expectError(await client.chunk({ ...c, sessionId: '../../etc' }), 404, 'not_found');
    expectError(await client.chunk({ ...c, fileId: b.ids.fileId }), 404, 'not_found');
    assert.deepEqual(await a.received(), []);
    assert.deepEqual(await b.received(), []);
  });
});
