import { ErrorReply } from 'redis';
import type { Logger } from 'pino';
import { isUploadEvent, type UploadEvent } from '@file-uploader/protocol';
import { DEFAULT_COMMAND_TIMEOUT_MS, redisCall, type RedisClient } from '../stores/redis-client.js';
import { backoffDelay, pause } from './backoff.js';
import {
  DEAD_LETTER,
  DELIVERY_COUNTS,
  parseEntries,
  readReplyEntries,
  type Entry,
} from './redis-stream-entries.js';

/** What a handler is told about the delivery besides the event. */
export interface StreamDelivery {
  /** The stream entry's id. */
  entryId: string;
  /** How often the entry was delivered to this group, this delivery included (from 1). */
  deliveries: number;
  /** Aborts when the consumer stops. */
  signal: AbortSignal;
}

/** Handles one event; the entry is acknowledged once it resolves, retried when it rejects. */
export type StreamEventHandler = (event: UploadEvent, delivery: StreamDelivery) => Promise<void>;

export interface RedisStreamConsumerOptions {
  /**
   * A connection of this consumer's own (`createRedisClient` + `connectRedis`, or the shared
   * client's `duplicate()`): a blocking read holds up every command queued behind it. The
   * caller connects and closes it.
   */
  client: RedisClient;
  /** The stream's key (RedisStreamsBus.stream). */
  stream: string;
  /** The consumer group, one per service; created at the start of the stream when missing. */
  group: string;
  /** Unique within the group and stable across restarts of one worker (e.g. host name). */
  consumer: string;
  handler: StreamEventHandler;
  log: Logger;
  /** Default `<stream>:dead`. */
  deadLetterStream?: string;
  /** Deliveries before an entry whose handler keeps failing is dead-lettered. Default 5. */
  maxDeliveries?: number;
  /**
   * An entry delivered this long ago and not acknowledged is claimed by whichever consumer of
   * the group looks next (its consumer died, or its handler failed). Must exceed the longest
   * handler run, or a slow handler's entry is handled twice. Default 60 s.
   */
  claimIdleMs?: number;
  /** How often to look for entries to claim. Default claimIdleMs / 2. */
  claimEveryMs?: number;
  /** Longest wait of one blocking read; also bounds how long `stop` waits for it. Default 2 s. */
  blockMs?: number;
  /** Entries per read or claim. Default 10. */
  count?: number;
  commandTimeoutMs?: number;
  /** Backoff after a failed Redis call: first wait and cap. Default 200 ms and 10 s. */
  initialDelayMs?: number;
  maxDelayMs?: number;
}

/** What a consumer has done so far, in this process. */
export interface RedisStreamConsumerStats {
  handled: number;
  /** Handler failures (the entry stays pending and is retried). */
  failed: number;
  claimed: number;
  deadLettered: number;
  lastError?: string;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Reads a Redis stream in a consumer group and hands each event to a handler, one at a time in
 * stream order, acknowledging (XACK) after the handler resolved: delivery is at least once, so
 * handlers drop repeats by event id. At start it first goes through its own pending entries
 * (delivered to this consumer name before a restart), then reads new ones (XREADGROUP BLOCK).
 * Entries left pending longer than `claimIdleMs` (a consumer that died, a handler that failed)
 * are claimed with XAUTOCLAIM and delivered again. An entry that failed `maxDeliveries` times,
 * or that is not an event, is moved to the dead-letter stream with the reason and acknowledged,
 * in one script, so it is neither lost nor retried forever.
 */
export class RedisStreamConsumer {
  readonly #o: RedisStreamConsumerOptions;
  readonly #dead: string;
  readonly #maxDeliveries: number;
  readonly #claimIdleMs: number;
  readonly #claimEveryMs: number;
  readonly #blockMs: number;
  readonly #count: number;
  readonly #timeoutMs: number;
  readonly #stats: RedisStreamConsumerStats = {
    handled: 0,
    failed: 0,
    claimed: 0,
    deadLettered: 0,
  };
  #stop: AbortController | undefined;
  #running: Promise<void> | undefined;

