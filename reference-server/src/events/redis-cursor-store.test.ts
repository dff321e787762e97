import { randomUUID } from 'node:crypto';
import { after, before } from 'node:test';
import { startRedis, type TestRedis } from '../../../test/harness/redis.js';
import { connectRedis, createRedisClient, type RedisClient } from '../stores/redis-client.js';
import { cursorStoreConformance } from './cursor-store.conformance.js';
import { RedisCursorStore } from './redis-cursor-store.js';

let redis: TestRedis;
const clients: RedisClient[] = [];

before(async () => {
  redis = await startRedis();
});

after(async () => {
  for (const client of clients) client.destroy();
  await redis.stop();
});

async function client(): Promise<RedisClient> {
  const made = createRedisClient({ url: redis.url, commandTimeoutMs: 5_000 });
  clients.push(made);
  await connectRedis(made, 5_000);
  return made;
}

cursorStoreConformance('RedisCursorStore', async () => {
  const keyPrefix = `c${randomUUID().slice(0, 8)}:`;
  return {
    store: new RedisCursorStore({ client: await client(), keyPrefix }),
    another: async () => new RedisCursorStore({ client: await client(), keyPrefix }),
    cleanup: async () => {},
  };
});
