import type { Logger } from 'pino';
import { UploadEventType } from '@file-uploader/protocol';
import { backoffDelay, pause } from '../events/backoff.js';
import type { SessionStore } from '../stores/session-store.js';
import type { ScanRunner } from './scan-runner.js';

export interface ScanFeedOptions {
  /** The outbox and the file records. */
  sessions: SessionStore;
  /** Where files waiting for a scan go (a worker's ScanRunner). */
  scans: Pick<ScanRunner, 'enqueue'>;
  log: Logger;
  /** How often every file in `scanning` is queued again (files whose lock was held). */
  pollIntervalMs: number;
  /** Longest wait before reading the outbox again (other processes' writes). Default 1 s. */
  idleWaitMs?: number;
  /** Events read at once. Default 500. */
  batchSize?: number;
}

/** Files queued by one listing of `scanning` files; the next listing brings the rest. */
const LISTING_LIMIT = 1000;
/** Backoff after a failed store call: first wait and cap. */
const RETRY_INITIAL_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/**
 * Feeds a worker's ScanRunner without the server telling it anything: at start and every
 * `pollIntervalMs` it queues every file in `scanning`, and in between it follows the event outbox
 * from its end, queueing each file announced `upload.assembled` with status `scanning`. The
 * listing is the safety net (files whose scan lock was held when they were announced, a holder
 * that died); the outbox brings new files within about a second. Queueing a file twice, or one
 * that another process is scanning, is harmless: the runner's per-file lock and the file's
 * status decide who scans it.
 */
export class ScanFeed {
  readonly #options: ScanFeedOptions;
  readonly #idleWaitMs: number;
  readonly #batchSize: number;
  #stop: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: ScanFeedOptions) {
    this.#options = options;
    this.#idleWaitMs = options.idleWaitMs ?? 1_000;
    this.#batchSize = options.batchSize ?? 500;
    if (!(options.pollIntervalMs > 0)) throw new RangeError('pollIntervalMs must be positive');
  }

  /** Starts feeding in the background. Idempotent. */
  start(): void {
    if (this.#running) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#running = this.#run(stop.signal).catch((err: unknown) => {
      this.#options.log.error({ err }, 'scan feed stopped unexpectedly');
    });
  }

  /** Stops feeding; resolves when no store call of the feed is in flight any more. */
  async stop(): Promise<void> {
    this.#stop?.abort();
    await this.#running;
    this.#running = undefined;
    this.#stop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const { sessions, log } = this.#options;
    let cursor: string | undefined;
    let started = false;
    let nextListing = 0;
    let failures = 0;
    while (!signal.aborted) {
      try {
        if (!started) {
          // The end of the outbox first, then the listing: a file that enters `scanning` in
          // between is in both, never in neither.
          cursor = await outboxTail(sessions, this.#batchSize);
          started = true;
        }
        if (Date.now() >= nextListing) {
          await this.#queueWaiting();
          nextListing = Date.now() + this.#options.pollIntervalMs;
        }
        const events = await sessions.readEvents({ after: cursor, limit: this.#batchSize });
        for (const event of events) {
          if (event.type === UploadEventType.assembled && event.data.status === 'scanning') {
            this.#options.scans.enqueue(event.data.fileId);
          }
        }
        cursor = events.at(-1)?.seq ?? cursor;
        failures = 0;
        if (events.length < this.#batchSize) {
          const untilListing = Math.max(1, nextListing - Date.now());
          await sessions.waitForEvents(undefined, Math.min(this.#idleWaitMs, untilListing), signal);
        }
      } catch (err) {
        if (signal.aborted) return;
        failures++;
        log.warn({ err, attempt: failures }, 'scan feed could not read the store; retrying');
        await pause(backoffDelay(failures, RETRY_INITIAL_MS, RETRY_MAX_MS), signal);
      }
    }
  }

  async #queueWaiting(): Promise<void> {
    const files = await this.#options.sessions.listFilesByStatus(['scanning'], LISTING_LIMIT);
    for (const file of files) this.#options.scans.enqueue(file.id);
  }
}

/**
 * A cursor at (or shortly before) the end of the outbox, found without reading it all: the
 * stores number events with a counter, so a search over `seq` that asks for one event after a
 * probe finds the end in a few dozen reads however many days of events are kept. Events between
 * the returned cursor and the true end (at most `slack`) are read again by the feed, which is
 * harmless. A store with other `seq`s is paged through instead.
 */
export async function outboxTail(
  sessions: SessionStore,
  slack: number,
): Promise<string | undefined> {
  const [first] = await sessions.readEvents({ limit: 1 });
  if (!first) return undefined;
  if (!/^\d{1,15}$/.test(first.seq)) return pageToTail(sessions, first.seq);
  const next = async (after: number) => {
    const [event] = await sessions.readEvents({ after: String(after), limit: 1 });
    return event ? Number(event.seq) : undefined;
  };
  // Invariant: an event with seq `low` exists; none comes after `high`.
  let low = Number(first.seq);
  let high: number | undefined;
  for (let step = 1024; high === undefined; step *= 2) {
    const found = await next(low + step);
    if (found === undefined) high = low + step;
    else low = found;
  }
  while (high - low > slack) {
    const middle = Math.floor((low + high) / 2);
    const found = await next(middle);
    if (found === undefined) high = middle;
    else low = found;
  }
  return String(low);
}

async function pageToTail(sessions: SessionStore, after: string): Promise<string> {
  let cursor = after;
  for (;;) {
    const events = await sessions.readEvents({ after: cursor, limit: 1000 });
    const last = events.at(-1);
    if (!last) return cursor;
    cursor = last.seq;
  }
}
