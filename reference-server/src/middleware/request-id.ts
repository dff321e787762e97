import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { HEADERS } from '@file-uploader/protocol';

const SAFE_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Gives every request an id (a caller's `X-Request-Id` when it looks safe), echoes it on the
 * response and binds it to a per-request logger in `ctx.state.log`. Logs one line per request.
 */
export function requestId(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get(HEADERS.requestId);
    const id = SAFE_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.state.log = logger.child({ requestId: id });
    ctx.set(HEADERS.requestId, id);
    const started = performance.now();
    try {
      await next();
    } finally {
      ctx.state.log.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(performance.now() - started),
          userId: ctx.state.user?.id,
        },
        'request',
      );
    }
  };
}
