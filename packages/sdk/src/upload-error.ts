import { isErrorBody, type ErrorCode } from '@file-uploader/protocol';

/** Codes of failures that happen on the client side, beside the protocol's own. */
export type ClientErrorCode = 'network' | 'stalled' | 'aborted' | 'file_changed' | 'quota_exceeded';

/** Why an upload (or one request of it) failed. */
export class UploadError extends Error {
  override readonly name = 'UploadError';

  constructor(
    readonly code: ErrorCode | ClientErrorCode,
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    options?: { cause?: unknown; retryAfterMs?: number; details?: unknown },
  ) {
    // Error reads only `cause` (and sets it when the key is there).
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
    this.details = options?.details;
  }

  /** How long the server asked us to wait (Retry-After), if it did. */
  readonly retryAfterMs?: number;
  readonly details?: unknown;
}

/** Statuses worth another attempt: timeouts, locks, rate limits and server faults. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 423 || status === 429 || status >= 500;
}

/** Retry-After in milliseconds, from seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** Turns a non-2xx response into an UploadError, using the protocol's error body when present. */
export function errorFromResponse(
  status: number,
  body: unknown,
  retryAfter: string | null,
): UploadError {
  const retryable = isRetryableStatus(status);
  const known = isErrorBody(body) ? body.error : undefined;
  return new UploadError(
    known?.code ?? (status >= 500 ? 'internal' : 'validation_failed'),
    known?.message ?? `HTTP ${status}`,
    retryable,
    status,
    { retryAfterMs: parseRetryAfter(retryAfter), details: known?.details },
  );
}
