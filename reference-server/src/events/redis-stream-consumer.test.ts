/**
 * RedisStreamConsumer with RedisStreamsBus against a real redis-server (AOF on): order and acks,
 * groups splitting work, a crashed consumer's entries claimed by another, dead letters, and a
 * Redis restart. Every wait is on a condition, bounded by the suite's timeout.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import type { UploadEvent } from '@file-uploader/protocol';
import { startRedis, type TestRedis } from '../../../test/harness/redis.js';
import { connectRedis, createRedisClient, type RedisClient } from '../stores/redis-client.js';
import { SqliteSessionStore } from '../stores/sqlite-session-store.js';
import { until, writeSessionEvents } from './outbox.fixture.js';
import {
  RedisStreamConsumer,
  type RedisStreamConsumerOptions,
  type StreamEventHandler,
} from './redis-stream-consumer.js';
import { RedisStreamsBus } from './redis-streams-bus.js';

const log = pino({ level: process.env.TEST_LOG ?? 'silent' });
let redis: TestRedis;
let admin: RedisClient;
const clients: RedisClient[] = [];
const consumers: RedisStreamConsumer[] = [];

before(async () => {
  redis = await startRedis();
  admin = await client();
});

after(async () => {
  await Promise.all(consumers.map((c) => c.stop()));
  for (const c of clients) if (c.isOpen) c.destroy();
  await redis.stop();
});

async function client(): Promise<RedisClient> {
  const made = createRedisClient({ url: redis.url, commandTimeoutMs: 2_000 });
  clients.push(made);
  assert.ok(await connectRedis(made, 5_000));
  return made;
}

async function sessionEvents(sessions: number, files: number): Promise<UploadEvent[]> {
  const store = SqliteSessionStore.open({ path: ':memory:' });
  const events: UploadEvent[] = [];
  for (let i = 0; i < sessions; i++) events.push(...(await writeSessionEvents(store, files)));
  await store.close();
  return events;
}

function newBus(): RedisStreamsBus {
  return new RedisStreamsBus({ client: admin, keyPrefix: `s${randomUUID().slice(0, 8)}:` });
}

async function consumer(
  options: Pick<RedisStreamConsumerOptions, 'stream' | 'consumer' | 'handler'> &
    Partial<RedisStreamConsumerOptions>,
): Promise<{ consumer: RedisStreamConsumer; client: RedisClient }> {
  const own = await client();
  const made = new RedisStreamConsumer({
    group: 'workers',
    log,
    blockMs: 200,
    client: own,
    ...options,
  });
  consumers.push(made);
  made.start();
  return { consumer: made, client: own };
}

/** Pending entries of the group (XPENDING summary count). */
async function pendingCount(stream: string, group = 'workers'): Promise<number> {
  const [count] = await admin.sendCommand<[number]>(['XPENDING', stream, group]);
  return count;
}

/** Consumers the group knows (a consumer appears at its first read). */
async function groupConsumers(stream: string): Promise<number> {
  const rows = await admin.sendCommand<unknown[]>(['XINFO', 'CONSUMERS', stream, 'workers']);
  return rows.length;
}

/** Records handled events by consumer name. */
function recorder(): { seen: { by: string; event: UploadEvent; deliveries: number }[] } & {
  handler: (by: string) => StreamEventHandler;
} {
  const seen: { by: string; event: UploadEvent; deliveries: number }[] = [];
  return {
    seen,
    handler: (by) => async (event, delivery) => {
      seen.push({ by, event, deliveries: delivery.deliveries });
      await Promise.resolve(); // yield, as a real handler doing I/O would
    },
  };
}

