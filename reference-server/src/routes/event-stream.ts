import { PassThrough } from 'node:stream';
import type { Context } from 'koa';
import type { Logger } from 'pino';
import type { UploadEvent } from '@file-uploader/protocol';
import { HttpError } from '../http-error.js';
import type { SessionStore } from '../stores/session-store.js';

/** How an event stream behaves; the defaults suit browsers behind ordinary proxies. */
export interface EventStreamOptions {
  /** A comment line this often keeps idle connections open through proxies. */
  heartbeatMs: number;
  /** A stream ends after this long; the client reconnects with `Last-Event-ID`. */
  maxDurationMs: number;
  /** Longest wait for new events before reading the store again (other instances' writes). */
  pollMs: number;
}

export const DEFAULT_EVENT_STREAM_OPTIONS: EventStreamOptions = {
  heartbeatMs: 15_000,
  maxDurationMs: 10 * 60_000,
  pollMs: 1_000,
};

const SEQ = /^[0-9][0-9-]{0,39}$/;
const BATCH = 100;

/** One event in the `text/event-stream` format. */
export function formatServerSentEvent(event: UploadEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`;
}

/**
 * The open event streams of this process, so a shutdown can end them instead of waiting for
 * clients that never hang up.
 */
export class EventStreams {
  readonly #open = new Set<AbortController>();

  constructor(
    private readonly sessions: SessionStore,
    private readonly log: Logger,
    private readonly options: EventStreamOptions = DEFAULT_EVENT_STREAM_OPTIONS,
  ) {}

  get size(): number {
    return this.#open.size;
  }

  /** Ends every open stream. */
  closeAll(): void {
    for (const controller of this.#open) controller.abort();
  }

  /**
   * Answers `ctx` with the events of `sessionId` after the `Last-Event-ID` request header (or
   * the `lastEventId` query parameter, for clients that cannot set headers), then follows new
   * ones until the client leaves, the stream's time is up, or the server shuts down.
   */
  serve(ctx: Context, sessionId: string): void {
    const header = ctx.get('Last-Event-ID') || String(ctx.query.lastEventId ?? '');
    if (header !== '' && !SEQ.test(header)) {
      throw new HttpError('validation_failed', 'Last-Event-ID is not an event id of this stream.');
    }
    const controller = new AbortController();
    const body = new PassThrough();
    this.#open.add(controller);
    const end = () => controller.abort();
    ctx.req.once('close', end);
    body.once('close', end);
    const timer = setTimeout(end, this.options.maxDurationMs);

    ctx.status = 200;
    ctx.type = 'text/event-stream';
    ctx.set('Cache-Control', 'no-store');
    ctx.set('X-Accel-Buffering', 'no'); // nginx: pass each event on at once
    ctx.body = body;
    body.write('retry: 2000\n\n');

    void this.#follow(sessionId, header || undefined, body, controller.signal)
      .catch((err: unknown) => this.log.warn({ err, sessionId }, 'event stream failed'))
      .finally(() => {
        clearTimeout(timer);
        ctx.req.off('close', end);
        this.#open.delete(controller);
        body.end();
      });
  }

  async #follow(
    sessionId: string,
    after: string | undefined,
    body: PassThrough,
    signal: AbortSignal,
  ): Promise<void> {
    let cursor = after;
    let lastWrite = Date.now();
    while (!signal.aborted) {
      const events = await this.sessions.readEvents({ sessionId, after: cursor, limit: BATCH });
      for (const event of events) {
        if (!body.write(formatServerSentEvent(event))) {
          await new Promise((resolve) => body.once('drain', resolve).once('close', resolve));
        }
        cursor = event.seq;
        lastWrite = Date.now();
      }
      if (events.length === BATCH || signal.aborted) continue;
      if (Date.now() - lastWrite >= this.options.heartbeatMs) {
        body.write(': keep-alive\n\n');
        lastWrite = Date.now();
      }
      const wait = Math.min(this.options.pollMs, this.options.heartbeatMs);
      await this.sessions.waitForEvents(sessionId, wait, signal);
    }
  }
}
