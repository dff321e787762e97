import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { UploadEvent } from '@file-uploader/protocol';
import { backoffDelay, pause } from './backoff.js';
import type { DeadLetterHandler, EventBus } from './event-bus.js';
import { signWebhook, webhookKey } from './webhook-signature.js';

/** One receiver of webhooks. */
export interface WebhookEndpoint {
  url: string;
  /** `whsec_<base64>` (Standard Webhooks) or any string of at least 32 characters. */
  secret: string;
}

export interface WebhookBusOptions {
  endpoints: readonly WebhookEndpoint[];
  log: Logger;
  /** Bound on one attempt: connecting, sending, and the response headers. Default 10 s. */
  timeoutMs?: number;
  /** Wait before the first retry; doubled per attempt up to `maxDelayMs`. Default 1 s. */
  initialDelayMs?: number;
  /** Longest wait between attempts, also the most of a `Retry-After` honoured. Default 60 s. */
  maxDelayMs?: number;
  /** An event still not accepted this long after its first attempt is dead-lettered. Default 24 h. */
  giveUpAfterMs?: number;
  /** Receives events a receiver refused (4xx) or that were given up on. Default: a warning log. */
  onDeadLetter?: DeadLetterHandler;
  /** Told of each failed attempt that will be retried (metrics, tests). */
  onRetry?: (notice: WebhookRetry) => void;
}

/** A failed attempt that will be retried. */
export interface WebhookRetry {
  event: UploadEvent;
  url: string;
  /** The attempt that failed, from 1. */
  attempt: number;
  /** Wait before the next attempt (from `Retry-After` when the receiver sent one). */
  delayMs: number;
  status?: number;
  reason: string;
}

interface Failing {
  /** When the first attempt failed (epoch ms). */
  since: number;
  attempts: number;
  /** Not before this time (epoch ms) is the next attempt made. */
  nextAt: number;
}

/**
 * The relay name for one endpoint (`webhook-` + 12 hex of the URL's SHA-256): stable across
 * restarts and reordered configuration, so each endpoint keeps its own cursor.
 */
export function webhookRelayName(url: string): string {
  const digest = createHash('sha256').update(new URL(url).href).digest('hex');
  return `webhook-${digest.slice(0, 12)}`;
}

/** Failing deliveries remembered at most (one per endpoint is the usual count). */
const MAX_TRACKED_FAILURES = 1_000;

type AttemptResult =
  | { ok: true }
  | { ok: false; retryable: boolean; reason: string; status?: number; retryAfterMs?: number };

/** `Retry-After` as delay-seconds or an HTTP date, in ms from now. */
function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function failureReason(err: unknown): string {
  const cause = (err as { cause?: { code?: string; message?: string } }).cause;
  if (cause?.code) return cause.code;
  if (err instanceof Error && err.name === 'TimeoutError') return 'timeout';
  return cause?.message ?? (err instanceof Error ? err.message : String(err));
}

/**
 * Delivers each event as an HMAC-signed JSON POST to every endpoint (Standard Webhooks headers:
 * `Webhook-Id` = event id, `Webhook-Timestamp`, `Webhook-Signature`). Endpoints are served in
 * parallel, each one in order: an event is sent only after the one before it was accepted (2xx)
 * or dead-lettered. Network errors, timeouts, 408, 429 and 5xx are retried with exponential
 * backoff and jitter, honouring `Retry-After`; other answers (4xx, redirects) will not change on
 * a retry and are dead-lettered at once. `publish` resolves when the whole batch is settled at
 * every endpoint, so a receiver that is down holds the stream back until it returns (or
 * `giveUpAfterMs` passes); use one bus and relay per endpoint to keep receivers independent.
 */
export class WebhookBus implements EventBus {
  readonly #endpoints: { url: string; key: Buffer }[];
  readonly #log: Logger;
  readonly #timeoutMs: number;
  readonly #initialDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #giveUpAfterMs: number;
  readonly #onDeadLetter: DeadLetterHandler;
  readonly #onRetry: ((notice: WebhookRetry) => void) | undefined;
  readonly #closed = new AbortController();
  /**
   * Failing deliveries by endpoint and event id, kept across publish calls: a relay that cuts
   * a publish off and publishes the batch again must not restart the backoff or the
   * give-up clock.
   */
  readonly #failing = new Map<string, Failing>();

