import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { pdf } from './fixtures.js';
import { api, expectError, startTestServer, uploadFile, type TestServer } from './harness.js';

/** A key set published over HTTP on loopback, as an identity provider would. */
describe('tokens verified against a JWKS_URL', () => {
  let jwks: Server;
  let server: TestServer;
  let signer: CryptoKey;
  let stranger: CryptoKey;

  before(async () => {
    const published = await generateKeyPair('RS256');
    signer = published.privateKey;
    stranger = (await generateKeyPair('RS256')).privateKey;
    const jwk = { ...(await exportJWK(published.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      res.setHeader('Content-Type', 'application/json');
      res.end(JSON.stringify({ keys: [jwk] }));
    });
    await new Promise<void>((resolve) => jwks.listen(0, '127.0.0.1', resolve));
    const { port } = jwks.address() as AddressInfo;
    server = await startTestServer({
      JWT_SECRET: '',
      JWKS_URL: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      JWT_ISSUER: 'https://id.example',
      JWT_AUDIENCE: 'uploads',
    });
  });

  after(async () => {
    await server?.stop();
    await new Promise((resolve) => jwks?.close(resolve));
  });

  const sign = (key: CryptoKey, claims: { iss?: string; aud?: string; exp?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
      .setSubject('jwks-user')
      .setIssuer(claims.iss ?? 'https://id.example')
      .setAudience(claims.aud ?? 'uploads')
      .setIssuedAt()
      .setExpirationTime(claims.exp ?? '10m')
      .sign(key);

  it('accepts a token signed by a published key and uploads a file', async () => {
    const result = await uploadFile(
      server,
      await sign(signer),
      'report.pdf',
      pdf(),
      'application/pdf',
    );
    assert.equal(result.status.status, 'ready');
  });

  it('refuses a token signed by a key that is not published', async () => {
    expectError(await api(server, await sign(stranger)).status('x'), 401, 'unauthenticated');
  });

  it('refuses a wrong issuer, a wrong audience and an expired token', async () => {
    for (const claims of [{ iss: 'https://evil.example' }, { aud: 'other' }, { exp: '-1m' }]) {
      expectError(
        await api(server, await sign(signer, claims)).status('x'),
        401,
        'unauthenticated',
      );
    }
  });

  it('refuses an HS256 token whatever its secret', async () => {
    const hs = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('jwks-user')
      .setIssuer('https://id.example')
      .setAudience('uploads')
      .setExpirationTime('10m')
      .sign(new TextEncoder().encode('x'.repeat(32)));
    expectError(await api(server, hs).status('x'), 401, 'unauthenticated');
  });
});
