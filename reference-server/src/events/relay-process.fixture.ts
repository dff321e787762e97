/**
 * An EventRelay in a process of its own, for tests that kill it: a SQLite outbox, file cursors,
 * the Redis locker and a webhook bus, configured by environment variables. It relays until it
 * is killed.
 */
import { pino } from 'pino';
import { connectRedis, createRedisClient } from '../stores/redis-client.js';
import { RedisLocker } from '../stores/redis-locker.js';
import { SqliteSessionStore } from '../stores/sqlite-session-store.js';
import { EventRelay } from './event-relay.js';
import { FileCursorStore } from './file-cursor-store.js';
import { WebhookBus } from './webhook-bus.js';

const env = (name: string): string => {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
};

const log = pino({ level: 'warn' });
const client = createRedisClient({ url: env('RELAY_REDIS_URL'), commandTimeoutMs: 2_000 });
if (!(await connectRedis(client, 5_000))) throw new Error('Redis is not reachable');
const relay = new EventRelay({
  name: 'webhooks',
  sessions: SqliteSessionStore.open({ path: env('RELAY_DB') }),
  bus: new WebhookBus({
    endpoints: [{ url: env('RELAY_WEBHOOK_URL'), secret: env('RELAY_SECRET') }],
    log,
    // Long bounds: the test, not a timeout, decides when this process stops (it kills it).
    timeoutMs: 300_000,
  }),
  cursors: new FileCursorStore({ dir: env('RELAY_CURSOR_DIR') }),
  locker: new RedisLocker({
    client,
    keyPrefix: env('RELAY_KEY_PREFIX'),
    leaseMs: Number(env('RELAY_LEASE_MS')),
  }),
  log,
  lockTtlMs: 300_000,
  batchSize: 4,
  idleWaitMs: 50,
});
relay.start();
process.stdout.write('started\n');