  constructor(options: WebhookBusOptions) {
    if (options.endpoints.length === 0) throw new RangeError('WebhookBus needs an endpoint');
    this.#endpoints = options.endpoints.map(({ url, secret }) => {
      const parsed = new URL(url);
      if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
        throw new RangeError(`Webhook URL must be http(s): ${url}`);
      }
      const key = webhookKey(secret);
      if (key.length < 16) throw new RangeError(`Webhook secret for ${url} is too short`);
      return { url: parsed.href, key };
    });
    this.#log = options.log;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#initialDelayMs = options.initialDelayMs ?? 1_000;
    this.#maxDelayMs = options.maxDelayMs ?? 60_000;
    this.#giveUpAfterMs = options.giveUpAfterMs ?? 24 * 60 * 60_000;
    this.#onDeadLetter =
      options.onDeadLetter ??
      ((letter) =>
        this.#log.warn(
          {
            eventId: letter.event.id,
            target: letter.target,
            status: letter.status,
            reason: letter.reason,
          },
          'webhook dead-lettered',
        ));
    this.#onRetry = options.onRetry;
  }

  async publish(events: readonly UploadEvent[], signal?: AbortSignal): Promise<void> {
    const stop = signal ? AbortSignal.any([signal, this.#closed.signal]) : this.#closed.signal;
    stop.throwIfAborted();
    const results = await Promise.allSettled(
      this.#endpoints.map(async (endpoint) => {
        for (const event of events) await this.#deliver(endpoint, event, stop);
      }),
    );
    const failed = results.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  async close(): Promise<void> {
    this.#closed.abort(new Error('The webhook bus is closed.'));
  }

  async #deliver(
    endpoint: { url: string; key: Buffer },
    event: UploadEvent,
    signal: AbortSignal,
  ): Promise<void> {
    const body = JSON.stringify(event);
    const key = `${endpoint.url} ${event.id}`;
    for (;;) {
      const wait = (this.#failing.get(key)?.nextAt ?? 0) - Date.now();
      if (wait > 0) await pause(wait, signal);
      signal.throwIfAborted();
      const result = await this.#attempt(endpoint, event.id, body, signal);
      if (result.ok) {
        this.#failing.delete(key);
        return;
      }
      signal.throwIfAborted();
      const failing = this.#failing.get(key) ?? { since: Date.now(), attempts: 0, nextAt: 0 };
      const attempt = ++failing.attempts;
      const { reason, status } = result;
      const expired = Date.now() - failing.since >= this.#giveUpAfterMs;
      if (!result.retryable || expired) {
        this.#failing.delete(key);
        const why = result.retryable ? `gave up after ${attempt} attempts: ${reason}` : reason;
        await this.#onDeadLetter({
          event,
          target: endpoint.url,
          reason: why,
          ...(status ? { status } : {}),
        });
        return;
      }
      const delayMs = Math.min(
        this.#maxDelayMs,
        result.retryAfterMs ?? backoffDelay(attempt, this.#initialDelayMs, this.#maxDelayMs),
      );
      failing.nextAt = Date.now() + delayMs;
      this.#remember(key, failing);
      this.#log.debug({ eventId: event.id, url: endpoint.url, attempt, delayMs, reason }, 'retry');
      this.#onRetry?.({
        event,
        url: endpoint.url,
        attempt,
        delayMs,
        reason,
        ...(status ? { status } : {}),
      });
    }
  }

  #remember(key: string, failing: Failing): void {
    this.#failing.delete(key); // re-insert: the map's order is then least recently failed first
    this.#failing.set(key, failing);
    // Entries of events another instance delivered are never cleared here; keep the map small.
    for (const oldest of this.#failing.keys()) {
      if (this.#failing.size <= MAX_TRACKED_FAILURES) break;
      this.#failing.delete(oldest);
    }
  }

  async #attempt(
    endpoint: { url: string; key: Buffer },
    id: string,
    body: string,
    signal: AbortSignal,
  ): Promise<AttemptResult> {
    const timestamp = Math.floor(Date.now() / 1000);
    const signature = signWebhook(endpoint.key, id, timestamp, body);
    try {
      const response = await fetch(endpoint.url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'file-uploader-webhooks/1',
          'webhook-id': id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': `v1,${signature}`,
        },
        body,
        // A receiver that redirects is misconfigured; following it would send signed events to
        // a place nobody configured.
        redirect: 'manual',
        signal: AbortSignal.any([signal, AbortSignal.timeout(this.#timeoutMs)]),
      });
      await response.body?.cancel().catch(() => undefined); // the answer's body is not used
      const { status } = response;
      if (status >= 200 && status < 300) return { ok: true };
      const retryable = status === 408 || status === 429 || status >= 500;
      const retryAfterMs = retryable
        ? parseRetryAfter(response.headers.get('retry-after'))
        : undefined;
      return {
        ok: false,
        retryable,
        status,
        reason: `HTTP ${status}`,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      };
    } catch (err) {
      return { ok: false, retryable: true, reason: failureReason(err) };
    }
  }
}
