import net from 'node:net';
import { formatClamdAddress, type ClamdAddress } from './clamd-address.js';
import { ScanError, ScanErrorKind } from './scanner.js';

/** clamd's answers are one short line; anything longer is not clamd talking. */
const MAX_REPLY_BYTES = 4096;

export interface ClamdConnectionTimeouts {
  /** Connecting may take this long (kind `unavailable` after). */
  connectTimeoutMs: number;
  /** While sending or waiting for a short answer: no progress for this long (kind `timeout`). */
  idleTimeoutMs: number;
  /** The whole exchange may take this long (kind `timeout`). */
  totalTimeoutMs: number;
}

/**
 * One request to clamd over one socket: connect, write with backpressure, read the single
 * `\0`-terminated answer of a `z`-command. Every way it can go wrong ends in exactly one
 * {@link ScanError}, and a complete answer wins over a later error (clamd closes the socket right
 * after answering "size limit exceeded", which can reset our unfinished write).
 */
export class ClamdConnection {
  readonly #socket: net.Socket;
  readonly #timeouts: ClamdConnectionTimeouts;
  readonly #where: string;
  readonly #answer: Promise<string>;
  #resolve!: (reply: string) => void;
  #reject!: (error: ScanError) => void;
  #received: Buffer[] = [];
  #receivedBytes = 0;
  #connected = false;
  #settled = false;
  #phaseTimer: NodeJS.Timeout | undefined;
  readonly #totalTimer: NodeJS.Timeout;
  readonly #onSettle = new Set<() => void>();