describe('RedisStreamConsumer', { timeout: 60_000 }, () => {
  it('hands events to one consumer in publish order and acknowledges each', async () => {
    const bus = newBus();
    const events = await sessionEvents(2, 3);
    const rec = recorder();
    const { consumer: c } = await consumer({
      stream: bus.stream,
      consumer: 'one',
      handler: rec.handler('one'),
    });
    await bus.publish(events.slice(0, 4));
    await bus.publish(events.slice(4));
    await until(() => rec.seen.length >= events.length);
    await until(async () => (await pendingCount(bus.stream)) === 0);
    assert.deepEqual(
      rec.seen.map((s) => s.event),
      events,
    );
    assert.ok(rec.seen.every((s) => s.deliveries === 1));
    // The count moves once the acknowledgement is answered, a moment after Redis applied it.
    await until(() => c.stats.handled === events.length);
    // Publishing the same batch again adds no entry, so nothing is handled twice.
    await bus.publish(events);
    assert.equal(await admin.xLen(bus.stream), events.length);
    await c.stop();
    assert.equal(rec.seen.length, events.length);
  });

  it('splits the work of one group between two consumers, each event handled once', async () => {
    const bus = newBus();
    const events = await sessionEvents(3, 10); // 63 events
    const rec = recorder();
    const a = await consumer({
      stream: bus.stream,
      consumer: 'a',
      handler: rec.handler('a'),
      count: 4,
    });
    const b = await consumer({
      stream: bus.stream,
      consumer: 'b',
      handler: rec.handler('b'),
      count: 4,
    });
    await until(async () => (await groupConsumers(bus.stream).catch(() => 0)) === 2);
    await bus.publish(events);
    await until(() => rec.seen.length >= events.length);
    await until(async () => (await pendingCount(bus.stream)) === 0);
    await Promise.all([a.consumer.stop(), b.consumer.stop()]);

    const ids = rec.seen.map((s) => s.event.id);
    assert.equal(new Set(ids).size, ids.length, 'no event handled twice');
    assert.deepEqual(new Set(ids), new Set(events.map((e) => e.id)));
    const byA = rec.seen.filter((s) => s.by === 'a').length;
    assert.ok(byA > 0 && byA < events.length, `a handled ${byA}, b the rest`);
    // Each consumer still sees its share in stream order.
    for (const name of ['a', 'b']) {
      const seqs = rec.seen.filter((s) => s.by === name).map((s) => BigInt(s.event.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0)),
      );
    }
  });

  it('lets another consumer claim and handle what a crashed consumer had not acknowledged', async () => {
    const bus = newBus();
    const events = await sessionEvents(1, 2); // 5 events
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let startedA = 0;
    const a = await consumer({
      stream: bus.stream,
      consumer: 'a',
      claimIdleMs: 300,
      handler: async () => {
        startedA++;
        await released;
      },
    });
    await bus.publish(events);
    await until(() => startedA === 1);
    // The crash: the connection goes away while the handler runs, so no XACK can follow.
    a.client.destroy();
    release();
    await a.consumer.stop();
    assert.equal(await pendingCount(bus.stream), events.length, 'all still pending for a');

    const rec = recorder();
    const b = await consumer({
      stream: bus.stream,
      consumer: 'b',
      claimIdleMs: 300,
      claimEveryMs: 50,
      handler: rec.handler('b'),
    });
    await until(() => rec.seen.length >= events.length);
    await until(async () => (await pendingCount(bus.stream)) === 0);
    await b.consumer.stop();
    assert.equal(startedA, 1);
    assert.deepEqual(
      rec.seen.map((s) => s.event),
      events,
    );
    assert.ok(
      rec.seen.every((s) => s.deliveries === 2),
      'each was delivered a second time',
    );
    assert.equal(b.consumer.stats.claimed, events.length);
  });

  it('moves an event whose handler keeps failing to the dead-letter stream after N deliveries', async () => {
    const bus = newBus();
    const events = await sessionEvents(1, 1); // 3 events
    const attempts = new Map<string, number[]>();
    const { consumer: c } = await consumer({
      stream: bus.stream,
      consumer: 'failing',
      maxDeliveries: 3,
      claimIdleMs: 100,
      claimEveryMs: 50,
      handler: async (event, delivery) => {
        attempts.set(event.id, [...(attempts.get(event.id) ?? []), delivery.deliveries]);
        throw new Error('the thumbnail service refused it');
      },
    });
    await bus.publish(events);
    // An entry that is not an event is dead-lettered at once.
    await admin.xAdd(bus.stream, '*', { id: 'junk', event: '{"not":"an event"}' });
    const dead = `${bus.stream}:dead`;
    await until(async () => (await admin.xLen(dead)) === events.length + 1);
    await until(async () => (await pendingCount(bus.stream)) === 0);
    await c.stop();

    for (const event of events) assert.deepEqual(attempts.get(event.id), [1, 2, 3]);
    const range = (await admin.xRange(dead, '-', '+')) ?? [];
    const letters = range.flatMap((e) => (e ? [e.message] : []));
    const byId = new Map(letters.map((l) => [l.id, l]));
    for (const event of events) {
      const letter = byId.get(event.id);
      assert.ok(letter, `${event.id} dead-lettered`);
      assert.equal(letter.reason, 'handler failed: the thumbnail service refused it');
      assert.equal(letter.deliveries, '3');
      assert.equal(letter.group, 'workers');
      assert.equal(letter.consumer, 'failing');
      assert.deepEqual(JSON.parse(letter.event!), event, 'the event is kept whole');
    }
    assert.equal(byId.get('junk')?.reason, 'the entry is not an upload event');
    // Nothing lost: the stream still holds every entry.
    assert.equal(await admin.xLen(bus.stream), events.length + 1);
    assert.equal(c.stats.deadLettered, events.length + 1);
  });

  it('dead-letters an entry whose consumers keep dying on it, without handling it again', async () => {
    const bus = newBus();
    const [event] = await sessionEvents(1, 1);
    let started = false;
    const crashing = await consumer({
      stream: bus.stream,
      consumer: 'crashing',
      handler: async (_event, { signal }) => {
        started = true;
        await new Promise((resolve) => signal.addEventListener('abort', resolve));
        throw signal.reason;
      },
    });
    await bus.publish([event!]);
    await until(() => started);
    crashing.client.destroy();
    await crashing.consumer.stop();

    const rec = recorder();
    const next = await consumer({
      stream: bus.stream,
      consumer: 'next',
      maxDeliveries: 1,
      claimIdleMs: 100,
      claimEveryMs: 50,
      handler: rec.handler('next'),
    });
    const dead = `${bus.stream}:dead`;
    await until(async () => (await admin.xLen(dead)) === 1);
    await next.consumer.stop();
    assert.equal(rec.seen.length, 0, 'not handed to a handler again');
    const [letter] = (await admin.xRange(dead, '-', '+')) ?? [];
    assert.equal(letter?.message.reason, 'delivered 1 time without an acknowledgement');
    assert.equal(letter?.message.deliveries, '2');
    assert.equal(letter?.message.id, event!.id);
    assert.equal(await pendingCount(bus.stream), 0);
  });

  it('resumes after Redis restarts, from the group state kept in the append-only file', async () => {
    const bus = newBus();
    const events = await sessionEvents(2, 2); // 10 events
    const first = events.slice(0, 5);
    const second = events.slice(5);
    const rec = recorder();
    const { consumer: c } = await consumer({
      stream: bus.stream,
      consumer: 'survivor',
      initialDelayMs: 50,
      maxDelayMs: 200,
      handler: rec.handler('survivor'),
    });
    await bus.publish(first);
    await until(() => rec.seen.length >= first.length);
    await until(async () => (await pendingCount(bus.stream)) === 0);

    await redis.restart();
    // The bus's client reconnects in the background: publish until Redis takes it.
    await until(
      async () =>
        bus.publish([...first, ...second]).then(
          () => true,
          () => false,
        ),
      50,
    );
    await until(() => rec.seen.length >= events.length);
    await until(async () => (await pendingCount(bus.stream).catch(() => -1)) === 0);
    await c.stop();

    assert.equal(
      await admin.xLen(bus.stream),
      events.length,
      'the re-published batch added nothing',
    );
    assert.deepEqual(
      rec.seen.map((s) => s.event.id),
      events.map((e) => e.id),
      'every event once, in order',
    );
  });
});
