import type { Middleware } from 'koa';
import type { ErrorBody } from '@file-uploader/protocol';
import { HttpError } from '../http-error.js';
import { StoreUnavailableError } from '../stores/store-unavailable-error.js';

/** koa-body and other libraries throw http-errors style objects with a status. */
function fromLibrary(err: unknown): HttpError | undefined {
  const status = (err as { status?: unknown })?.status;
  if (typeof status !== 'number' || status < 400 || status >= 500) return undefined;
  const message = (err as { expose?: boolean; message?: string }).expose
    ? (err as Error).message
    : undefined;
  if (status === 413)
    return new HttpError('validation_failed', message ?? 'Request body too large.');
  if (status === 415)
    return new HttpError('validation_failed', message ?? 'Unsupported media type.');
  if (status === 404) return new HttpError('not_found', message);
  if (status === 405) return new HttpError('method_not_allowed', message);
  return new HttpError('validation_failed', message);
}

/** A backing store that cannot serve right now: 503, and when to try again. */
function fromStore(err: StoreUnavailableError): HttpError {
  return new HttpError('unavailable', err.message, undefined, {
    cause: err,
    retryAfter: err.retryAfterSeconds,
  });
}

/**
 * Mounted first: turns anything thrown into the protocol's error body, and reports unexpected
 * errors through `app.emit('error')` for logging, as koa does.
 */
export function errorHandler(): Middleware {
  return async (ctx, next) => {
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) throw new HttpError('not_found');
    } catch (err) {
      const unavailable = err instanceof StoreUnavailableError;
      const known =
        err instanceof HttpError ? err : unavailable ? fromStore(err) : fromLibrary(err);
      const error = known ?? new HttpError('internal', undefined, undefined, { cause: err });
      // Outages are logged too: they are the server's problem, not the client's.
      if (!known || unavailable) ctx.app.emit('error', err, ctx);
      ctx.status = error.status;
      if (error.retryAfter !== undefined) ctx.set('Retry-After', String(error.retryAfter));
      const body: ErrorBody = { error: { code: error.code, message: error.message } };
      if (error.details !== undefined) body.error.details = error.details;
      ctx.body = body;
      // A request body we stopped reading must not be left half-consumed on a kept-alive socket.
      if (ctx.state.unreadBody) ctx.set('Connection', 'close');
    }
  };
}
