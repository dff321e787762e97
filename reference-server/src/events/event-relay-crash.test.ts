/**
 * A relay process killed (SIGKILL) in the middle of a batch: another instance takes the Redis
 * lock once its lease runs out and re-delivers from the durable cursor, skipping nothing.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { UploadEvent } from '@file-uploader/protocol';
import { startRedis, type TestRedis } from '../../../test/harness/redis.js';
import { connectRedis, createRedisClient } from '../stores/redis-client.js';
import { RedisLocker } from '../stores/redis-locker.js';
import { SqliteSessionStore } from '../stores/sqlite-session-store.js';
import { EventRelay } from './event-relay.js';
import { FileCursorStore } from './file-cursor-store.js';
import { until, writeSessionEvents } from './outbox.fixture.js';
import { WebhookBus } from './webhook-bus.js';
import { WebhookReceiver } from './webhook-receiver.fixture.js';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';
/** Short enough for a quick takeover, long enough for renewals on a busy machine. */
const LEASE_MS = 3_000;
const CHILD = fileURLToPath(new URL('./relay-process.fixture.ts', import.meta.url));

let redis: TestRedis;
let dir: string;
let child: ChildProcess | undefined;

before(async () => {
  redis = await startRedis();
  dir = await mkdtemp(path.join(tmpdir(), 'relay-crash-'));
});

after(async () => {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await redis.stop();
  await rm(dir, { recursive: true, force: true });
});

const ids = (events: readonly UploadEvent[]) => events.map((event) => event.id);

describe('EventRelay killed mid-batch', { timeout: 60_000 }, () => {
  it('is replaced by another instance that re-delivers from the cursor', async () => {
    const dbPath = path.join(dir, 'sessions.db');
    const cursorDir = path.join(dir, 'relay-cursors');
    const keyPrefix = `t-${randomUUID()}:`;
    const store = SqliteSessionStore.open({ path: dbPath });
    const cursors = new FileCursorStore({ dir: cursorDir });
    const events = await writeSessionEvents(store, 4); // 9 events, batches of 4
    const receiver = await WebhookReceiver.start(SECRET);
    const stalled = events[5]!;
    receiver.answer = (event, attempt) => (event.id === stalled.id && attempt === 1 ? 'hang' : 204);

    child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        RELAY_REDIS_URL: redis.url,
        RELAY_DB: dbPath,
        RELAY_CURSOR_DIR: cursorDir,
        RELAY_WEBHOOK_URL: receiver.url,
        RELAY_SECRET: SECRET,
        RELAY_KEY_PREFIX: keyPrefix,
        RELAY_LEASE_MS: String(LEASE_MS),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = once(child, 'exit');
    await until(() => receiver.hanging === 1);
    assert.equal(await cursors.get('webhooks'), events[3]!.seq, 'the first batch is confirmed');

    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 2_000 });
    assert.ok(await connectRedis(client, 5_000));
    const log = pino({ level: 'silent' });
    const bus = new WebhookBus({ endpoints: [{ url: receiver.url, secret: SECRET }], log });
    const successor = new EventRelay({
      name: 'webhooks',
      sessions: store,
      bus,
      cursors,
      locker: new RedisLocker({ client, keyPrefix, leaseMs: LEASE_MS }),
      log,
      batchSize: 4,
      idleWaitMs: 50,
      standbyPollMs: 50,
    });
    try {
      const sent = receiver.requests.length;
      successor.start();
      await until(() => successor.stats.lockAttempts >= 3);
      assert.equal(successor.stats.active, false, 'the live holder keeps the lock');
      assert.equal(receiver.requests.length, sent, 'and the successor sends nothing');

      child.kill('SIGKILL'); // no release, no cursor write: the lock lapses after its lease
      await exited;
      await until(async () => (await cursors.get('webhooks')) === events.at(-1)!.seq);

      const seen = ids(receiver.accepted);
      assert.deepEqual([...new Set(seen)], ids(events), 'nothing skipped, in order');
      assert.equal(seen.filter((id) => id === events[4]!.id).length, 2, 'the cut batch repeats');
      assert.ok(
        events.slice(0, 4).every((e) => seen.filter((id) => id === e.id).length === 1),
        'confirmed batches are not sent again',
      );
      assert.deepEqual(receiver.invalid, []);
    } finally {
      await successor.stop();
      await bus.close();
      client.destroy();
      await receiver.stop();
      await store.close();
    }
  });
});
