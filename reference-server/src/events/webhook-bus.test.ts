/**
 * WebhookBus against real HTTP receivers (node:http on loopback) that verify every signature.
 */
import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import type { UploadEvent } from '@file-uploader/protocol';
import { MemorySessionStore } from '../stores/memory-session-store.js';
import type { DeadLetter } from './event-bus.js';
import { writeSessionEvents } from './outbox.fixture.js';
import { WebhookBus, webhookRelayName, type WebhookRetry } from './webhook-bus.js';
import { WebhookReceiver } from './webhook-receiver.fixture.js';

const SECRET = 'whsec_' + Buffer.from('a test secret of thirty-two bytes').toString('base64');
const log = pino({ level: 'silent' });
const receivers: WebhookReceiver[] = [];
const buses: WebhookBus[] = [];

async function receiver(secret = SECRET): Promise<WebhookReceiver> {
  const started = await WebhookReceiver.start(secret);
  receivers.push(started);
  return started;
}

function bus(options: Partial<ConstructorParameters<typeof WebhookBus>[0]> & { url: string }) {
  const created = new WebhookBus({
    endpoints: [{ url: options.url, secret: SECRET }],
    log,
    initialDelayMs: 20,
    maxDelayMs: 200,
    ...options,
  });
  buses.push(created);
  return created;
}

let events: UploadEvent[];
beforeEach(async () => {
  const store = new MemorySessionStore();
  events = await writeSessionEvents(store, 3); // 7 events
  await store.close();
});

afterEach(async () => {
  for (const b of buses.splice(0)) await b.close();
  for (const r of receivers.splice(0)) await r.stop();
});

const ids = (list: readonly UploadEvent[]) => list.map((event) => event.id);

describe('WebhookBus', () => {
  it('delivers every event in order, signed, to every endpoint', async () => {
    const [one, two] = [await receiver(), await receiver()];
    const b = new WebhookBus({
      endpoints: [
        { url: one.url, secret: SECRET },
        { url: two.url, secret: SECRET },
      ],
      log,
    });
    buses.push(b);
    await b.publish(events);
    for (const r of [one, two]) {
      assert.deepEqual(r.invalid, []);
      assert.deepEqual(ids(r.accepted), ids(events));
      assert.deepEqual(r.accepted, events, 'the body is the event as stored');
    }
  });

  it('does not retry a 400, dead-letters it and goes on with the next event', async () => {
    const r = await receiver();
    const refused = events[2]!;
    r.answer = (event) => (event.id === refused.id ? 400 : 204);
    const letters: DeadLetter[] = [];
    await bus({ url: r.url, onDeadLetter: (letter) => void letters.push(letter) }).publish(events);
    assert.equal(r.requests.filter((req) => req.id === refused.id).length, 1, 'sent once');
    assert.deepEqual(
      letters.map((l) => [l.event.id, l.status, l.target]),
      [[refused.id, 400, r.url]],
    );
    assert.deepEqual(ids(r.accepted), ids(events.filter((e) => e !== refused)));
  });

  it('retries 5xx, 429 (honouring Retry-After) and timeouts, then delivers', async () => {
    const r = await receiver();
    r.answer = (event, attempt) => {
      if (event.id === events[0]!.id && attempt === 1) return 503;
      if (event.id === events[1]!.id && attempt === 1) {
        return { status: 429, headers: { 'retry-after': '1' } };
      }
      if (event.id === events[2]!.id && attempt === 1) return 'hang';
      return 204;
    };
    const retries: WebhookRetry[] = [];
    await bus({
      url: r.url,
      timeoutMs: 300,
      maxDelayMs: 2_000,
      onRetry: (n) => void retries.push(n),
    }).publish(events);
    assert.deepEqual(ids(r.accepted), ids(events));
    assert.deepEqual(
      retries.map((n) => [n.event.id, n.attempt, n.status ?? n.reason]),
      [
        [events[0]!.id, 1, 503],
        [events[1]!.id, 1, 429],
        [events[2]!.id, 1, 'timeout'],
      ],
    );
    assert.equal(retries[1]!.delayMs, 1000, 'Retry-After: 1 is waited for');
  });

  it('keeps retrying a receiver that refuses connections until it is up', async () => {
    const first = await receiver();
    const { port } = first;
    await first.stop(); // the port now refuses connections
    const retries: WebhookRetry[] = [];
    let revived: WebhookReceiver | undefined;
    const b = bus({
      url: `http://127.0.0.1:${port}/hooks`,
      onRetry: (notice) => {
        retries.push(notice);
        if (retries.length === 3) {
          void WebhookReceiver.start(SECRET, port).then((r) => {
            revived = r;
            receivers.push(r);
          });
        }
      },
    });
    await b.publish(events);
    assert.ok(revived);
    assert.ok(retries.length >= 3);
    assert.ok(retries.every((n) => n.event.id === events[0]!.id && n.reason === 'ECONNREFUSED'));
    assert.deepEqual(ids(revived.accepted), ids(events));
  });

  it('dead-letters an event still failing after giveUpAfterMs', async () => {
    const r = await receiver();
    r.answer = (event) => (event.id === events[0]!.id ? 500 : 204);
    const letters: DeadLetter[] = [];
    await bus({
      url: r.url,
      giveUpAfterMs: 100,
      onDeadLetter: (letter) => void letters.push(letter),
    }).publish(events);
    assert.equal(letters.length, 1);
    assert.match(letters[0]!.reason, /^gave up after \d+ attempts: HTTP 500$/);
    assert.deepEqual(ids(r.accepted), ids(events.slice(1)));
  });

  it('rejects when aborted, without calling the event delivered', async () => {
    const r = await receiver();
    r.answer = () => 'hang';
    const controller = new AbortController();
    const b = bus({ url: r.url });
    const publishing = b.publish(events, controller.signal);
    while (r.hanging === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort(new Error('stop'));
    await assert.rejects(publishing, /stop/);
    await b.close();
    await assert.rejects(b.publish(events), /closed/);
  });

  it('refuses endpoints it cannot use', () => {
    assert.throws(() => new WebhookBus({ endpoints: [], log }), RangeError);
    assert.throws(
      () => new WebhookBus({ endpoints: [{ url: 'ftp://x/', secret: SECRET }], log }),
      RangeError,
    );
    assert.throws(
      () => new WebhookBus({ endpoints: [{ url: 'http://x/', secret: 'short' }], log }),
      RangeError,
    );
  });

  it('names one relay per endpoint, stable and valid', () => {
    const name = webhookRelayName('https://hooks.example.com/upload');
    assert.match(name, /^webhook-[0-9a-f]{12}$/);
    assert.equal(webhookRelayName('https://HOOKS.example.com/upload'), name, 'normalised URL');
    assert.notEqual(webhookRelayName('https://hooks.example.com/other'), name);
  });
});
