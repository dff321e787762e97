import { createHmac, timingSafeEqual } from 'node:crypto';
import { isUploadEvent, type UploadEvent } from '@file-uploader/protocol';

/**
 * Webhook signatures as the Standard Webhooks specification defines them
 * (https://www.standardwebhooks.com): `Webhook-Signature: v1,<base64 HMAC-SHA256>` over
 * `<Webhook-Id>.<Webhook-Timestamp>.<body>`, so receivers can use any of its libraries.
 */

/** Headers as node:http (`req.headers`) or fetch (`Headers`) present them. */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

/** Thrown by {@link verifyWebhook}; `message` says what was wrong. */
export class WebhookVerificationError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookVerificationError';
  }
}

/**
 * The HMAC key of a secret: `whsec_<base64>` (the Standard Webhooks form) is the decoded bytes;
 * any other string is used as UTF-8 bytes.
 */
export function webhookKey(secret: string): Buffer {
  if (secret.startsWith('whsec_')) return Buffer.from(secret.slice('whsec_'.length), 'base64');
  return Buffer.from(secret, 'utf8');
}

/** The base64 signature of one delivery (without the `v1,` prefix). */
export function signWebhook(
  key: Uint8Array,
  id: string,
  timestamp: number,
  body: string | Uint8Array,
): string {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest('base64');
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (headers instanceof Headers) return headers.get(name) ?? undefined;
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * Checks a received webhook and returns its event. Verifies the signature over the raw body
 * (before any JSON parsing: re-serialised JSON would not match), that `Webhook-Timestamp` is
 * within `toleranceSeconds` of now (replays of old deliveries fail), that `Webhook-Id` is the
 * event's id, and that the body is an event of a known schema. Throws
 * {@link WebhookVerificationError} otherwise. Receivers should still drop ids they have seen:
 * delivery is at least once.
 */
export function verifyWebhook(
  secret: string,
  headers: WebhookHeaders,
  body: string | Uint8Array,
  toleranceSeconds = 300,
  now = Date.now(),
): UploadEvent {
  const id = header(headers, 'webhook-id');
  const timestampText = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestampText || !signatures) {
    throw new WebhookVerificationError('Missing Webhook-Id, Webhook-Timestamp or signature.');
  }
  if (!/^\d{1,15}$/.test(timestampText)) {
    throw new WebhookVerificationError('Webhook-Timestamp is not a number of seconds.');
  }
  const timestamp = Number(timestampText);
  if (Math.abs(now / 1000 - timestamp) > toleranceSeconds) {
    throw new WebhookVerificationError('Webhook-Timestamp is outside the allowed tolerance.');
  }
  const expected = Buffer.from(signWebhook(webhookKey(secret), id, timestamp, body), 'base64');
  // Several space-separated signatures are allowed (secret rotation); any one may match.
  const matched = signatures.split(' ').some((entry) => {
    const [version, value] = entry.split(',', 2);
    if (version !== 'v1' || !value) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
  if (!matched) throw new WebhookVerificationError('No matching signature.');

  let event: unknown;
  try {
    event = JSON.parse(typeof body === 'string' ? body : Buffer.from(body).toString('utf8'));
  } catch {
    throw new WebhookVerificationError('The body is not JSON.');
  }
  if (!isUploadEvent(event)) throw new WebhookVerificationError('The body is not an event.');
  if (event.id !== id) throw new WebhookVerificationError('Webhook-Id is not the event id.');
  return event;
}
