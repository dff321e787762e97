import type { UploadEvent } from '@file-uploader/protocol';
import { DEFAULT_COMMAND_TIMEOUT_MS, redisCall, type RedisClient } from '../stores/redis-client.js';
import { RedisScript } from '../stores/redis-script.js';
import type { EventBus } from './event-bus.js';

export interface RedisStreamsBusOptions {
  /** May be the server's shared connection: the bus sends no blocking commands. */
  client: RedisClient;
  /** Prepended to the idempotency keys (`<keyPrefix>event-id:<id>`), e.g. `fu:`. */
  keyPrefix: string;
  /** The stream's key. Default `<keyPrefix>event-stream`. */
  stream?: string;
  /**
   * Approximate length the stream is trimmed to at each add (`MAXLEN ~`); 0 never trims.
   * Entries trimmed before a consumer group read them are lost to that group. Default 1,000,000.
   */
  maxLength?: number;
  /** How long an event id is remembered, so a re-publish adds nothing. Default 7 days. */
  dedupeTtlSeconds?: number;
  commandTimeoutMs?: number;
}

/** Events per script call: bounds how long one call holds Redis. */
const EVENTS_PER_CALL = 100;

/**
 * KEYS[1] = stream, KEYS[2..] = one idempotency key per event. ARGV[1] = TTL seconds,
 * ARGV[2] = MAXLEN (0: none), then per event: id, type, seq, JSON. Returns the count added.
 * The key is checked before the XADD and written after it: Redis does not roll a script back,
 * so a failing XADD must not leave a key behind that would drop the event from every re-publish.
 */
const ADD_EVENTS = new RedisScript(`
local added = 0
for i = 2, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 0 then
    local a = 3 + (i - 2) * 4
    local fields = { 'id', ARGV[a], 'type', ARGV[a + 1], 'seq', ARGV[a + 2], 'event', ARGV[a + 3] }
    local entry
    if ARGV[2] == '0' then
      entry = redis.call('XADD', KEYS[1], '*', unpack(fields))
    else
      entry = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*', unpack(fields))
    end
    redis.call('SET', KEYS[i], entry, 'EX', ARGV[1])
    added = added + 1
  end
end
return added
`);

/**
 * Appends each event to a Redis stream as one entry with the fields `id`, `type`, `seq` and
 * `event` (the event's JSON). The event id is an idempotency key: an entry and the key
 * `<keyPrefix>event-id:<id>` (holding the entry's id) are written in one script, and an id whose
 * key exists adds nothing, so the relay publishing a batch again after a failure leaves the
 * stream unchanged. `publish` resolves once Redis has answered (durable as Redis is: run it with
 * `appendonly yes`). Services read the stream with consumer groups: RedisStreamConsumer.
 */
export class RedisStreamsBus implements EventBus {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #stream: string;
  readonly #maxLength: number;
  readonly #ttlSeconds: number;
  readonly #timeoutMs: number;
  #closed = false;

  constructor(options: RedisStreamsBusOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix;
    this.#stream = options.stream ?? `${options.keyPrefix}event-stream`;
    this.#maxLength = options.maxLength ?? 1_000_000;
    this.#ttlSeconds = options.dedupeTtlSeconds ?? 7 * 24 * 60 * 60;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    if (!this.#stream) throw new RangeError('The event stream needs a key');
    if (!Number.isInteger(this.#maxLength) || this.#maxLength < 0) {
      throw new RangeError('maxLength must be a whole number, 0 for no trimming');
    }
    if (!Number.isInteger(this.#ttlSeconds) || this.#ttlSeconds < 1) {
      throw new RangeError('dedupeTtlSeconds must be a whole number of at least 1');
    }
  }

  /** The stream's key, for consumers. */
  get stream(): string {
    return this.#stream;
  }

  async publish(events: readonly UploadEvent[], signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new Error('The Redis Streams bus is closed.');
    for (let start = 0; start < events.length; start += EVENTS_PER_CALL) {
      signal?.throwIfAborted();
      const part = events.slice(start, start + EVENTS_PER_CALL);
      const keys = [this.#stream, ...part.map((e) => `${this.#prefix}event-id:${e.id}`)];
      const args = [String(this.#ttlSeconds), String(this.#maxLength)];
      for (const event of part) args.push(event.id, event.type, event.seq, JSON.stringify(event));
      await redisCall(
        'The event stream',
        () => ADD_EVENTS.run(this.#client, keys, args),
        this.#timeoutMs,
      );
    }
  }

  /** The client is the caller's (usually the shared connection), closed with it. */
  async close(): Promise<void> {
    this.#closed = true;
  }
}
