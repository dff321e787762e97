import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  contentHash,
  expectDownload,
  expectError,
  expectStoredObject,
  request,
  startTestServer,
  storedChunks,
  tamperBase64url,
  unsignedToken,
  uploadFile,
  type ApiResponse,
  type TestServer,
} from './harness.js';

let server: TestServer;
const ALICE = 'alice';
const BOB = 'bob';
let aliceToken: string;
let bobToken: string;
/** Alice's data: a ready file and a file still waiting for chunks. */
let readyBytes: Buffer;
let ready: { sessionId: string; fileId: string };
let pendingBytes: Buffer;
let pending: { sessionId: string; fileId: string };
/** The chunks of Alice's pending file that Alice herself sent. */
let pendingChunks: string[] = [];

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

before(async () => {
  server = await startTestServer();
  aliceToken = await server.token(ALICE);
  bobToken = await server.token(BOB);
  readyBytes = sample(300 * 1024);
  const upload = await uploadFile(server, aliceToken, 'alice.pdf', readyBytes, 'application/pdf');
  assert.equal(upload.status.status, 'ready');
  ready = { sessionId: upload.sessionId, fileId: upload.fileId };
  pendingBytes = sample(300 * 1024);
  const init = await api(server, aliceToken).initiate({
    files: [{ name: 'pending.pdf', size: pendingBytes.length, type: 'application/pdf' }],
  });
  pending = { sessionId: init.body.sessionId, fileId: init.body.files[0]?.fileId ?? '' };
});

after(async () => {
  await server.stop();
});

/** Calls every protocol route with `authorization` (or none) on Alice's real ids. */
function everyRoute(authorization: string | undefined) {
  const headers = (): Record<string, string> =>
    authorization === undefined ? {} : { Authorization: authorization };
  const u = (path: string) => `${server.url}/api/v1/upload${path}`;
  const chunk = chunkOf(pending, pendingBytes, 0);
  return {
    'POST /initiate': () =>
      request(u('/initiate'), {
        method: 'POST',
        headers: { ...headers(), 'Content-Type': 'application/json' },
        body: JSON.stringify({ files: [{ name: 'a.pdf', size: 10, type: 'application/pdf' }] }),
      }),
    'GET /session/:id': () => request(u(`/session/${pending.sessionId}`), { headers: headers() }),
    'POST /chunk': () =>
      request(u('/chunk'), {
        method: 'POST',
        headers: {
          ...headers(),
          'Upload-Session': pending.sessionId,
          'Upload-File': pending.fileId,
          'Content-Range': `bytes ${chunk.start}-${chunk.end}/${chunk.size}`,
          'Content-Type': 'application/octet-stream',
        },
        body: new Uint8Array(chunk.body),
      }),
    'GET /status/:id': () => request(u(`/status/${ready.fileId}`), { headers: headers() }),
    'DELETE /:id': () =>
      request(u(`/${ready.fileId}`), {
        method: 'DELETE',
        headers: { ...headers(), 'Upload-Confirm': 'delete' },
      }),
    'GET /:id/download': () => request(u(`/${ready.fileId}/download`), { headers: headers() }),
  } satisfies Record<string, () => Promise<ApiResponse<unknown>>>;
}

/** Alice's data is untouched: the ready file is still stored, the pending one has only her chunks. */
async function expectAliceUntouched(): Promise<void> {
  await expectStoredObject(server, ALICE, ready, readyBytes);
  assert.deepEqual(
    await storedChunks(server.dataDir, pending.sessionId, pending.fileId),
    pendingChunks,
  );
  const status = await api(server, aliceToken).status(ready.fileId);
  assert.equal(status.body.status, 'ready');
}

