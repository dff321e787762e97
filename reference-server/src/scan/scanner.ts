import type { Readable } from 'node:stream';

/** What a completed scan found. */
export const ScanVerdict = {
  clean: 'clean',
  infected: 'infected',
} as const;
export type ScanVerdict = (typeof ScanVerdict)[keyof typeof ScanVerdict];

/** The answer of a scan that ran to the end. Anything else is a {@link ScanError}. */
export type ScanResult =
  | { verdict: typeof ScanVerdict.clean }
  | {
      verdict: typeof ScanVerdict.infected;
      /** The signature's name as the scanner reports it, e.g. `Win.Test.EICAR_HDB-1`. */
      signature: string;
    };

/** Why a scan gave no answer. None of them means "clean". */
export const ScanErrorKind = {
  /** The scanner could not be reached: refused, no such socket, or the connect timed out. */
  unavailable: 'unavailable',
  /** Connected, but the scanner stopped taking data or did not answer in time. */
  timeout: 'timeout',
  /** The connection closed or was reset before a complete answer. */
  connection_lost: 'connection_lost',
  /** The file is larger than the scanner accepts in one stream (clamd's `StreamMaxLength`). */
  stream_too_large: 'stream_too_large',
  /**
   * The scanner refused to look at all of the file: a size, recursion, file-count or time
   * limit was hit (clamd's `Heuristics.Limits.Exceeded.*` with `AlertExceedsMax yes`).
   */
  limits_exceeded: 'limits_exceeded',
  /** The scanner answered with an error of its own (clamd's `... ERROR` lines). */
  scanner_error: 'scanner_error',
  /** The scanner's answer could not be understood. */
  protocol_error: 'protocol_error',
  /** Reading the file to scan failed. */
  source_error: 'source_error',
  /** The caller's AbortSignal fired. */
  aborted: 'aborted',
} as const;
export type ScanErrorKind = (typeof ScanErrorKind)[keyof typeof ScanErrorKind];

/**
 * Kinds worth trying again later: the scanner may come back, or the read may succeed. The rest
 * fail the same way on every attempt with the same file and scanner configuration.
 */
const RETRYABLE: ReadonlySet<ScanErrorKind> = new Set<ScanErrorKind>([
  ScanErrorKind.unavailable,
  ScanErrorKind.timeout,
  ScanErrorKind.connection_lost,
  ScanErrorKind.scanner_error,
  ScanErrorKind.protocol_error,
  ScanErrorKind.source_error,
]);

/** A scan that gave no answer. Callers must treat the file as not scanned (fail closed). */
export class ScanError extends Error {
  /** Whether a later attempt may succeed. */
  readonly retryable: boolean;

  constructor(
    readonly kind: ScanErrorKind,
    message: string,
    options: { cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ScanError';
    this.retryable = RETRYABLE.has(kind);
  }
}

export interface ScanOptions {
  /** Aborts the scan: the connection is closed and the scan rejects with kind `aborted`. */
  signal?: AbortSignal;
}

/**
 * Scans file contents for malware. Implementations stream `source` (they never hold a whole file
 * in memory), consume or destroy it, and reject with a {@link ScanError} whenever they cannot give
 * a definite answer.
 */
export interface Scanner {
  /** Scans the bytes of `source`. Resolves only with a definite verdict. */
  scan(source: Readable, options?: ScanOptions): Promise<ScanResult>;
  /** Resolves when the scanner answers; rejects with a {@link ScanError} otherwise (readiness). */
  ping(options?: ScanOptions): Promise<void>;
  /** The scanner's version and signature database description, e.g. for a health endpoint. */
  version(options?: ScanOptions): Promise<string>;
}
