import pRetry from 'p-retry';
import { UploadError } from './upload-error.js';

export interface RetryOptions {
  /** Attempts after the first one; the count starts again whenever the upload makes progress. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 8, minTimeoutMs: 500, maxTimeoutMs: 30_000 };

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(done, ms);
    function done() {
      signal.removeEventListener('abort', stop);
      resolve();
    }
    function stop() {
      clearTimeout(timer);
      reject(signal.reason);
    }
    signal.addEventListener('abort', stop, { once: true });
  });
}

/** True while a browser knows it has no network. Node has no such notion. */
function offline(): boolean {
  return typeof navigator !== 'undefined' && navigator.onLine === false;
}

/** Resolves when the browser is back online (at once when it never was offline). */
function online(signal: AbortSignal): Promise<void> {
  if (!offline() || typeof addEventListener !== 'function') return Promise.resolve();
  return new Promise((resolve, reject) => {
    const back = () => {
      signal.removeEventListener('abort', stop);
      resolve();
    };
    const stop = () => {
      removeEventListener('online', back);
      reject(signal.reason);
    };
    addEventListener('online', back, { once: true });
    signal.addEventListener('abort', stop, { once: true });
  });
}

/**
 * Runs `attempt` with exponential backoff and jitter. Retries only UploadErrors marked
 * retryable; honours Retry-After; while the browser is offline it waits for `online` without
 * spending attempts; and an attempt after progress (see `progressed`) spends none either.
 */
export function withRetry<T>(
  attempt: () => Promise<T>,
  options: RetryOptions & { signal: AbortSignal; progressed?: (error: unknown) => boolean },
): Promise<T> {
  let waitedOffline = false;
  return pRetry(attempt, {
    retries: options.retries,
    minTimeout: options.minTimeoutMs,
    maxTimeout: options.maxTimeoutMs,
    factor: 2,
    randomize: true,
    signal: options.signal,
    onFailedAttempt: async ({ error }) => {
      waitedOffline = offline();
      if (waitedOffline) await online(options.signal);
      const wait = error instanceof UploadError ? error.retryAfterMs : undefined;
      if (wait !== undefined) await sleep(Math.min(wait, options.maxTimeoutMs * 4), options.signal);
    },
    shouldConsumeRetry: ({ error }) => !waitedOffline && !(options.progressed?.(error) ?? false),
    shouldRetry: ({ error }) => error instanceof UploadError && error.retryable,
  });
}
