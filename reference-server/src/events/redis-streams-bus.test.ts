/**
 * RedisStreamsBus against a real redis-server: entries, idempotent re-publish, trimming.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { UploadEvent } from '@file-uploader/protocol';
import { startRedis, type TestRedis } from '../../../test/harness/redis.js';
import { connectRedis, createRedisClient, type RedisClient } from '../stores/redis-client.js';
import { SqliteSessionStore } from '../stores/sqlite-session-store.js';
import { writeSessionEvents } from './outbox.fixture.js';
import { RedisStreamsBus } from './redis-streams-bus.js';

let redis: TestRedis;
let client: RedisClient;

before(async () => {
  redis = await startRedis();
  client = createRedisClient({ url: redis.url, commandTimeoutMs: 5_000 });
  assert.ok(await connectRedis(client, 5_000));
});

after(async () => {
  client.destroy();
  await redis.stop();
});

async function sessionEvents(sessions: number, files: number): Promise<UploadEvent[]> {
  const store = SqliteSessionStore.open({ path: ':memory:' });
  const events: UploadEvent[] = [];
  for (let i = 0; i < sessions; i++) events.push(...(await writeSessionEvents(store, files)));
  await store.close();
  return events;
}

const prefix = () => `b${randomUUID().slice(0, 8)}:`;

/** The stream's entries as [entry id, fields]. */
async function entries(stream: string): Promise<[string, Record<string, string>][]> {
  const raw = await client.sendCommand<[string, string[]][]>(['XRANGE', stream, '-', '+']);
  return raw.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return [id, fields];
  });
}

describe('RedisStreamsBus', { timeout: 60_000 }, () => {
  it('adds one entry per event, in order, with id, type, seq and the event JSON', async () => {
    const keyPrefix = prefix();
    const bus = new RedisStreamsBus({ client, keyPrefix });
    assert.equal(bus.stream, `${keyPrefix}event-stream`);
    const events = await sessionEvents(2, 2);
    await bus.publish(events);
    const added = await entries(bus.stream);
    assert.deepEqual(
      added.map(([, f]) => [f.id, f.type, f.seq]),
      events.map((e) => [e.id, e.type, e.seq]),
    );
    assert.deepEqual(
      added.map(([, f]) => JSON.parse(f.event!) as unknown),
      events,
    );
    // The idempotency key holds the entry's id and expires.
    const key = `${keyPrefix}event-id:${events[0]!.id}`;
    assert.equal(await client.get(key), added[0]![0]);
    const ttl = await client.ttl(key);
    assert.ok(ttl > 6 * 24 * 3600 && ttl <= 7 * 24 * 3600, `ttl ${ttl}`);
  });

  it('adds nothing when a batch is published again, and only the new events of an overlap', async () => {
    const bus = new RedisStreamsBus({ client, keyPrefix: prefix(), dedupeTtlSeconds: 600 });
    const events = await sessionEvents(3, 2); // 15 events
    await bus.publish(events.slice(0, 10));
    await bus.publish(events.slice(0, 10));
    assert.equal(await client.xLen(bus.stream), 10);
    await bus.publish(events.slice(5)); // 5 repeats, 5 new
    const added = await entries(bus.stream);
    assert.deepEqual(
      added.map(([, f]) => f.id),
      events.map((e) => e.id),
    );
  });

  it('publishes batches larger than one script call in order', async () => {
    const bus = new RedisStreamsBus({ client, keyPrefix: prefix() });
    const events = await sessionEvents(1, 130); // 261 events: three script calls
    await bus.publish(events);
    await bus.publish(events);
    const added = await entries(bus.stream);
    assert.deepEqual(
      added.map(([, f]) => f.seq),
      events.map((e) => e.seq),
    );
  });

  it('trims the stream to about maxLength, and 0 keeps everything', async () => {
    const events = await sessionEvents(1, 300); // 601 events
    const trimmed = new RedisStreamsBus({ client, keyPrefix: prefix(), maxLength: 10 });
    await trimmed.publish(events);
    const length = await client.xLen(trimmed.stream);
    // `~` trims whole nodes (100 entries by default), so the length stays near the bound.
    assert.ok(length >= 10 && length < 250, `length ${length}`);
    const last = await entries(trimmed.stream);
    assert.equal(last.at(-1)![1].id, events.at(-1)!.id, 'the newest entries are kept');

    const untrimmed = new RedisStreamsBus({ client, keyPrefix: prefix(), maxLength: 0 });
    await untrimmed.publish(events);
    assert.equal(await client.xLen(untrimmed.stream), events.length);
  });

  it('rejects bad options, and publishing after close', async () => {
    assert.throws(
      () => new RedisStreamsBus({ client, keyPrefix: 'x:', maxLength: -1 }),
      RangeError,
    );
    assert.throws(
      () => new RedisStreamsBus({ client, keyPrefix: 'x:', dedupeTtlSeconds: 0 }),
      RangeError,
    );
    const bus = new RedisStreamsBus({ client, keyPrefix: prefix() });
    await bus.close();
    await assert.rejects(bus.publish(await sessionEvents(1, 1)), /closed/);
  });
});
