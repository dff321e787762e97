import type { ChannelModel, ConfirmChannel } from 'amqplib';
import type { Logger } from 'pino';
import type { UploadEvent } from '@file-uploader/protocol';
import type { EventBus } from './event-bus.js';

export interface RabbitMqBusOptions {
  /** `amqp://user:password@host:5672/vhost` (or `amqps://`). */
  url: string;
  /** Durable topic exchange the events go to; created if missing. */
  exchange: string;
  log: Logger;
  /** Shown for this connection in the broker's management tools. Default `file-uploader`. */
  connectionName?: string;
  /** Bound on opening a connection. Default 10 s. */
  connectTimeoutMs?: number;
  /** Bound on the broker confirming a batch. Default 30 s. */
  confirmTimeoutMs?: number;
  /** AMQP heartbeat unless the URL sets `heartbeat`, so a dead peer is noticed. Default 10 s. */
  heartbeatSeconds?: number;
}

/** A nack arrives as a non-Error value; a closed channel as an Error. */
function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error('The broker refused an event (nack).');
}

interface Link {
  model: ChannelModel;
  channel: ConfirmChannel;
}

/**
 * Publishes each event to a durable topic exchange as a persistent message: routing key = event
 * type (bind `upload.*`, `session.completed`, or `#`), `messageId` = event id (consumers drop
 * repeats by it), JSON body, `type`, `timestamp` and an `x-seq` header. The channel is in confirm
 * mode: `publish` resolves only after the broker confirmed every message of the batch (for
 * persistent messages to durable queues, after they are on disk). A lost connection is noticed
 * (close event, heartbeat) and the next publish opens a new one; a batch that was cut off
 * rejects, and the relay publishes it again. Messages no queue is bound for are dropped by the
 * broker, so bind queues before relying on them (or give the exchange an alternate exchange).
 */
export class RabbitMqBus implements EventBus {
  readonly #options: RabbitMqBusOptions;
  #link: Promise<Link> | undefined;
  #closed = false;

  constructor(options: RabbitMqBusOptions) {
    if (!/^amqps?:\/\//i.test(options.url)) {
      throw new RangeError('RabbitMQ URL must start with amqp:// or amqps://');
    }
    if (!options.exchange) throw new RangeError('RabbitMQ exchange name is required');
    this.#options = options;
  }

  async publish(events: readonly UploadEvent[], signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new Error('The RabbitMQ bus is closed.');
    signal?.throwIfAborted();
    const { channel } = await this.#connected();
    const { exchange } = this.#options;
    const confirms: Promise<void>[] = [];
    for (const event of events) {
      confirms.push(
        new Promise<void>((resolve, reject) => {
          const content = Buffer.from(JSON.stringify(event));
          // Not waiting for 'drain': the confirms awaited below bound what is in flight.
          channel.publish(
            exchange,
            event.type,
            content,
            {
              persistent: true,
              messageId: event.id,
              type: event.type,
              contentType: 'application/json',
              timestamp: Math.floor(Date.parse(event.occurredAt) / 1000),
              headers: { 'x-seq': event.seq, 'x-schema-version': event.version },
            },
            (err: unknown) => (err ? reject(asError(err)) : resolve()),
          );
        }),
      );
    }
    await this.#settle(Promise.all(confirms), signal);
  }

  async close(): Promise<void> {
    this.#closed = true;
    const link = this.#link;
    this.#link = undefined;
    if (!link) return;
    try {
      const { model } = await link;
      await model.close();
    } catch {
      // Already gone: nothing to release.
    }
  }

  /** Waits for `confirmed`, the confirm timeout, or `signal`, whichever comes first. */
  async #settle(confirmed: Promise<unknown>, signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.#options.confirmTimeoutMs ?? 30_000;
    const stop = AbortSignal.any([AbortSignal.timeout(timeoutMs), ...(signal ? [signal] : [])]);
    let onAbort: (() => void) | undefined;
    const stopped = new Promise<never>((_, reject) => {
      onAbort = () =>
        reject(
          stop.reason instanceof Error && stop.reason.name === 'TimeoutError'
            ? new Error(`The broker did not confirm within ${timeoutMs} ms.`)
            : stop.reason,
        );
      stop.addEventListener('abort', onAbort, { once: true });
    });
    try {
      await Promise.race([confirmed, stopped]);
    } catch (err) {
      // Unconfirmed messages may still be confirmed or lost: start afresh on a new connection
      // rather than wait on this one.
      if (!signal?.aborted) this.#drop();
      throw err;
    } finally {
      if (onAbort) stop.removeEventListener('abort', onAbort);
      confirmed.catch(() => undefined);
      stopped.catch(() => undefined);
    }
  }

  #connected(): Promise<Link> {
    const link = (this.#link ??= this.#open());
    // A failed attempt is forgotten, so the next publish tries again.
    link.catch(() => {
      if (this.#link === link) this.#link = undefined;
    });
    return link;
  }

  async #open(): Promise<Link> {
    const { url, exchange, log } = this.#options;
    const target = new URL(url);
    // A URL's own heartbeat wins; otherwise a short one, so a dead peer is noticed.
    if (!target.searchParams.has('heartbeat')) {
      target.searchParams.set('heartbeat', String(this.#options.heartbeatSeconds ?? 10));
    }
    // Loaded on first use, so a server without RABBITMQ_URL never carries the client.
    const { connect } = await import('amqplib');
    const model = await connect(target.href, {
      timeout: this.#options.connectTimeoutMs ?? 10_000,
      clientProperties: { connection_name: this.#options.connectionName ?? 'file-uploader' },
    });
    const lost = (err?: Error) => {
      if (err) log.warn({ err }, 'RabbitMQ connection lost');
      this.#drop(model);
    };
    model.on('error', (err: Error) => lost(err));
    model.on('close', lost);
    try {
      const channel = await model.createConfirmChannel();
      channel.on('error', (err: Error) => log.warn({ err }, 'RabbitMQ channel error'));
      channel.on('close', () => this.#drop(model));
      await channel.assertExchange(exchange, 'topic', { durable: true });
      if (this.#closed) throw new Error('The RabbitMQ bus is closed.');
      return { model, channel };
    } catch (err) {
      await model.close().catch(() => undefined);
      throw err;
    }
  }

  /** Forgets the current connection (all of it, or only when it is `model`) and closes it. */
  #drop(model?: ChannelModel): void {
    const link = this.#link;
    if (!link) return;
    void link
      .then((current) => {
        if (model && current.model !== model) return;
        if (this.#link === link) this.#link = undefined;
        return current.model.close();
      })
      .catch(() => undefined);
  }
}
