/**
 * A backing store (Redis, a bucket, ...) cannot serve the request right now: it is down,
 * restarting, or does not answer in time. The request did not take effect, or took effect in a
 * way a retry handles, so the client is told to retry: the error middleware answers
 * `503 unavailable` with `Retry-After`.
 */
export class StoreUnavailableError extends Error {
  /** Seconds after which a retry is worth it. */
  readonly retryAfterSeconds: number;

  constructor(message: string, options: { cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'StoreUnavailableError';
    this.retryAfterSeconds = options.retryAfterSeconds ?? 2;
  }
}
