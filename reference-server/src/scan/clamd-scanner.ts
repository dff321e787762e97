import type { Readable } from 'node:stream';
import { parseClamdUrl, type ClamdAddress } from './clamd-address.js';
import { ClamdConnection, type ClamdConnectionTimeouts } from './clamd-connection.js';
import {
  ScanError,
  ScanErrorKind,
  ScanVerdict,
  type ScanOptions,
  type ScanResult,
  type Scanner,
} from './scanner.js';

export interface ClamdScannerOptions {
  /** `tcp://HOST[:PORT]` or `unix:///path/to/clamd.sock` (the `CLAMD_URL` setting). */
  url: string;
  /** Connecting may take this long; then the scan fails with kind `unavailable`. Default 5 s. */
  connectTimeoutMs?: number;
  /**
   * While streaming, clamd may take no data for this long, and `ping`/`version` may wait this
   * long for their answer; then kind `timeout`. Default 30 s.
   */
  idleTimeoutMs?: number;
  /**
   * After the last byte, the verdict may take this long; then kind `timeout`. Default 150 s:
   * longer than clamd's own `MaxScanTime` (120 s by default), which answers with a limits alert.
   */
  verdictTimeoutMs?: number;
  /** A whole scan may take this long, however steadily bytes move (kind `timeout`). 15 min. */
  totalTimeoutMs?: number;
  /**
   * Bytes per INSTREAM chunk, and so the most the scanner holds of a file at a time (plus the
   * socket's small buffer). Default 64 KiB.
   */
  chunkSize?: number;
  /**
   * clamd's `StreamMaxLength` in bytes. When set, a longer file fails with kind
   * `stream_too_large` before the excess is sent. Without it clamd still refuses the file, but
   * it closes the socket right after answering, and when that close resets a write still in
   * flight the answer is lost and the scan fails as `connection_lost` (retryable) instead.
   */
  streamMaxLength?: number;
}

const DEFAULTS = {
  connectTimeoutMs: 5_000,
  idleTimeoutMs: 30_000,
  verdictTimeoutMs: 150_000,
  totalTimeoutMs: 15 * 60_000,
  chunkSize: 64 * 1024,
} as const;

/** clamd refuses chunks over its StreamMaxLength; far below the 4-byte length's range. */
const MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const INSTREAM = Buffer.from('zINSTREAM\0', 'latin1');
const END_OF_STREAM = Buffer.alloc(4);
const LIMITS_ALERT = 'Heuristics.Limits.Exceeded';

/**
 * Scans with ClamAV's daemon over its INSTREAM command, on TCP or a unix socket. The file is
 * streamed in length-prefixed chunks as clamd takes them, so memory stays at about one chunk per
 * scan whatever the file's size. Every failure rejects with a {@link ScanError}; only clamd's
 * `stream: OK` resolves clean.
 */
export class ClamdScanner implements Scanner {
  /** Where clamd listens, parsed from `url`. */
  readonly address: ClamdAddress;
  readonly #options: Required<Omit<ClamdScannerOptions, 'url' | 'streamMaxLength'>>;
  readonly #streamMaxLength: number;

  constructor(options: ClamdScannerOptions) {
    this.address = parseClamdUrl(options.url);
    const settings: Record<keyof typeof DEFAULTS, number> = { ...DEFAULTS };
    for (const key of Object.keys(DEFAULTS) as Array<keyof typeof DEFAULTS>) {
      const value = options[key];
      if (value === undefined) continue;
      if (!Number.isSafeInteger(value) || value <= 0) {
        throw new TypeError(`ClamdScanner: ${key} must be a positive integer, got ${value}`);
      }
      settings[key] = value;
    }
    if (settings.chunkSize > MAX_CHUNK_SIZE) {
      throw new TypeError(`ClamdScanner: chunkSize must be at most ${MAX_CHUNK_SIZE} bytes`);
    }
    this.#options = settings;
    const limit = options.streamMaxLength;
    if (limit !== undefined && (!Number.isSafeInteger(limit) || limit <= 0)) {
      throw new TypeError(`ClamdScanner: streamMaxLength must be a positive integer, got ${limit}`);
    }
    this.#streamMaxLength = limit ?? Number.POSITIVE_INFINITY;
  }