  private constructor(
    address: ClamdAddress,
    timeouts: ClamdConnectionTimeouts,
    signal: AbortSignal | undefined,
  ) {
    this.#timeouts = timeouts;
    this.#where = formatClamdAddress(address);
    this.#answer = new Promise<string>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // Callers await `answer()` only at the end; a failure before that is not unhandled.
    this.#answer.catch(() => undefined);
    this.#socket =
      address.transport === 'tcp'
        ? net.connect({ host: address.host, port: address.port })
        : net.connect({ path: address.path });
    this.#socket.setNoDelay(true);
    this.#totalTimer = setTimeout(
      () =>
        this.fail(
          this.#connected ? ScanErrorKind.timeout : ScanErrorKind.unavailable,
          `clamd at ${this.#where} did not finish within ${timeouts.totalTimeoutMs} ms`,
        ),
      timeouts.totalTimeoutMs,
    );
    this.#socket.on('data', (data: Buffer) => this.#onData(data));
    this.#socket.on('end', () => this.#onEnd());
    this.#socket.on('error', (err) => this.#onError(err));
    this.#socket.on('close', () =>
      this.fail(ScanErrorKind.connection_lost, `clamd at ${this.#where} closed the connection`),
    );
    if (signal) {
      const onAbort = (): void =>
        this.fail(ScanErrorKind.aborted, 'The request to clamd was aborted', signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      this.onSettle(() => signal.removeEventListener('abort', onAbort));
      if (signal.aborted) onAbort();
    }
  }

  /**
   * Connects; rejects with kind `unavailable` when clamd cannot be reached in time, or `aborted`
   * when `signal` fires (now or later: it ends the whole exchange).
   */
  static async open(
    address: ClamdAddress,
    timeouts: ClamdConnectionTimeouts,
    signal?: AbortSignal,
  ): Promise<ClamdConnection> {
    const connection = new ClamdConnection(address, timeouts, signal);
    await connection.#connect();
    return connection;
  }

  /** True once an answer arrived or the connection failed: sending more is pointless. */
  get settled(): boolean {
    return this.#settled;
  }

  /**
   * Runs `callback` once, when the connection settles (at once if it has). Returns a function
   * that cancels the callback.
   */
  onSettle(callback: () => void): () => void {
    if (this.#settled) {
      callback();
      return () => undefined;
    }
    this.#onSettle.add(callback);
    return () => this.#onSettle.delete(callback);
  }

  /**
   * Writes `data`, waiting while the socket's buffer is full (backpressure). Resolves true to
   * go on sending, false when the connection has settled (an early answer or a failure).
   */
  async write(...data: Uint8Array[]): Promise<boolean> {
    if (this.#settled) return false;
    let flowing = true;
    for (const part of data) flowing = this.#socket.write(part);
    if (flowing) return true;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.#socket.off('drain', done);
        cancel();
        this.#clearPhase();
        resolve();
      };
      this.#socket.on('drain', done);
      const cancel = this.onSettle(done);
      this.#armPhase(
        this.#timeouts.idleTimeoutMs,
        `clamd at ${this.#where} took no data for ${this.#timeouts.idleTimeoutMs} ms`,
      );
    });
    return !this.#settled;
  }

  /**
   * The answer, without its terminator. Waits at most `timeoutMs` from now (and the total
   * timeout); rejects with the connection's {@link ScanError}.
   */
  answer(timeoutMs: number): Promise<string> {
    if (!this.#settled) {
      this.#armPhase(timeoutMs, `clamd at ${this.#where} did not answer within ${timeoutMs} ms`);
    }
    return this.#answer;
  }

  /** Ends the connection with `kind` unless it has settled already. */
  fail(kind: ScanErrorKind, message: string, cause?: unknown): void {
    if (this.#settled) return;
    this.#settle();
    this.#reject(new ScanError(kind, message, { cause }));
  }

  /** Releases the socket and timers. Safe to call at any time, more than once. */
  close(): void {
    this.fail(ScanErrorKind.aborted, `The request to clamd at ${this.#where} was closed`);
    this.#socket.destroy();
  }

  #connect(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const connected = (): void => {
        this.#connected = true;
        cancel();
        this.#clearPhase();
        resolve();
      };
      this.#socket.once('connect', connected);
      const cancel = this.onSettle(() => {
        this.#socket.off('connect', connected);
        this.#answer.catch(reject);
      });
      this.#armPhase(
        this.#timeouts.connectTimeoutMs,
        `Could not connect to clamd at ${this.#where} within ${this.#timeouts.connectTimeoutMs} ms`,
        ScanErrorKind.unavailable,
      );
    });
  }

  #onData(data: Buffer): void {
    if (this.#settled) return;
    const end = data.indexOf(0);
    const part = end === -1 ? data : data.subarray(0, end);
    this.#received.push(part);
    this.#receivedBytes += part.length;
    if (this.#receivedBytes > MAX_REPLY_BYTES) {
      this.fail(ScanErrorKind.protocol_error, `clamd at ${this.#where} sent an over-long answer`);
    } else if (end !== -1) {
      this.#finish();
    }
  }

  #onEnd(): void {
    // clamd ends every z-command answer with \0; an answer cut short at the end still counts.
    if (this.#receivedBytes > 0) this.#finish();
    else {
      this.fail(
        ScanErrorKind.connection_lost,
        `clamd at ${this.#where} closed the connection without answering`,
      );
    }
  }

  #onError(err: NodeJS.ErrnoException): void {
    // An answer may be in hand while our last write is reset: the answer counts.
    if (this.#receivedBytes > 0) {
      this.#finish();
      return;
    }
    const code = err.code ? ` (${err.code})` : '';
    if (this.#connected) {
      this.fail(
        ScanErrorKind.connection_lost,
        `The connection to clamd at ${this.#where} failed${code}: ${err.message}`,
        err,
      );
    } else {
      this.fail(
        ScanErrorKind.unavailable,
        `Could not connect to clamd at ${this.#where}${code}: ${err.message}`,
        err,
      );
    }
  }

  #finish(): void {
    if (this.#settled) return;
    this.#settle();
    this.#resolve(Buffer.concat(this.#received).toString('utf8').trim());
  }

  #settle(): void {
    this.#settled = true;
    this.#clearPhase();
    clearTimeout(this.#totalTimer);
    this.#socket.destroy();
    const callbacks = [...this.#onSettle];
    this.#onSettle.clear();
    for (const callback of callbacks) callback();
  }

  #armPhase(ms: number, message: string, kind: ScanErrorKind = ScanErrorKind.timeout): void {
    this.#clearPhase();
    this.#phaseTimer = setTimeout(() => this.fail(kind, message), ms);
  }

  #clearPhase(): void {
    if (this.#phaseTimer) clearTimeout(this.#phaseTimer);
    this.#phaseTimer = undefined;
  }
}
