/** An error the emulator answers with, in the JSON API's error format. */
export class GcsError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    message: string,
    /** Extra response headers, e.g. `Content-Range` on a 416. */
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'GcsError';
  }

  /** The body GCS sends: `{ error: { code, message, errors: [{ message, domain, reason }] } }`. */
  body(): object {
    return {
      error: {
        code: this.status,
        message: this.message,
        errors: [{ message: this.message, domain: 'global', reason: this.reason }],
      },
    };
  }
}

export function notFound(what: string): GcsError {
  return new GcsError(404, 'notFound', `No such object: ${what}`);
}

export function badRequest(message: string, reason = 'invalid'): GcsError {
  return new GcsError(400, reason, message);
}

export function preconditionFailed(): GcsError {
  return new GcsError(
    412,
    'conditionNotMet',
    'At least one of the pre-conditions you specified did not hold.',
  );
}
