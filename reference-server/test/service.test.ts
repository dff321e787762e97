import { strict as assert } from 'node:assert';
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  expectDownload,
  expectError,
  expectStoredObject,
  request,
  runCli,
  sha256,
  startTestServer,
  storedObject,
  tempDir,
  uploadFile,
  type TestServer,
} from './harness.js';

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

describe('service routes', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  test('/healthz and /readyz answer 200 without a token', async () => {
    const health = await request(`${server.url}/healthz`);
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { status: 'ok' });
    const ready = await request(`${server.url}/readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.body, { status: 'ready' });
  });

  test('every response carries an X-Request-Id, successes and errors alike', async () => {
    const token = await server.token('rid');
    const client = api(server, token);
    const responses = {
      healthz: await request(`${server.url}/healthz`),
      'unknown route': await request(`${server.url}/nothing`),
      'no token': await api(server, undefined).session('x'),
      initiate: await client.initiate({ files: [{ name: 'a.pdf', size: 5, type: '' }] }),
      'bad initiate': await client.initiate({}),
      'unknown file': await client.status('nope'),
      'bad chunk': await client.chunk({
        sessionId: 'a',
        fileId: 'b',
        start: 0,
        end: 0,
        size: 1,
        body: Buffer.alloc(1),
      }),
      'bad link': await request(`${server.url}/api/v1/upload/files/nope?expires=1&signature=x`),
    };
    const ids = new Set<string>();
    for (const [what, res] of Object.entries(responses)) {
      const id = res.headers.get('x-request-id');
      assert.ok(id && id.length >= 8, `${what} has an X-Request-Id`);
      ids.add(id);
    }
    assert.equal(ids.size, Object.keys(responses).length, 'ids are unique');
  });

  test('a safe incoming X-Request-Id is echoed, an unsafe one replaced', async () => {
    const safe = await request(`${server.url}/healthz`, {
      headers: { 'X-Request-Id': 'trace-1234567' },
    });
    assert.equal(safe.headers.get('x-request-id'), 'trace-1234567');
    const unsafe = await request(`${server.url}/healthz`, {
      headers: { 'X-Request-Id': 'bad id <script>' },
    });
    const replaced = unsafe.headers.get('x-request-id') ?? '';
    assert.notEqual(replaced, 'bad id <script>');
    assert.match(replaced, /^[A-Za-z0-9._-]{8,128}$/);
  });

  test('/dev/token is 404 when DEV_MODE is off', async () => {
    expectError(await request(`${server.url}/dev/token`), 404, 'not_found');
  });
});

describe('dev mode', () => {
  let dev: TestServer;
  before(async () => {
    // No secrets at all: dev mode makes its own.
    dev = await startTestServer({
      DEV_MODE: '1',
      JWT_SECRET: '',
      DOWNLOAD_SECRET: '',
      PUBLIC_URL: 'https://files.example.test/',
    });
  });
  after(async () => {
    await dev.stop();
  });

  test('with DEV_MODE=1, /dev/token hands out a token that works on /initiate', async () => {
    const res = await request<{ token: string; userId: string }>(`${dev.url}/dev/token`);
    assert.equal(res.status, 200);
    assert.equal(res.body.userId, 'demo-user');
    assert.match(res.headers.get('cache-control') ?? '', /no-store/);
    const init = await api(dev, res.body.token).initiate({
      files: [{ name: 'a.pdf', size: 10, type: 'application/pdf' }],
    });
    assert.equal(init.status, 201, JSON.stringify(init.body));
    // And it is a real token check: a forged one is still refused.
    expectError(
      await api(dev, await dev.token('demo-user', { secret: 'x'.repeat(40) })).initiate({
        files: [{ name: 'a.pdf', size: 10, type: '' }],
      }),
      401,
      'unauthenticated',
    );
  });

  test('PUBLIC_URL sets the origin of download links', async () => {
    const res = await request<{ token: string }>(`${dev.url}/dev/token`);
    const bytes = sample(1000);
    const upload = await uploadFile(dev, res.body.token, 'a.pdf', bytes, 'application/pdf');
    assert.equal(upload.status.status, 'ready');
    await expectStoredObject(dev, 'demo-user', upload, bytes);
    const link = await api(dev, res.body.token).download(upload.fileId);
    assert.equal(link.status, 200);
    assert.ok(
      link.body.url.startsWith(`https://files.example.test/api/v1/upload/files/${upload.fileId}?`),
      link.body.url,
    );
    // The same path and query on the real address download the file.
    const local = new URL(link.body.url);
    const file = await request(`${dev.url}${local.pathname}${local.search}`);
    assert.equal(file.status, 200);
    assert.deepEqual(file.raw, bytes);
  });
});

