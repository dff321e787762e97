import { UploadError } from './upload-error.js';

export interface RetryOptions {
  /** Attempts after the first one; the count starts again whenever the upload makes progress. */
  retries: number;
  minTimeoutMs: number;
  maxTimeoutMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { retries: 8, minTimeoutMs: 500, maxTimeoutMs: 30_000 };

/** Waits `ms`; rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
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
 * Runs `attempt` with exponential backoff and jitter (the delay before retry n is
 * `minTimeoutMs * 2^n`, times a random factor in [1, 2), at most `maxTimeoutMs`). Retries only
 * UploadErrors marked retryable; honours Retry-After; while the browser is offline it waits for
 * `online` without spending attempts; and an attempt after progress (see `progressed`) spends
 * none either, and goes again at once. (The policy of p-retry, in a fraction of its bytes.)
 */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  options: RetryOptions & { signal: AbortSignal; progressed?: (error: unknown) => boolean },
): Promise<T> {
  const { signal } = options;
  for (let spent = 0; ;) {
    signal.throwIfAborted();
    try {
      return await attempt();
    } catch (error) {
      const waitedOffline = offline();
      if (waitedOffline) await online(signal);
      const wait = error instanceof UploadError ? error.retryAfterMs : undefined;
      if (wait !== undefined) await sleep(Math.min(wait, options.maxTimeoutMs * 4), signal);
      const spend = !waitedOffline && !(options.progressed?.(error) ?? false);
      if (spent >= options.retries || !(error instanceof UploadError && error.retryable)) {
        throw error;
      }
      if (spend) {
        const delay = (1 + Math.random()) * options.minTimeoutMs * 2 ** spent++;
        await sleep(Math.min(delay, options.maxTimeoutMs), signal);
      }
    }
  }
}
