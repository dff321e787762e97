import { strict as assert } from 'node:assert';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { HEADERS, routePath } from '@file-uploader/protocol';
import { api, expectError, request, startTestServer, type TestServer } from './harness.js';

/** A request through node:http, so Accept-Encoding is exactly what the test says. */
function rawGet(url: string, headers: Record<string, string>) {
  return new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>(
    (resolve, reject) => {
      http
        .get(url, { headers }, (res) => {
          const parts: Buffer[] = [];
          res.on('data', (part: Buffer) => parts.push(part));
          res.on('end', () =>
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(parts),
            }),
          );
        })
        .on('error', reject);
    },
  );
}

describe('HTTP surface: CORS, security headers, compression, methods', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer({ CORS_ORIGINS: 'https://app.example', MAX_FILES: '200' });
  });
  after(() => server?.stop());

  it('answers a preflight from an allowed origin with the protocol headers', async () => {
    const res = await request(server.url + routePath('chunk'), {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'authorization,content-digest,upload-session',
      },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), 'https://app.example');
    const allowed = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase();
    for (const name of [
      HEADERS.authorization,
      HEADERS.contentDigest,
      HEADERS.session,
      HEADERS.file,
    ]) {
      assert.ok(allowed.includes(name.toLowerCase()), `${name} allowed`);
    }
  });

  it('gives no CORS grant to an origin outside the allow-list', async () => {
    const res = await request(server.url + routePath('chunk'), {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' },
    });
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('sends security headers and a request id, echoing a safe caller id', async () => {
    const res = await request(server.url + '/healthz', {
      headers: { [HEADERS.requestId]: 'caller-request-0001' },
    });
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('content-security-policy'));
    assert.equal(res.headers.get(HEADERS.requestId), 'caller-request-0001');
    const unsafe = await request(server.url + '/healthz', {
      headers: { [HEADERS.requestId]: 'bad id with spaces' },
    });
    assert.match(unsafe.headers.get(HEADERS.requestId) ?? '', /^[0-9a-f-]{36}$/);
  });

  it('compresses large JSON responses for clients that accept gzip', async () => {
    const token = await server.token('gzip-user');
    const files = Array.from({ length: 120 }, (_, i) => ({
      name: `scan-${i}.pdf`,
      size: 1000,
      type: 'application/pdf',
    }));
    const init = await api(server, token).initiate({ files });
    assert.equal(init.status, 201);
    const res = await rawGet(
      server.url + routePath('session', { sessionId: init.body.sessionId }),
      {
        Authorization: `Bearer ${token}`,
        'Accept-Encoding': 'gzip',
      },
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-encoding'], 'gzip');
    const session = JSON.parse(gunzipSync(res.body).toString('utf8')) as { files: unknown[] };
    assert.equal(session.files.length, 120);
  });

  it('answers a wrong method and an unknown route in the protocol error format', async () => {
    const token = await server.token('method-user');
    expectError(
      await request(server.url + routePath('initiate'), {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}` },
      }),
      405,
      'method_not_allowed',
    );
    expectError(await request(server.url + '/no/such/route'), 404, 'not_found');
  });
});
