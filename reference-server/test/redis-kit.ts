/**
 * One real redis-server for a whole test file, started before its tests and stopped after, and
 * clients of the server's own kind on it, each closed after the file.
 */
import { strict as assert } from 'node:assert';
import { after, before } from 'node:test';
import { startRedis, type TestRedis } from '../../test/harness/redis.js';
import { connectRedis, createRedisClient, type RedisClient } from '../src/stores/redis-client.js';

export interface RedisKit {
  /** The redis-server (pause, kill, restart it); set once the file's `before` has run. */
  readonly server: TestRedis;
  /** A connected client; calls fail after `commandTimeoutMs` without an answer. */
  connect(commandTimeoutMs?: number): Promise<RedisClient>;
}

/** Registers the file's `before`/`after` hooks; call it at the top level of a test file. */
export function useTestRedis(): RedisKit {
  let server: TestRedis | undefined;
  const clients: RedisClient[] = [];
  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    for (const client of clients.splice(0)) if (client.isOpen) client.destroy();
    await server?.stop();
  });
  return {
    get server() {
      if (!server) throw new Error('the test Redis is not started yet');
      return server;
    },
    async connect(commandTimeoutMs = 2_000) {
      const client = createRedisClient({ url: this.server.url, commandTimeoutMs });
      clients.push(client);
      assert.ok(await connectRedis(client, 5_000), 'connected to the test Redis');
      return client;
    },
  };
}
