/**
 * EventRelay from a real SQLite outbox (events written by transitionFile) through WebhookBus to
 * real HTTP receivers that verify every signature.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import type { UploadEvent } from '@file-uploader/protocol';
import { MemoryLocker } from '../stores/memory-locker.js';
import { SqliteSessionStore } from '../stores/sqlite-session-store.js';
import { EventRelay, type EventRelayOptions } from './event-relay.js';
import { FileCursorStore } from './file-cursor-store.js';
import { until, writeSessionEvents } from './outbox.fixture.js';
import { WebhookBus, type WebhookBusOptions } from './webhook-bus.js';
import { WebhookReceiver } from './webhook-receiver.fixture.js';

const SECRET = 'a-webhook-secret-of-at-least-32-characters';
const log = pino({ level: 'silent' });

let dir: string;
let store: SqliteSessionStore;
let cursors: FileCursorStore;
const cleanups: (() => Promise<void>)[] = [];

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'relay-'));
  store = SqliteSessionStore.open({ path: path.join(dir, 'sessions.db') });
  cursors = new FileCursorStore({ dir: path.join(dir, 'relay-cursors') });
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

async function receiver(port = 0): Promise<WebhookReceiver> {
  const r = await WebhookReceiver.start(SECRET, port);
  cleanups.push(() => r.stop());
  return r;
}

function relay(
  url: string,
  options: Partial<EventRelayOptions> = {},
  busOptions: Partial<WebhookBusOptions> = {},
): EventRelay {
  const bus = new WebhookBus({
    endpoints: [{ url, secret: SECRET }],
    log,
    initialDelayMs: 20,
    maxDelayMs: 100,
    timeoutMs: 60_000, // a stalled answer stays stalled until the test moves on
    ...busOptions,
  });
  const created = new EventRelay({
    name: 'webhooks',
    sessions: store,
    bus,
    cursors,
    locker: new MemoryLocker(),
    log,
    batchSize: 4,
    idleWaitMs: 50,
    initialDelayMs: 20,
    maxDelayMs: 100,
    ...options,
  });
  cleanups.push(async () => {
    await created.stop();
    await bus.close();
  });
  return created;
}

const ids = (events: readonly UploadEvent[]) => events.map((event) => event.id);
const unique = (events: readonly UploadEvent[]) => [...new Set(ids(events))];

/** Every event of the outbox, in `seq` order. */
const outbox = () => store.readEvents({ limit: 10_000 });

describe('EventRelay with webhooks', { timeout: 30_000 }, () => {
  it('delivers the outbox in seq order, then new events as they are written', async () => {
    const r = await receiver();
    const first = await writeSessionEvents(store, 3);
    const relaying = relay(r.url);
    relaying.start();
    await until(() => r.accepted.length === first.length);
    const second = await writeSessionEvents(store, 2); // woken by waitForEvents
    await until(() => r.accepted.length === first.length + second.length);

    const all = await outbox();
    assert.deepEqual(ids(r.accepted), ids(all), 'each event once, in seq order');
    assert.deepEqual(r.invalid, []);
    await until(() => relaying.stats.published === all.length);
    assert.equal(await cursors.get('webhooks'), all.at(-1)!.seq);
    assert.equal(relaying.stats.cursor, all.at(-1)!.seq);
  });

  it('loses nothing while the receiver refuses connections, and repeats only by id', async () => {
    const probe = await receiver();
    const { port } = probe;
    await probe.stop(); // nothing listens on the port now
    await writeSessionEvents(store, 3);
    let refused = 0;
    const relaying = relay(
      `http://127.0.0.1:${port}/hooks`,
      {},
      {
        onRetry: (notice) => {
          if (notice.reason === 'ECONNREFUSED') refused++;
        },
      },
    );
    relaying.start();
    await writeSessionEvents(store, 2);
    await until(() => refused >= 5);
    assert.equal(await cursors.get('webhooks'), undefined, 'no progress while it is down');

    const up = await receiver(port);
    await writeSessionEvents(store, 1);
    const all = await outbox();
    await until(async () => (await cursors.get('webhooks')) === all.at(-1)!.seq);
    assert.deepEqual(unique(up.accepted), ids(all), 'every event, first deliveries in order');
    assert.deepEqual(up.invalid, []);
  });

  it('does not retry an event the receiver refuses with 400', async () => {
    const r = await receiver();
    const events = await writeSessionEvents(store, 2);
    const refused = events[1]!;
    r.answer = (event) => (event.id === refused.id ? 400 : 204);
    relay(r.url).start();
    await until(async () => (await cursors.get('webhooks')) === events.at(-1)!.seq);
    assert.equal(r.requests.filter((req) => req.id === refused.id).length, 1);
    assert.deepEqual(ids(r.accepted), ids(events.filter((event) => event !== refused)));
  });

  it('re-delivers from the cursor when a relay stops mid-batch and another takes over', async () => {
    const r = await receiver();
    const events = await writeSessionEvents(store, 4); // 9 events, batches of 4
    const stalled = events[5]!; // second batch: events 4..7
    r.answer = (event, attempt) => (event.id === stalled.id && attempt === 1 ? 'hang' : 204);
    const locker = new MemoryLocker();
    const first = relay(r.url, { locker });
    first.start();
    await until(() => r.hanging === 1);
    const second = relay(r.url, { locker, standbyPollMs: 20 });
    const sent = r.requests.length;
    second.start();
    await until(() => second.stats.lockAttempts >= 3);
    assert.equal(r.requests.length, sent, 'the lock keeps the second relay from sending');

    assert.equal(await cursors.get('webhooks'), events[3]!.seq, 'first batch confirmed');
    await first.stop(); // mid-batch: events 4 and 5 were sent, the batch is not confirmed
    await until(async () => (await cursors.get('webhooks')) === events.at(-1)!.seq);

    const seen = ids(r.accepted);
    assert.deepEqual(unique(r.accepted), ids(events), 'nothing skipped, first deliveries in order');
    assert.equal(seen.filter((id) => id === events[4]!.id).length, 2, 'the cut batch repeats');
    assert.equal(seen.filter((id) => id === events[0]!.id).length, 1, 'confirmed ones do not');
    assert.equal(second.stats.active, true);
  });

  it('runs one relay at a time per name; a standby takes over from each one stopped', async () => {
    const r = await receiver();
    const locker = new MemoryLocker();
    const relays = [1, 2, 3].map(() => relay(r.url, { locker, lockTtlMs: 500, standbyPollMs: 10 }));
    let overlaps = 0;
    r.answer = () => {
      if (relays.filter((x) => x.stats.active).length > 1) overlaps++;
      return 204;
    };
    for (const x of relays) x.start();
    const holders: EventRelay[] = [];
    for (let round = 0; round < 3; round++) {
      await writeSessionEvents(store, 3);
      const all = await outbox();
      await until(async () => (await cursors.get('webhooks')) === all.at(-1)!.seq);
      // Between two holds of the same relay nobody is active for a moment: wait that out.
      await until(() => relays.some((x) => x.stats.active));
      const holder = relays.find((x) => x.stats.active);
      assert.ok(holder && !holders.includes(holder), 'a relay not stopped holds the lock');
      holders.push(holder);
      if (round < 2) await holder.stop();
    }
    assert.equal(overlaps, 0, 'never two active relays');
    assert.deepEqual(unique(r.accepted), ids(await outbox()));
  });
});
