import { ERROR_CODES, type ErrorCode } from '@file-uploader/protocol';

/**
 * An error meant for the client: the error middleware turns it into
 * `{error: {code, message, details?}}` with the code's HTTP status.
 */
export class HttpError extends Error {
  readonly status: number;
  /** Seconds, sent as Retry-After (429, 423, 503). */
  retryAfter?: number;

  constructor(
    readonly code: ErrorCode,
    message: string = ERROR_CODES[code].message,
    readonly details?: unknown,
    options?: { cause?: unknown; retryAfter?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HttpError';
    this.status = ERROR_CODES[code].status;
    this.retryAfter = options?.retryAfter;
  }
}
