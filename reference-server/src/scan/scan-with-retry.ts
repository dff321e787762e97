import type { Readable } from 'node:stream';
import { ScanError, ScanErrorKind, type ScanResult, type Scanner } from './scanner.js';

export interface ScanWithRetryOptions {
  /** Opens the file afresh for each attempt (a stream is read once). */
  open: () => Readable | Promise<Readable>;
  /**
   * Epoch milliseconds after which no new attempt starts; the last error is then the outcome.
   * An attempt started before it runs to its own end (bounded by the scanner's timeouts).
   */
  deadline: number;
  /** Wait before the first retry; doubled each time up to `maxDelayMs`. Default 1 s. */
  initialDelayMs?: number;
  /** The longest wait between attempts. Default 30 s. */
  maxDelayMs?: number;
  /** Stops waiting and scanning: the outcome is an error of kind `aborted`. */
  signal?: AbortSignal;
  /** Called after a failed attempt that will be retried, before the wait (e.g. to log it). */
  onRetry?: (failure: RetryNotice) => void | Promise<void>;
}

/** What `onRetry` is told. */
export interface RetryNotice {
  error: ScanError;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** How long until the next attempt. */
  delayMs: number;
}

/**
 * The end of a scan with retries: a definite result, or the error that ended the retries. A
 * failed outcome never means clean; the file must stay unreleased. Kind `aborted` means the
 * caller stopped (shutdown), not that the file is bad.
 */
export type ScanOutcome =
  | { ok: true; result: ScanResult; attempts: number }
  | { ok: false; error: ScanError; attempts: number };

/**
 * Scans with `scanner`, retrying failures that may pass (clamd down, timeouts, dropped
 * connections, read errors) with exponential backoff and jitter until `deadline`. Errors that
 * would repeat (file too large for clamd, limits exceeded) end it at once. Never throws.
 */
export async function scanWithRetry(
  scanner: Scanner,
  options: ScanWithRetryOptions,
): Promise<ScanOutcome> {
  const { signal } = options;
  const initialDelayMs = options.initialDelayMs ?? 1_000;
  const maxDelayMs = options.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt++) {
    let error: ScanError;
    try {
      if (signal?.aborted) throw abortedError(signal);
      const source = await openSource(options.open);
      return { ok: true, result: await scanner.scan(source, { signal }), attempts: attempt };
    } catch (err) {
      error = toScanError(err);
    }
    const remaining = options.deadline - Date.now();
    if (!error.retryable || remaining <= 0) return { ok: false, error, attempts: attempt };

    const backoff = Math.min(maxDelayMs, initialDelayMs * 2 ** (attempt - 1));
    // Jitter spreads the retries of many files that failed together (clamd restarting).
    const delayMs = Math.min(remaining, Math.round(backoff * (0.8 + Math.random() * 0.4)));
    try {
      await options.onRetry?.({ error, attempt, delayMs });
      await sleep(delayMs, signal);
    } catch (err) {
      return { ok: false, error: toScanError(err), attempts: attempt };
    }
  }
}

async function openSource(open: ScanWithRetryOptions['open']): Promise<Readable> {
  try {
    return await open();
  } catch (err) {
    throw new ScanError(
      ScanErrorKind.source_error,
      `Opening the file to scan failed: ${(err as Error).message}`,
      { cause: err },
    );
  }
}

function toScanError(err: unknown): ScanError {
  if (err instanceof ScanError) return err;
  // A scanner must reject with ScanError; anything else is still a failure, never clean.
  const message = err instanceof Error ? err.message : String(err);
  return new ScanError(ScanErrorKind.scanner_error, `The scan failed: ${message}`, { cause: err });
}

function abortedError(signal: AbortSignal): ScanError {
  return new ScanError(ScanErrorKind.aborted, 'The scan was aborted', { cause: signal.reason });
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortedError(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
