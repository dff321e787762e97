import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import type { Lock, Locker } from '../stores/locker.js';
import type { SessionStore } from '../stores/session-store.js';
import { backoffDelay, pause } from './backoff.js';
import { assertRelayName, type CursorStore } from './cursor-store.js';
import type { EventBus } from './event-bus.js';

export interface EventRelayOptions {
  /** Names the relay's lock (`event-relay:<name>`) and cursor, e.g. `webhooks`. */
  name: string;
  /** The outbox. */
  sessions: SessionStore;
  bus: EventBus;
  cursors: CursorStore;
  /** Shared by every instance that may run this relay (Redis when there are several). */
  locker: Locker;
  log: Logger;
  /** Events per publish. Default 100. */
  batchSize?: number;
  /**
   * How long one hold of the lock lasts. The relay publishes during the first 80 % of it, then
   * releases and takes the lock again, so a holder that died frees it within this time (with
   * the memory locker; the Redis locker frees it within its lease). Default 30 s.
   */
  lockTtlMs?: number;
  /** How often an instance without the lock tries to take it. Default lockTtlMs / 3. */
  standbyPollMs?: number;
  /** Longest idle wait before reading the outbox again (other processes' writes). Default 1 s. */
  idleWaitMs?: number;
  /** Backoff after a failed publish or store call: first wait and cap. Default 1 s and 60 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** What a relay has done so far, in this process. */
export interface EventRelayStats {
  /** Holds the lock and may publish now (false from the moment its hold ends). */
  active: boolean;
  /** The last cursor this instance read or wrote. */
  cursor?: string;
  /** Attempts to take the lock (a standby's count keeps growing). */
  lockAttempts: number;
  /** Events whose batch the bus confirmed (repeats after a failure count again). */
  published: number;
  /** Failed publishes and store calls; reset by the next success. */
  consecutiveFailures: number;
  lastError?: string;
}

/** The share of a lock hold spent publishing; the rest is margin against clock drift. */
const WORKING_SHARE = 0.8;

/**
 * Moves outbox events to an EventBus. Reads events in `seq` order after its durable cursor,
 * publishes them in batches, and moves the cursor only after the bus confirmed a batch, so a
 * crash between publishing and writing the cursor publishes that batch again (at least once;
 * consumers drop repeats by event id) and no event is ever skipped. Idle, it waits on the
 * store's `waitForEvents`. At most one instance per relay name runs at a time: it holds a
 * Locker lock, and every publish is cut off before the hold could expire, so the next holder
 * cannot overlap with it (barring a pause longer than the margin, which again only repeats).
 */
export class EventRelay {
  readonly #name: string;
  readonly #options: EventRelayOptions;
  readonly #batchSize: number;
  readonly #lockTtlMs: number;
  readonly #standbyPollMs: number;
  readonly #idleWaitMs: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #stats: EventRelayStats = {
    active: false,
    lockAttempts: 0,
    published: 0,
    consecutiveFailures: 0,
  };
  #stop: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: EventRelayOptions) {
    assertRelayName(options.name);
    this.#name = options.name;
    this.#options = options;
    this.#batchSize = options.batchSize ?? 100;
    this.#lockTtlMs = options.lockTtlMs ?? 30_000;
    this.#standbyPollMs = options.standbyPollMs ?? Math.ceil(this.#lockTtlMs / 3);
    this.#idleWaitMs = options.idleWaitMs ?? 1_000;
    this.#initialDelayMs = options.initialDelayMs ?? 1_000;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    if (!(this.#batchSize >= 1)) throw new RangeError('batchSize must be at least 1');
    if (!(this.#lockTtlMs > 0)) throw new RangeError('lockTtlMs must be positive');
  }

  get name(): string {
    return this.#name;
  }

  /** A copy of the counters. */
  get stats(): EventRelayStats {
    return { ...this.#stats };
  }

  /** Starts relaying (or waiting for the lock) in the background. Idempotent. */
  start(): void {
    if (this.#running) return;
    const stop = new AbortController();
    this.#stop = stop;
    this.#running = this.#run(stop.signal).catch((err: unknown) => {
      this.#options.log.error({ err, relay: this.#name }, 'event relay stopped unexpectedly');
    });
  }

  /**
   * Stops: an unconfirmed batch is abandoned (the next holder publishes it again), the lock is
   * released, and the promise resolves when nothing runs any more. Does not close the bus.
   */
  async stop(): Promise<void> {
    this.#stop?.abort(new Error('The event relay is stopping.'));
    await this.#running;
    this.#running = undefined;
    this.#stop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    const key = `event-relay:${this.#name}`;
    let failures = 0;
    while (!signal.aborted) {
      let lock: Lock | null;
      const takenAt = performance.now();
      this.#stats.lockAttempts++;
      try {
        lock = await this.#options.locker.tryAcquire(key, this.#lockTtlMs);
      } catch (err) {
        failures++;
        this.#failed(err, 'could not take the relay lock');
        await pause(backoffDelay(failures, this.#initialDelayMs, this.#maxDelayMs), signal);
        continue;
      }
      failures = 0;
      if (!lock) {
        await pause(this.#standbyPollMs, signal);
        continue;
      }
      // The hold is measured from before the request, so it ends no later than the lock.
      const remaining = takenAt + this.#lockTtlMs * WORKING_SHARE - performance.now();
      const hold = AbortSignal.any([
        signal,
        AbortSignal.timeout(Math.max(0, Math.floor(remaining))),
      ]);
      this.#stats.active = true;
      // Inactive as soon as the hold ends, though a cursor write for a batch confirmed before
      // may still finish: that only records what was published.
      hold.addEventListener('abort', () => (this.#stats.active = false), { once: true });
      try {
        await this.#relay(hold);
      } finally {
        this.#stats.active = false;
        await lock.release().catch((err: unknown) => {
          this.#options.log.warn({ err, relay: this.#name }, 'could not release the relay lock');
        });
      }
    }
  }

  /** Publishes batches until `hold` ends. */
  async #relay(hold: AbortSignal): Promise<void> {
    const { sessions, bus, cursors } = this.#options;
    let cursor: string | undefined;
    let cursorRead = false;
    while (!hold.aborted) {
      try {
        if (!cursorRead) {
          // Read at every hold: another instance may have moved it meanwhile.
          cursor = await cursors.get(this.#name);
          cursorRead = true;
          this.#stats.cursor = cursor;
        }
        const events = await sessions.readEvents({ after: cursor, limit: this.#batchSize });
        if (events.length === 0) {
          await sessions.waitForEvents(undefined, this.#idleWaitMs, hold);
          continue;
        }
        await bus.publish(events, hold);
        const last = events[events.length - 1]!.seq;
        await cursors.set(this.#name, last);
        cursor = last;
        this.#stats.cursor = last;
        this.#stats.published += events.length;
        this.#stats.consecutiveFailures = 0;
        delete this.#stats.lastError;
      } catch (err) {
        if (hold.aborted) return; // cut off by the hold's end or stop: not a failure
        this.#stats.consecutiveFailures++;
        this.#failed(err, 'event relay batch failed; retrying');
        const attempt = this.#stats.consecutiveFailures;
        await pause(backoffDelay(attempt, this.#initialDelayMs, this.#maxDelayMs), hold);
      }
    }
  }

  #failed(err: unknown, message: string): void {
    this.#stats.lastError = err instanceof Error ? err.message : String(err);
    this.#options.log.warn({ err, relay: this.#name }, message);
  }
}
