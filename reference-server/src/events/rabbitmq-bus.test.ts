/**
 * RabbitMqBus and an EventRelay against the RabbitMQ broker running on this machine
 * (amqp://guest:guest@127.0.0.1:5672). Each run uses its own exchange and queues and deletes them.
 */
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { connect, type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import { pino } from 'pino';
import { isUploadEvent, type UploadEvent } from '@file-uploader/protocol';
import { MemoryLocker } from '../stores/memory-locker.js';
import { SqliteSessionStore } from '../stores/sqlite-session-store.js';
import { EventRelay } from './event-relay.js';
import { MemoryCursorStore } from './memory-cursor-store.js';
import { until, writeSessionEvents } from './outbox.fixture.js';
import { RabbitMqBus } from './rabbitmq-bus.js';

const URL = process.env.TEST_RABBITMQ_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
const run = randomUUID().slice(0, 8);
const EXCHANGE = `fu-test-events-${run}`;
const log = pino({ level: 'silent' });
const exec = promisify(execFile);

let admin: ChannelModel;
let channel: Channel;
let dir: string;
const queues: string[] = [];

before(async () => {
  admin = await connect(URL);
  channel = await admin.createChannel();
  dir = await mkdtemp(path.join(tmpdir(), 'rabbit-'));
});

after(async () => {
  for (const queue of queues) await channel.deleteQueue(queue);
  await channel.deleteExchange(EXCHANGE);
  await admin.close();
  await rm(dir, { recursive: true, force: true });
});

/** A queue of this run bound to the exchange with `pattern`, collecting what arrives. */
async function boundQueue(
  pattern: string,
  args: Record<string, unknown> = {},
  consume = true,
): Promise<ConsumeMessage[]> {
  const name = `fu-test-${run}-${queues.length}`;
  queues.push(name);
  await channel.assertExchange(EXCHANGE, 'topic', { durable: true });
  await channel.assertQueue(name, { durable: true, arguments: args });
  await channel.bindQueue(name, EXCHANGE, pattern);
  const received: ConsumeMessage[] = [];
  if (!consume) return received;
  await channel.consume(
    name,
    (message) => {
      if (message) received.push(message);
    },
    { noAck: true },
  );
  return received;
}

function bus(connectionName = `fu-test-${run}-${randomUUID().slice(0, 8)}`): RabbitMqBus {
  return new RabbitMqBus({ url: URL, exchange: EXCHANGE, log, connectionName });
}

/** Closes, from the broker's side, the connection whose client named itself `connectionName`. */
async function closeFromBroker(connectionName: string): Promise<void> {
  const { stdout } = await exec('rabbitmqctl', [
    'list_connections',
    'name',
    'client_properties',
    '--formatter',
    'json',
  ]);
  const connections = JSON.parse(stdout) as { name: string; client_properties: unknown[][] }[];
  const ours = connections.filter((c) =>
    c.client_properties.some((p) => p[0] === 'connection_name' && p[2] === connectionName),
  );
  assert.equal(ours.length, 1, `one broker connection named ${connectionName}`);
  // close_connection takes the connection's process id, which only the text output shows.
  const table = await exec('rabbitmqctl', [
    'list_connections',
    'pid',
    'name',
    '--quiet',
    '--no-table-headers',
  ]);
  const pid = table.stdout
    .split('\n')
    .map((line) => line.split('\t'))
    .find(([, name]) => name === ours[0]!.name)?.[0];
  assert.ok(pid, `the process id of ${ours[0]!.name}`);
  await exec('rabbitmqctl', ['close_connection', pid, 'closed by a test']);
}

const body = (message: ConsumeMessage): UploadEvent => {
  const parsed: unknown = JSON.parse(message.content.toString('utf8'));
  assert.ok(isUploadEvent(parsed));
  return parsed;
};

describe('RabbitMqBus', { timeout: 60_000 }, () => {
  it('publishes persistent messages keyed by event type, with the event id as messageId', async () => {
    const all = await boundQueue('#');
    const completions = await boundQueue('session.completed');
    const store = SqliteSessionStore.open({ path: ':memory:' });
    const events = await writeSessionEvents(store, 2);
    await store.close();
    const b = bus();
    try {
      await b.publish(events);
    } finally {
      await b.close();
    }
    await until(() => all.length === events.length && completions.length === 1);
    assert.deepEqual(
      all.map((m) => [m.fields.routingKey, m.properties.messageId, m.properties.deliveryMode]),
      events.map((e) => [e.type, e.id, 2]),
    );
    assert.deepEqual(all.map(body), events);
    assert.equal(all[0]!.properties.contentType, 'application/json');
    assert.equal(all[0]!.properties.headers?.['x-seq'], events[0]!.seq);
    assert.deepEqual(completions.map(body), [events.at(-1)]);
  });

  it('rejects a batch the broker refuses (nack), so it is published again', async () => {
    // A queue that refuses what it cannot hold makes the broker nack the overflow.
    await boundQueue('upload.#', { 'x-max-length': 1, 'x-overflow': 'reject-publish' }, false);
    const store = SqliteSessionStore.open({ path: ':memory:' });
    const events = await writeSessionEvents(store, 2);
    await store.close();
    const b = bus();
    try {
      await assert.rejects(b.publish(events), /nack/);
    } finally {
      await b.close();
    }
    await channel.deleteQueue(queues.pop()!);
  });

  it('resumes after the broker closes its connection, losing nothing', async () => {
    const received = await boundQueue('#');
    const store = SqliteSessionStore.open({ path: path.join(dir, 'sessions.db') });
    const connectionName = `fu-test-${run}-relay`;
    const b = bus(connectionName);
    const cursors = new MemoryCursorStore();
    const relay = new EventRelay({
      name: 'rabbitmq',
      sessions: store,
      bus: b,
      cursors,
      locker: new MemoryLocker(),
      log,
      batchSize: 3,
      idleWaitMs: 50,
      initialDelayMs: 50,
      maxDelayMs: 200,
    });
    try {
      relay.start();
      const first = await writeSessionEvents(store, 2);
      await until(() => received.length >= first.length);

      await closeFromBroker(connectionName);
      await writeSessionEvents(store, 3);
      await writeSessionEvents(store, 1);
      const all = await store.readEvents({ limit: 1_000 });
      await until(async () => (await cursors.get('rabbitmq')) === all.at(-1)!.seq);
      await until(() => new Set(received.map((m) => m.properties.messageId)).size === all.length);

      const ids = received.map((m) => String(m.properties.messageId));
      assert.deepEqual(
        [...new Set(ids)],
        all.map((e) => e.id),
        'every event, in order',
      );
      for (const message of received) {
        assert.equal(message.fields.routingKey, body(message).type);
        assert.equal(message.properties.messageId, body(message).id);
      }
    } finally {
      await relay.stop();
      await b.close();
      await store.close();
    }
  });
});
