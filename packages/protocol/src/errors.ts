/**
 * Every error code of protocol v1 with its HTTP status. Responses carry
 * `{ error: { code, message, details? } }`; file statuses carry `{ code, message }`.
 */
export const ERROR_CODES = {
  unauthenticated: { status: 401, message: 'A valid bearer token is required.' },
  forbidden: { status: 403, message: 'This resource belongs to another user.' },
  not_found: { status: 404, message: 'Not found.' },
  method_not_allowed: { status: 405, message: 'Method not allowed.' },
  request_timeout: { status: 408, message: 'The request body stopped arriving.' },
  conflict: { status: 409, message: 'The request conflicts with what is stored.' },
  session_expired: { status: 410, message: 'The upload session has expired.' },
  length_required: { status: 411, message: 'Content-Length is required.' },
  file_too_large: { status: 413, message: 'The file is larger than allowed.' },
  session_too_large: { status: 413, message: 'The files together are larger than allowed.' },
  too_many_files: { status: 413, message: 'Too many files in one session.' },
  type_not_allowed: { status: 415, message: 'This file type is not allowed.' },
  range_not_satisfiable: { status: 416, message: 'Content-Range does not fit the file.' },
  validation_failed: { status: 400, message: 'The request is not valid.' },
  body_length_mismatch: { status: 400, message: 'The body does not match Content-Length.' },
  digest_mismatch: { status: 400, message: 'The chunk does not match its Content-Digest.' },
  locked: { status: 423, message: 'The file is busy; try again shortly.' },
  precondition_required: { status: 428, message: 'This request needs a confirmation header.' },
  rate_limited: { status: 429, message: 'Too many requests; slow down.' },
  internal: { status: 500, message: 'Internal server error.' },
  unavailable: { status: 503, message: 'The service is unavailable; try again shortly.' },
  // Outcomes of processing, reported in a file's `error` (not as HTTP responses).
  type_mismatch: { status: 422, message: 'The file content does not match an allowed type.' },
  size_mismatch: { status: 422, message: 'The assembled file does not have the declared size.' },
  empty_file: { status: 422, message: 'The file is empty.' },
  infected: { status: 422, message: 'The virus scanner found malware in the file.' },
  scan_failed: { status: 503, message: 'The file could not be scanned in time.' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The body of every error response. */
export interface ErrorBody {
  error: ProtocolError;
}

export interface ProtocolError {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

/** HTTP status for an error code. */
export function statusOf(code: ErrorCode): number {
  return ERROR_CODES[code].status;
}

/** True when `value` is a known error code. */
export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
}

/**
 * True when `value` has the shape of an error response body. The code is not checked against
 * {@link ERROR_CODES}: a client keeps working when a newer server adds codes, and does not carry
 * the table's bytes.
 */
export function isErrorBody(value: unknown): value is ErrorBody {
  if (typeof value !== 'object' || value === null) return false;
  const error = (value as { error?: unknown }).error;
  return (
    typeof error === 'object' &&
    error !== null &&
    typeof (error as { code?: unknown }).code === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
}
