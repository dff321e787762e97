import type { MetadataWarningCode } from '@file-uploader/protocol';

/**
 * A reason to stop reading a file's content: a spent limit, a timeout or malformed bytes.
 * Extraction keeps what it found so far and reports this as a warning; it is never a failure
 * of the server.
 */
export class MetadataError extends Error {
  constructor(
    readonly code: MetadataWarningCode,
    message: string,
  ) {
    super(message);
    this.name = 'MetadataError';
  }
}

/** Stops extraction because a limit was reached. */
export function limit(message: string): never {
  throw new MetadataError('limit', message);
}

/** Stops extraction because the content does not follow its format. */
export function malformed(message: string): never {
  throw new MetadataError('malformed', message);
}