describe('encryption at rest', () => {
  let enc: TestServer;
  before(async () => {
    enc = await startTestServer({ ENCRYPTION_KEY: cryptoRandomBytes(32).toString('base64') });
  });
  after(async () => {
    await enc.stop();
  });

  /** True when any 64-byte window of `plain` taken every 4 KiB shows up in `stored`. */
  function leaksPlaintext(stored: Buffer, plain: Buffer): boolean {
    for (let at = 0; at + 64 <= plain.length; at += 4096) {
      if (stored.includes(plain.subarray(at, at + 64))) return true;
    }
    return false;
  }

  test('with ENCRYPTION_KEY the upload works, downloads the original bytes, and neither chunks nor objects hold plaintext on disk', async () => {
    const token = await enc.token('secretive');
    const client = api(enc, token);
    const bytes = sample(600 * 1024);

    // A chunk at rest, before the file is complete.
    const init = await client.initiate({
      files: [{ name: 'secret.pdf', size: bytes.length, type: 'application/pdf' }],
    });
    const ids = { sessionId: init.body.sessionId, fileId: init.body.files[0]?.fileId ?? '' };
    assert.equal((await client.chunk({ ...chunkOf(ids, bytes, 1), digest: true })).status, 200);
    const chunkFile = await readFile(
      path.join(enc.dataDir, 'blobs', 'chunks', ids.sessionId, ids.fileId, '00000001'),
    );
    assert.equal(
      leaksPlaintext(chunkFile, chunkOf(ids, bytes, 1).body as Buffer),
      false,
      'chunk is encrypted',
    );

    for (const i of [0, 2]) {
      assert.equal((await client.chunk({ ...chunkOf(ids, bytes, i), digest: true })).status, 200);
    }
    const status = await client.status(ids.fileId);
    assert.equal(status.body.status, 'ready', JSON.stringify(status.body));
    assert.equal(status.body.fileType, 'pdf', 'type detection reads through the encryption');

    const stored = await storedObject(enc.dataDir, 'secretive', ids.sessionId, ids.fileId);
    assert.ok(stored);
    assert.notEqual(sha256(stored.bytes), sha256(bytes));
    assert.ok(stored.bytes.length > bytes.length, 'ciphertext carries a header and tags');
    assert.equal(stored.bytes.includes(Buffer.from('%PDF-')), false, 'no PDF header on disk');
    assert.equal(leaksPlaintext(stored.bytes, bytes), false, 'object is encrypted');

    await expectDownload(client, ids.fileId, bytes);
  });

  test('with ENCRYPTION_KEY, re-sent chunks are compared with the decrypted bytes, and dedupe still works', async () => {
    const token = await enc.token('secretive');
    const client = api(enc, token);
    const bytes = sample(300 * 1024);
    const upload = await uploadFile(enc, token, 'again.pdf', bytes, 'application/pdf');
    assert.equal(upload.status.status, 'ready');
    const ids = { sessionId: upload.sessionId, fileId: upload.fileId };
    assert.equal((await client.chunk({ ...chunkOf(ids, bytes, 1), digest: true })).status, 200);
    expectError(
      await client.chunk({
        ...chunkOf(ids, bytes, 1),
        body: randomBytes(bytes.length - 256 * 1024),
      }),
      409,
      'conflict',
    );
    const dup = await client.initiate({
      files: [
        {
          name: 'dup.pdf',
          size: bytes.length,
          type: 'application/pdf',
          contentHash: upload.status.contentHash,
        },
      ],
    });
    assert.equal(dup.body.files[0]?.duplicateOf, upload.fileId);
    await expectDownload(client, dup.body.files[0]?.fileId ?? '', bytes);
  });
});

describe('configuration errors', () => {
  /** A valid environment, so each case breaks exactly one thing. */
  async function baseEnv(): Promise<Record<string, string>> {
    return {
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: await tempDir(),
      JWT_SECRET: 'j'.repeat(40),
      DOWNLOAD_SECRET: 'd'.repeat(40),
      LOG_LEVEL: 'warn',
      DEV_MODE: '',
      JWKS_URL: '',
      ALLOWED_TYPES: '',
      CHUNK_SIZE: '',
    };
  }

  const cases: Array<{ what: string; env: Record<string, string>; message: RegExp[] }> = [
    {
      what: 'CHUNK_SIZE=1000 (not a multiple of 256 KiB)',
      env: { CHUNK_SIZE: '1000' },
      message: [/CHUNK_SIZE.*(256 ?KiB|262144)/],
    },
    { what: 'no JWT_SECRET without DEV_MODE', env: { JWT_SECRET: '' }, message: [/JWT_SECRET/] },
    {
      what: 'an unknown ALLOWED_TYPES entry',
      env: { ALLOWED_TYPES: 'pdf,gif' },
      message: [/ALLOWED_TYPES.*gif/],
    },
    {
      what: 'several problems at once (all are listed)',
      env: {
        SESSION_TTL: 'soon',
        ENCRYPTION_KEY: Buffer.alloc(16).toString('base64'),
        JWT_SECRET: 'short',
      },
      message: [/SESSION_TTL/, /ENCRYPTION_KEY/, /JWT_SECRET.*32/],
    },
  ];

  test('a bad environment makes the CLI exit with code 2 and name the problem on stderr', async () => {
    // The cases run side by side: each is a separate process that exits at once.
    const results = await Promise.all(
      cases.map(async (c) => ({ c, result: await runCli({ ...(await baseEnv()), ...c.env }) })),
    );
    for (const { c, result } of results) {
      assert.equal(result.code, 2, `${c.what}: exit code ${result.code}, stderr: ${result.stderr}`);
      assert.match(result.stderr, /Invalid configuration/, c.what);
      for (const message of c.message)
        assert.match(result.stderr, message, `${c.what}: ${result.stderr}`);
      assert.doesNotMatch(result.stderr, /\n\s+at /, `${c.what}: a message, not a stack trace`);
    }
  });
});
