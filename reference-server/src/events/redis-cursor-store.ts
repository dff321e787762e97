import { DEFAULT_COMMAND_TIMEOUT_MS, redisCall, type RedisClient } from '../stores/redis-client.js';
import { assertRelayName, type CursorStore } from './cursor-store.js';

export interface RedisCursorStoreOptions {
  client: RedisClient;
  /** Prepended to every key, e.g. `fu:`. */
  keyPrefix: string;
  commandTimeoutMs?: number;
}

/**
 * Relay cursors in Redis, one key per relay name, so whichever instance holds a relay's lock
 * continues from where the last holder stopped. Durable as the Redis it runs on (AOF).
 */
export class RedisCursorStore implements CursorStore {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #timeoutMs: number;

  constructor(options: RedisCursorStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  }

  async get(name: string): Promise<string | undefined> {
    assertRelayName(name);
    const value = await redisCall(
      'The relay cursor',
      () => this.#client.get(this.#key(name)),
      this.#timeoutMs,
    );
    return value ?? undefined;
  }

  async set(name: string, seq: string): Promise<void> {
    assertRelayName(name);
    await redisCall(
      'The relay cursor',
      () => this.#client.set(this.#key(name), seq),
      this.#timeoutMs,
    );
  }

  /** The client belongs to the server's shared Redis connection, closed with it. */
  async close(): Promise<void> {}

  #key(name: string): string {
    return `${this.#prefix}relay-cursor:${name}`;
  }
}
