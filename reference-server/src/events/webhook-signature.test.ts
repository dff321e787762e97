import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { MemorySessionStore } from '../stores/memory-session-store.js';
import { writeSessionEvents } from './outbox.fixture.js';
import {
  WebhookVerificationError,
  signWebhook,
  verifyWebhook,
  webhookKey,
} from './webhook-signature.js';

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

async function delivery(secret = SECRET, at = Date.now()) {
  const store = new MemorySessionStore();
  const [event] = await writeSessionEvents(store, 1);
  await store.close();
  const body = JSON.stringify(event);
  const timestamp = Math.floor(at / 1000);
  const headers: Record<string, string> = {
    'webhook-id': event!.id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': `v1,${signWebhook(webhookKey(secret), event!.id, timestamp, body)}`,
  };
  return { event: event!, body, headers };
}

describe('verifyWebhook', () => {
  it('matches the Standard Webhooks reference signature', () => {
    // The example of the Standard Webhooks specification (its test vector).
    const key = webhookKey('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw');
    const body = '{"test": 2432232314}';
    assert.equal(
      signWebhook(key, 'msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, body),
      'g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('returns the event of a valid delivery, from a string, bytes or fetch Headers', async () => {
    const { event, body, headers } = await delivery();
    assert.deepEqual(verifyWebhook(SECRET, headers, body), event);
    assert.deepEqual(verifyWebhook(SECRET, new Headers(headers), Buffer.from(body)), event);
  });

  it('accepts any one of several signatures (secret rotation)', async () => {
    const { event, body, headers } = await delivery();
    headers['webhook-signature'] = `v1,AAAA ${headers['webhook-signature']}`;
    assert.equal(verifyWebhook(SECRET, headers, body).id, event.id);
  });

  it('refuses a changed body, another secret, an old timestamp or a foreign id', async () => {
    const { body, headers } = await delivery();
    const refused = (h: Record<string, string>, b: string, pattern: RegExp, secret = SECRET) =>
      assert.throws(
        () => verifyWebhook(secret, h, b),
        (err: unknown) => err instanceof WebhookVerificationError && pattern.test(err.message),
      );
    refused(headers, body.replace('"upload.', '"uploadx.'), /No matching signature/);
    refused(headers, body, /No matching signature/, 'whsec_' + 'b'.repeat(40));
    refused({ ...headers, 'webhook-signature': 'v2,abc' }, body, /No matching signature/);
    refused({ ...headers, 'webhook-id': 'other' }, body, /No matching signature/);
    refused({ ...headers, 'webhook-timestamp': 'soon' }, body, /not a number/);
    refused({ 'webhook-id': 'x' }, body, /Missing/);

    const old = await delivery(SECRET, Date.now() - 10 * 60_000);
    refused(old.headers, old.body, /tolerance/);
    assert.ok(verifyWebhook(SECRET, old.headers, old.body, 3600), 'a wider tolerance accepts it');
  });

  it('refuses a signed body that is not an event, or whose id is not the Webhook-Id', async () => {
    const { event, headers } = await delivery();
    const sign = (id: string, body: string) => ({
      ...headers,
      'webhook-id': id,
      'webhook-signature': `v1,${signWebhook(webhookKey(SECRET), id, Number(headers['webhook-timestamp']), body)}`,
    });
    assert.throws(() => verifyWebhook(SECRET, sign('a', '{"x":1}'), '{"x":1}'), /not an event/);
    assert.throws(() => verifyWebhook(SECRET, sign('a', 'nope'), 'nope'), /not JSON/);
    const body = JSON.stringify(event);
    assert.throws(() => verifyWebhook(SECRET, sign('other', body), body), /not the event id/);
  });
});
