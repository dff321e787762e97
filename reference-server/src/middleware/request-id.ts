import { randomUUID } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { requestContext } from '../request-context.js';
import { HEADERS } from '@file-uploader/protocol';

const SAFE_ID = /^[A-Za-z0-9._-]{8,128}$/;

/**
 * Gives every request an id (a caller's `X-Request-Id` when it looks safe), echoes it on the
 * response, and runs the rest of the request in a context that tags every log line with it.
 * Logs one line per request.
 */
export function requestId(logger: Logger): Middleware {
  return async (ctx, next) => {
    const incoming = ctx.get(HEADERS.requestId);
    const id = SAFE_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = id;
    ctx.set(HEADERS.requestId, id);
    const started = performance.now();
    await requestContext.run({ requestId: id }, async () => {
      try {
        await next();
      } finally {
        logger.info(
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
    });
  };
}