  async scan(source: Readable, options: ScanOptions = {}): Promise<ScanResult> {
    let connection: ClamdConnection;
    try {
      connection = await this.#open(options.signal);
    } catch (err) {
      source.destroy();
      throw err;
    }
    // A failed connection must not leave us waiting on a stalled source, nor the source open.
    connection.onSettle(() => source.destroy());
    try {
      const sentAll = await this.#send(connection, source);
      const result = parseScanReply(await connection.answer(this.#options.verdictTimeoutMs));
      if (!sentAll && result.verdict === ScanVerdict.clean) {
        // clamd cannot have seen the whole file: an early "OK" must not release it.
        throw new ScanError(ScanErrorKind.protocol_error, 'clamd answered before the file ended');
      }
      return result;
    } finally {
      connection.close();
      source.destroy();
    }
  }

  async ping(options: ScanOptions = {}): Promise<void> {
    const reply = await this.#command('zPING\0', options.signal);
    if (reply !== 'PONG') {
      throw new ScanError(ScanErrorKind.protocol_error, `clamd answered PING with "${reply}"`);
    }
  }

  async version(options: ScanOptions = {}): Promise<string> {
    const reply = await this.#command('zVERSION\0', options.signal);
    if (!reply.startsWith('ClamAV ')) {
      throw new ScanError(ScanErrorKind.protocol_error, `clamd answered VERSION with "${reply}"`);
    }
    return reply;
  }

  /**
   * Streams `source` as INSTREAM chunks. Resolves true when all of it and the end marker were
   * written, false when it stopped early because clamd answered or the connection failed.
   */
  async #send(connection: ClamdConnection, source: Readable): Promise<boolean> {
    const { chunkSize } = this.#options;
    let sent = 0;
    try {
      if (!(await connection.write(INSTREAM))) return false;
      for await (const piece of source as AsyncIterable<Buffer | string>) {
        const bytes = typeof piece === 'string' ? Buffer.from(piece) : piece;
        for (let offset = 0; offset < bytes.length; offset += chunkSize) {
          const chunk = bytes.subarray(offset, offset + chunkSize);
          sent += chunk.length;
          if (sent > this.#streamMaxLength) {
            connection.fail(
              ScanErrorKind.stream_too_large,
              `The file is larger than clamd's StreamMaxLength (${this.#streamMaxLength} bytes)`,
            );
            return false;
          }
          const header = Buffer.allocUnsafe(4);
          header.writeUInt32BE(chunk.length);
          if (!(await connection.write(header, chunk))) return false;
        }
      }
      if (connection.settled) return false;
      // write() hands the marker to the socket at once; an answer during its drain wait is fine.
      await connection.write(END_OF_STREAM);
      return true;
    } catch (err) {
      // The source was destroyed because the connection settled: its outcome is the answer.
      if (connection.settled) return false;
      connection.fail(
        ScanErrorKind.source_error,
        `Reading the file to scan failed: ${(err as Error).message}`,
        err,
      );
      return false;
    }
  }

  /** Sends a command without a body and returns clamd's answer. */
  async #command(command: string, signal: AbortSignal | undefined): Promise<string> {
    const connection = await this.#open(signal);
    try {
      await connection.write(Buffer.from(command, 'latin1'));
      return await connection.answer(this.#options.idleTimeoutMs);
    } finally {
      connection.close();
    }
  }

  #open(signal: AbortSignal | undefined): Promise<ClamdConnection> {
    if (signal?.aborted) {
      return Promise.reject(
        new ScanError(ScanErrorKind.aborted, 'The scan was aborted', { cause: signal.reason }),
      );
    }
    const timeouts: ClamdConnectionTimeouts = {
      connectTimeoutMs: this.#options.connectTimeoutMs,
      idleTimeoutMs: this.#options.idleTimeoutMs,
      totalTimeoutMs: this.#options.totalTimeoutMs,
    };
    return ClamdConnection.open(this.address, timeouts, signal);
  }
}

/**
 * Maps clamd's INSTREAM answer. Only `stream: OK` is clean; a limits alert is not a virus but
 * a file clamd did not fully look at, so it is an error, never clean and never "infected".
 */
export function parseScanReply(reply: string): ScanResult {
  if (reply === 'stream: OK') return { verdict: ScanVerdict.clean };
  const found = /^stream: (.+) FOUND$/.exec(reply);
  if (found?.[1]) {
    const signature = found[1];
    if (signature.startsWith(LIMITS_ALERT)) {
      throw new ScanError(
        ScanErrorKind.limits_exceeded,
        `clamd did not scan the whole file (${signature}); ` +
          'raise its limits (MaxFileSize, MaxScanSize, ...)',
      );
    }
    return { verdict: ScanVerdict.infected, signature };
  }
  if (/size limit exceeded/i.test(reply)) {
    throw new ScanError(
      ScanErrorKind.stream_too_large,
      `clamd refused the file as larger than its StreamMaxLength ("${reply}")`,
    );
  }
  if (/ERROR$/.test(reply)) {
    throw new ScanError(ScanErrorKind.scanner_error, `clamd answered "${reply}"`);
  }
  throw new ScanError(ScanErrorKind.protocol_error, `clamd gave an unexpected answer "${reply}"`);
}
