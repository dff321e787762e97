import Router from '@koa/router';
import { SignJWT } from 'jose';
import { API_PREFIX, HEADERS, ROUTES, SERVICE_ROUTES } from '@file-uploader/protocol';
import type { ServerDeps } from '../deps.js';
import { HttpError } from '../http-error.js';
import { StoreUnavailableError } from '../stores/store-unavailable-error.js';
import { verifyDownload } from '../services/signed-url.js';
import { attachmentDisposition } from '../stores/attachment-disposition.js';

/** `filename` for Content-Disposition: an ASCII fallback plus the UTF-8 name (RFC 6266). */
/** Liveness and readiness probes; mounted before rate limiting. */
export function healthRouter(deps: ServerDeps, state: { ready: boolean }): Router {
  const router = new Router();
  router.get(SERVICE_ROUTES.health, (ctx) => {
    ctx.body = { status: 'ok' };
  });

  router.get(SERVICE_ROUTES.ready, async (ctx) => {
    if (!state.ready) throw new HttpError('unavailable', 'The server is shutting down.');
    try {
      await deps.sessions.ping();
    } catch (err) {
      throw new HttpError('unavailable', 'The session store does not answer.', undefined, {
        cause: err,
        ...(err instanceof StoreUnavailableError ? { retryAfter: err.retryAfterSeconds } : {}),
      });
    }
    ctx.body = { status: 'ready' };
  });

  return router;
}

/** Routes that take no bearer token: signed downloads and the dev-only token route. */
export function publicRouter(deps: ServerDeps): Router {
  const { config, sessions, blobs } = deps;
  const router = new Router();

  // Signed download URLs authorize by signature; the file must still be ready and unchanged.
  router.get(API_PREFIX + ROUTES.signedFile, async (ctx) => {
    const file = await sessions.getFile(ctx.params.fileId ?? '');
    const verdict =
      file?.objectKey && file.status === 'ready'
        ? verifyDownload(
            config.downloadSecret,
            { fileId: file.id, objectKey: file.objectKey },
            ctx.query,
            Math.floor(Date.now() / 1000),
          )
        : 'invalid';
    if (verdict === 'expired') throw new HttpError('forbidden', 'The download link has expired.');
    if (verdict !== 'valid' || !file?.objectKey) {
      throw new HttpError('forbidden', 'The download link is not valid.');
    }
    const stat = await blobs.statObject(file.objectKey);
    if (!stat) throw new HttpError('not_found', 'The file is no longer stored.');
    ctx.set('Content-Disposition', attachmentDisposition(file.name));
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cache-Control', 'private, no-store');
    ctx.set('Content-Security-Policy', "default-src 'none'; sandbox");
    ctx.type = file.detectedType ?? 'application/octet-stream';
    ctx.length = stat.size;
    ctx.body = blobs.readObject(file.objectKey);
  });

  if (config.devMode && config.jwt.secret) {
    const secret = config.jwt.secret;
    // Dev mode only: the demo page gets a short-lived token for a fixed demo user.
    router.get(SERVICE_ROUTES.devToken, async (ctx) => {
      const jwt = new SignJWT({}).setProtectedHeader({ alg: 'HS256' });
      if (config.jwt.issuer) jwt.setIssuer(config.jwt.issuer);
      if (config.jwt.audience) jwt.setAudience(config.jwt.audience);
      const token = await jwt
        .setSubject('demo-user')
        .setIssuedAt()
        .setExpirationTime('1h')
        .sign(secret);
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { token, userId: 'demo-user', header: HEADERS.authorization };
    });
  }
  return router;
}