  constructor(options: RedisStreamConsumerOptions) {
    this.#o = options;
    this.#dead = options.deadLetterStream ?? `${options.stream}:dead`;
    this.#maxDeliveries = options.maxDeliveries ?? 5;
    this.#claimIdleMs = options.claimIdleMs ?? 60_000;
    this.#claimEveryMs = options.claimEveryMs ?? Math.ceil(this.#claimIdleMs / 2);
    this.#blockMs = options.blockMs ?? 2_000;
    this.#count = options.count ?? 10;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!options.stream || !options.group || !options.consumer) {
      throw new RangeError('A stream consumer needs a stream, a group and a consumer name');
    }
    if (!(this.#maxDeliveries >= 1)) throw new RangeError('maxDeliveries must be at least 1');
    if (!(this.#claimIdleMs > 0)) throw new RangeError('claimIdleMs must be positive');
    if (!(this.#blockMs > 0)) throw new RangeError('blockMs must be positive');
    if (!(this.#claimEveryMs > 0)) throw new RangeError('claimEveryMs must be positive');
    if (!(this.#count >= 1)) throw new RangeError('count must be at least 1');
  }

  /** A copy of the counters. */
  get stats(): RedisStreamConsumerStats {
    return { ...this.#stats };
  }

  /** Starts consuming in the background until `stop` or `signal` aborts. Idempotent. */
  start(signal?: AbortSignal): void {
    if (this.#running) return;
    const stop = new AbortController();
    this.#stop = stop;
    const until = signal ? AbortSignal.any([signal, stop.signal]) : stop.signal;
    this.#running = this.#run(until).catch((err: unknown) => {
      this.#o.log.error({ err, stream: this.#o.stream }, 'stream consumer stopped unexpectedly');
    });
  }

  /**
   * Stops: the running handler's signal aborts; its entry is acknowledged if it still resolves,
   * else it stays pending for a later delivery. Resolves when nothing runs any more (at most
   * one blocking read later). Does not close the client.
   */
  async stop(): Promise<void> {
    this.#stop?.abort(new Error('The stream consumer is stopping.'));
    await this.#running;
    this.#running = undefined;
    this.#stop = undefined;
  }

  async #run(signal: AbortSignal): Promise<void> {
    let failures = 0;
    let groupReady = false;
    // Own pending entries are read from this id on (XREADGROUP with an id); null: new ones.
    let backlogFrom: string | null = '0-0';
    let claimFrom = '0-0';
    let nextClaimAt = 0;
    while (!signal.aborted) {
      try {
        if (!groupReady) {
          await this.#createGroup();
          groupReady = true;
        }
        if (Date.now() >= nextClaimAt) {
          claimFrom = await this.#claim(claimFrom, signal);
          nextClaimAt = Date.now() + this.#claimEveryMs;
        }
        if (signal.aborted) break;
        if (backlogFrom !== null) {
          const entries = await this.#read(backlogFrom);
          // Only forward: an entry whose handler just failed waits for the claim's idle time.
          backlogFrom = entries.length === 0 ? null : entries.at(-1)!.id;
          await this.#deliverAll(entries, await this.#deliveryCounts(entries), signal);
        } else {
          await this.#deliverAll(await this.#read('>'), new Map(), signal);
        }
        failures = 0;
      } catch (err) {
        if (signal.aborted) break;
        failures++;
        this.#stats.lastError = message(err);
        this.#o.log.warn({ err, stream: this.#o.stream }, 'stream consumer call failed; retrying');
        // A read whose answer was lost may have delivered entries: look at our own ones again.
        backlogFrom = '0-0';
        if (err instanceof ErrorReply && err.message.startsWith('NOGROUP')) groupReady = false;
        await pause(
          backoffDelay(failures, this.#o.initialDelayMs ?? 200, this.#o.maxDelayMs ?? 10_000),
          signal,
        );
      }
    }
  }

  async #createGroup(): Promise<void> {
    const { client, stream, group } = this.#o;
    try {
      await this.#call(() =>
        client.sendCommand(['XGROUP', 'CREATE', stream, group, '0', 'MKSTREAM']),
      );
    } catch (err) {
      if (!(err instanceof ErrorReply && err.message.startsWith('BUSYGROUP'))) throw err;
    }
  }

  /** Reads own pending entries after `from`, or new entries (`>`, blocking). */
  async #read(from: string): Promise<Entry[]> {
    const { client, stream, group, consumer } = this.#o;
    const args = ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(this.#count)];
    if (from === '>') args.push('BLOCK', String(this.#blockMs));
    args.push('STREAMS', stream, from);
    const reply = await this.#call(
      () => client.sendCommand(args),
      from === '>' ? this.#blockMs : 0,
    );
    return readReplyEntries(reply);
  }

  /** Claims entries idle longer than claimIdleMs (any consumer's, ours included). */
  async #claim(from: string, signal: AbortSignal): Promise<string> {
    const { client, stream, group, consumer } = this.#o;
    const reply = (await this.#call(() =>
      client.sendCommand([
        'XAUTOCLAIM',
        stream,
        group,
        consumer,
        String(this.#claimIdleMs),
        from,
        'COUNT',
        String(this.#count),
      ]),
    )) as [string, unknown];
    const entries = parseEntries(reply[1]);
    this.#stats.claimed += entries.length;
    if (entries.length > 0) {
      this.#o.log.info(
        { stream, group, consumer, entries: entries.length },
        'claimed idle entries',
      );
    }
    await this.#deliverAll(entries, await this.#deliveryCounts(entries), signal);
    return String(reply[0]);
  }

  /** Delivery counts of pending entries, by id (an entry no longer pending is left out). */
  async #deliveryCounts(entries: Entry[]): Promise<Map<string, number>> {
    const counts = new Map<string, number>();
    if (entries.length === 0) return counts;
    const { client, stream, group } = this.#o;
    const ids = entries.map((e) => e.id);
    const reply = await this.#call(() => DELIVERY_COUNTS.run(client, [stream], [group, ...ids]));
    (reply as number[]).forEach((count, i) => {
      if (count > 0) counts.set(ids[i]!, count);
    });
    return counts;
  }

  async #deliverAll(entries: Entry[], counts: Map<string, number>, signal: AbortSignal) {
    for (const entry of entries) {
      if (signal.aborted) return;
      await this.#deliver(entry, counts.get(entry.id) ?? 1, signal);
    }
  }

  async #deliver(entry: Entry, deliveries: number, signal: AbortSignal): Promise<void> {
    if (!entry.fields) {
      // Trimmed from the stream while pending: nothing left to hand over or to dead-letter.
      this.#o.log.warn({ stream: this.#o.stream, entryId: entry.id }, 'pending entry was trimmed');
      await this.#ack(entry.id);
      return;
    }
    let event: unknown;
    try {
      event = JSON.parse(entry.fields.event ?? '');
    } catch {
      event = undefined;
    }
    if (!isUploadEvent(event)) {
      await this.#deadLetter(entry, deliveries, 'the entry is not an upload event');
      return;
    }
    if (deliveries > this.#maxDeliveries) {
      // Delivered this often without an acknowledgement or a failure: its consumers stopped or
      // crashed while handling it (perhaps because of it).
      await this.#deadLetter(
        entry,
        deliveries,
        `delivered ${deliveries - 1} time${deliveries === 2 ? '' : 's'} without an acknowledgement`,
      );
      return;
    }
    try {
      await this.#o.handler(event, { entryId: entry.id, deliveries, signal });
    } catch (err) {
      this.#stats.failed++;
      this.#stats.lastError = message(err);
      if (signal.aborted) return; // stopping: left pending, not a failure of the event
      if (deliveries >= this.#maxDeliveries) {
        await this.#deadLetter(entry, deliveries, `handler failed: ${message(err)}`);
      } else {
        this.#o.log.warn(
          { err, stream: this.#o.stream, entryId: entry.id, eventId: event.id, deliveries },
          'stream event handler failed; the entry will be delivered again',
        );
      }
      return;
    }
    await this.#ack(entry.id);
    this.#stats.handled++;
  }

  async #ack(id: string): Promise<void> {
    const { client, stream, group } = this.#o;
    await this.#call(() => client.sendCommand(['XACK', stream, group, id]));
  }

  async #deadLetter(entry: Entry, deliveries: number, reason: string): Promise<void> {
    const { client, stream, group, consumer, log } = this.#o;
    const fields = entry.fields ?? {};
    const letter = [
      ...['entryId', entry.id, 'group', group, 'consumer', consumer],
      ...['deliveries', String(deliveries), 'reason', reason, 'failedAt', new Date().toISOString()],
      ...(fields.id ? ['id', fields.id] : []),
      ...(fields.type ? ['type', fields.type] : []),
      ...(fields.event ? ['event', fields.event] : []),
    ];
    const moved = await this.#call(() =>
      DEAD_LETTER.run(client, [stream, this.#dead], [group, consumer, entry.id, ...letter]),
    );
    if (moved === 1) {
      this.#stats.deadLettered++;
      log.warn({ stream, entryId: entry.id, eventId: fields.id, reason }, 'event dead-lettered');
    }
  }

  /** A Redis call bounded by the command timeout plus `extraMs` (a blocking read's wait). */
  #call<T>(call: () => Promise<T>, extraMs = 0): Promise<T> {
    return redisCall('The event stream', call, this.#timeoutMs + extraMs);
  }
}