describe('every route refuses bad credentials with 401 unauthenticated', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const kinds: Array<{ what: string; authorization: () => Promise<string | undefined> }> = [
    { what: 'no Authorization header', authorization: async () => undefined },
    { what: 'an empty Authorization header', authorization: async () => '' },
    {
      what: 'a Basic scheme',
      authorization: async () => `Basic ${Buffer.from('alice:pw').toString('base64')}`,
    },
    { what: 'Bearer without a token', authorization: async () => 'Bearer ' },
    { what: 'a token that is not a JWT', authorization: async () => 'Bearer not-a-jwt' },
    { what: 'a token with spaces', authorization: async () => `Bearer ${aliceToken} extra` },
    {
      what: 'a token signed with another secret',
      authorization: async () =>
        `Bearer ${await server.token(ALICE, { secret: 'another-secret-of-at-least-32-characters!!' })}`,
    },
    {
      what: 'a token whose signature was altered',
      authorization: async () =>
        `Bearer ${aliceToken.split('.').slice(0, 2).join('.')}.${tamperBase64url(aliceToken.split('.')[2] ?? '')}`,
    },
    {
      what: 'a token whose payload was altered',
      authorization: async () => {
        const [h, , s] = aliceToken.split('.');
        const payload = Buffer.from(JSON.stringify({ sub: BOB, exp: now() + 3600 })).toString(
          'base64url',
        );
        return `Bearer ${h}.${payload}.${s}`;
      },
    },
    {
      what: 'an expired token',
      authorization: async () => `Bearer ${await server.token(ALICE, { expiresIn: now() - 60 })}`,
    },
    {
      what: 'an unsigned alg:none token',
      authorization: async () => `Bearer ${unsignedToken({ sub: ALICE, exp: now() + 3600 })}`,
    },
    {
      what: 'an HS512 token (only HS256 is accepted)',
      authorization: async () => `Bearer ${await server.token(ALICE, { alg: 'HS512' })}`,
    },
    {
      what: 'a token without sub',
      authorization: async () => `Bearer ${await server.token(ALICE, { noSub: true })}`,
    },
    {
      what: 'a token with an empty sub',
      authorization: async () => `Bearer ${await server.token('')}`,
    },
    {
      what: 'a token without exp',
      authorization: async () => `Bearer ${await server.token(ALICE, { noExp: true })}`,
    },
    {
      what: 'a token not valid yet (nbf in the future)',
      authorization: async () =>
        `Bearer ${await server.token(ALICE, { claims: { nbf: now() + 3600 } })}`,
    },
  ];

  for (const kind of kinds) {
    test(`${kind.what}: 401 with the error body on every route, and nothing changes`, async () => {
      const routes = everyRoute(await kind.authorization());
      for (const [route, call] of Object.entries(routes)) {
        const res = await call();
        assert.equal(res.status, 401, `${route}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.error?.code, 'unauthenticated', route);
        assert.equal(typeof res.body.error?.message, 'string', route);
        assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, route);
        assert.ok(res.headers.get('x-request-id'), route);
      }
      await expectAliceUntouched();
    });
  }

  test('the same requests with a valid token are not refused (the table above is meaningful)', async () => {
    const routes = everyRoute(`Bearer ${aliceToken}`);
    const { 'DELETE /:id': _delete, ...harmless } = routes;
    for (const [route, call] of Object.entries(harmless)) {
      const res = await call();
      assert.ok(res.status < 400, `${route}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    pendingChunks = ['00000000'];
    await expectAliceUntouched();
  });
});

describe('a user cannot touch another user’s uploads', () => {
  test('every route answers 403 forbidden to Bob on Alice’s session and files, and nothing changes', async () => {
    const bob = api(server, bobToken);
    expectError(await bob.session(pending.sessionId), 403, 'forbidden');
    expectError(await bob.session(ready.sessionId), 403, 'forbidden');
    expectError(
      await bob.chunk({ ...chunkOf(pending, pendingBytes, 1), digest: true }),
      403,
      'forbidden',
    );
    expectError(await bob.status(ready.fileId), 403, 'forbidden');
    expectError(await bob.status(pending.fileId), 403, 'forbidden');
    expectError(await bob.remove(ready.fileId), 403, 'forbidden');
    expectError(await bob.remove(pending.fileId), 403, 'forbidden');
    expectError(await bob.download(ready.fileId), 403, 'forbidden');
    await expectAliceUntouched();
    await expectDownload(api(server, aliceToken), ready.fileId, readyBytes);
  });

  test('Bob cannot slip a chunk into Alice’s file through his own session', async () => {
    const bob = api(server, bobToken);
    const own = await bob.initiate({
      files: [{ name: 'bob.pdf', size: pendingBytes.length, type: 'application/pdf' }],
    });
    assert.equal(own.status, 201);
    const res = await bob.chunk({
      ...chunkOf({ sessionId: own.body.sessionId, fileId: pending.fileId }, pendingBytes, 1),
      digest: true,
    });
    assert.ok(res.status === 403 || res.status === 404, `${res.status}`);
    assert.ok(res.body.error?.code === 'forbidden' || res.body.error?.code === 'not_found');
    await expectAliceUntouched();
  });

  test('Bob cannot dedupe against Alice’s file: the same content hash gives him a normal pending file', async () => {
    const hash = contentHash(readyBytes);
    const bob = await api(server, bobToken).initiate({
      files: [
        { name: 'copy.pdf', size: readyBytes.length, type: 'application/pdf', contentHash: hash },
      ],
    });
    assert.equal(bob.status, 201);
    const file = bob.body.files[0];
    assert.equal(file?.status, 'pending');
    assert.equal(file?.duplicateOf, undefined);
    assert.equal(file?.totalChunks, 2);

    // The same request from Alice does dedupe, so the refusal above is about ownership.
    const alice = await api(server, aliceToken).initiate({
      files: [
        { name: 'copy.pdf', size: readyBytes.length, type: 'application/pdf', contentHash: hash },
      ],
    });
    assert.equal(alice.body.files[0]?.status, 'ready');
    assert.equal(alice.body.files[0]?.duplicateOf, ready.fileId);
  });

  test('Bob’s own upload works next to Alice’s and lands in his own folder', async () => {
    const bytes = sample(100 * 1024);
    const upload = await uploadFile(server, bobToken, 'bob.pdf', bytes, 'application/pdf');
    assert.equal(upload.status.status, 'ready');
    await expectStoredObject(server, BOB, upload, bytes);
  });
});

describe('rate limiting', () => {
  let limited: TestServer;
  before(async () => {
    limited = await startTestServer({ RATE_LIMIT_USER: '5', RATE_LIMIT_WINDOW: '60s' });
  });
  after(async () => {
    await limited.stop();
  });

  test('with RATE_LIMIT_USER=5 the sixth request in the window gets 429 rate_limited with Retry-After, per user', async () => {
    const carol = api(limited, await limited.token('carol'));
    const init = await carol.initiate({
      files: [{ name: 'a.pdf', size: 10, type: 'application/pdf' }],
    });
    assert.equal(init.status, 201);
    for (let i = 0; i < 4; i++) {
      assert.equal((await carol.session(init.body.sessionId)).status, 200, `request ${i + 2}`);
    }
    const sixth = await carol.session(init.body.sessionId);
    expectError(sixth, 429, 'rate_limited');
    const retryAfter = Number(sixth.headers.get('retry-after'));
    assert.ok(
      Number.isInteger(retryAfter) && retryAfter >= 1 && retryAfter <= 60,
      `Retry-After ${retryAfter}`,
    );
    expectError(await carol.status(init.body.files[0]?.fileId ?? ''), 429, 'rate_limited');

    // Another user has a budget of their own.
    const dave = api(limited, await limited.token('dave'));
    assert.equal(
      (await dave.initiate({ files: [{ name: 'a.pdf', size: 10, type: 'application/pdf' }] }))
        .status,
      201,
    );
  });
});
