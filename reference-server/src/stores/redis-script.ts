import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';
import type { RedisClient } from './redis-client.js';

/**
 * A Lua script run by its SHA-1 (EVALSHA), sending the source only when Redis does not know it
 * yet (after a restart, or on first use). A script runs atomically: no other command runs
 * between its reads and writes, which is what makes compare-and-set safe across instances.
 */
export class RedisScript {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(client: RedisClient, keys: string[], args: string[]): Promise<unknown> {
    const options = { keys, arguments: args };
    try {
      return await client.evalSha(this.#sha, options);
    } catch (err) {
      if (!(err instanceof ErrorReply) || !err.message.startsWith('NOSCRIPT')) throw err;
      return client.eval(this.#source, options);
    }
  }
}
