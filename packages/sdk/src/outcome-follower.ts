import {
  FINAL_STATUSES,
  isUploadEvent,
  type FileStatus,
  type FileStatusResponse,
} from '@file-uploader/protocol';
import { abortedError } from './chunk-sender.js';
import { sleep, withRetry, type RetryOptions } from './retry.js';
import { SseParser } from './sse-parser.js';
import type { Transport } from './transport.js';
import { UploadError } from './upload-error.js';

interface Waiter {
  fileId: string;
  signal: AbortSignal;
  onStatus: (status: FileStatus) => void;
  resolve: (status: FileStatusResponse) => void;
  reject: (error: unknown) => void;
  /** Set while the final status is being fetched, so several events fetch it once. */
  ending?: boolean;
}

/** The files of one session that wait for their outcome, and what stops its stream. */
interface Watch {
  waiters: Set<Waiter>;
  stop: AbortController;
}

/** Connections that never opened (or died without a byte) before falling back to polling. */
const MAX_FAILURES = 3;

/**
 * Follows files after their last chunk to their outcome. One event stream per session
 * (`GET /session/:id/events`, read with fetch so it carries the bearer token) serves every file
 * of that session that waits; it opens for the first and closes when none waits any more. It
 * reconnects with `Last-Event-ID` after a drop and falls back to polling `GET /status/:fileId`
 * when the stream cannot be had: an older server without the route, repeated failures, or a
 * proxy that buffers the stream (no byte for a while). Each (re)connect also polls once, so a
 * change between the last chunk and the stream opening is never missed.
 */
export class OutcomeFollower {
  readonly #watches = new Map<string, Watch>();

  constructor(
    private readonly transport: Transport,
    private readonly retry: RetryOptions,
    private readonly stream: boolean,
  ) {}

  /** The file's status now (retried like any request). */
  status(fileId: string, signal: AbortSignal): Promise<FileStatusResponse> {
    const { transport } = this;
    return withRetry(
      () =>
        transport.json<FileStatusResponse>('GET', transport.url('status', { fileId }), { signal }),
      { ...this.retry, signal },
    );
  }

  /**
   * Resolves with the file's final status (`ready`, `rejected` or `failed`). `status` is the last
   * one known; it and every later status on the way (`assembling`, `scanning`) go to `onStatus`,
   * which ignores any that would go backwards.
   */
  follow(
    sessionId: string,
    fileId: string,
    status: FileStatus,
    onStatus: (status: FileStatus) => void,
    signal: AbortSignal,
  ): Promise<FileStatusResponse> {
    if (FINAL_STATUSES.includes(status)) return this.status(fileId, signal);
    onStatus(status);
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(abortedError(signal));
      const known = this.#watches.get(sessionId);
      const own = known ?? { waiters: new Set<Waiter>(), stop: new AbortController() };
      const leave = () => {
        signal.removeEventListener('abort', abort);
        if (own.waiters.delete(waiter) && !own.waiters.size) {
          own.stop.abort();
          if (this.#watches.get(sessionId) === own) this.#watches.delete(sessionId);
        }
      };
      const abort = () => waiter.reject(abortedError(signal));
      const waiter: Waiter = {
        fileId,
        signal,
        onStatus,
        resolve: (result) => (leave(), resolve(result)),
        reject: (error) => (leave(), reject(error)),
      };
      signal.addEventListener('abort', abort, { once: true });
      own.waiters.add(waiter);
      if (known) return;
      this.#watches.set(sessionId, own);
      // A fault of the SDK itself must not leave files waiting forever.
      this.#run(sessionId, own).catch((err: unknown) => {
        for (const other of own.waiters) other.reject(err);
      });
    });
  }

  /**
   * Fetches a waiter's status and settles it when final; never throws. When an event said final
   * and the answer is not (a status read from a store that has not caught up), it asks again a
   * second later, until the answer is final; events meanwhile are taken as usual.
   */
  async #check(waiter: Waiter, final?: boolean): Promise<void> {
    if (waiter.ending) return;
    waiter.ending = final;
    await this.status(waiter.fileId, waiter.signal).then((result) => {
      waiter.ending = false;
      if (FINAL_STATUSES.includes(result.status)) return waiter.resolve(result);
      waiter.onStatus(result.status);
      if (final) setTimeout(() => this.#check(waiter, true), 1000);
    }, waiter.reject);
  }

  #checkAll(watch: Watch): Promise<void[]> {
    return Promise.all([...watch.waiters].map((w) => this.#check(w)));
  }

  /** Streams (or polls) for `watch` until nobody waits. */
  async #run(sessionId: string, watch: Watch): Promise<void> {
    const { signal } = watch.stop;
    const url = this.transport.url('sessionEvents', { sessionId });
    let streaming = this.stream;
    let lastEventId = '';
    let retryMs = this.retry.minTimeoutMs;
    let failures = 0;
    for (let poll = 250; !signal.aborted;) {
      if (!streaming) {
        await this.#checkAll(watch);
        await sleep(poll, signal).catch(() => undefined);
        poll = Math.min(poll * 1.5, 5000);
        continue;
      }
      const parser = new SseParser(({ data }) => this.#event(watch, data), lastEventId);
      const connection = new AbortController();
      let got = false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      // A stream that sends nothing (the server writes `retry:` at once and a comment every
      // 15 s) is dead, or a proxy holds it back.
      const arm = () => {
        clearTimeout(timer);
        timer = setTimeout(() => connection.abort(), got ? 45_000 : 10_000);
      };
      try {
        arm();
        const body = await this.transport.events(
          url,
          lastEventId ? { 'Last-Event-ID': lastEventId } : {},
          AbortSignal.any([signal, connection.signal]),
        );
        void this.#checkAll(watch);
        const reader = body.getReader();
        const decoder = new TextDecoder();
        for (let read; !(read = await reader.read()).done;) {
          got = true;
          failures = 0;
          arm();
          parser.push(decoder.decode(read.value, { stream: true }));
        }
      } catch (err) {
        if (signal.aborted) break;
        // An older server (404, 405), a refusal, or a proxy that holds every byte back: poll.
        streaming = !(
          (err instanceof UploadError && !err.retryable) ||
          (connection.signal.aborted && !got) ||
          ++failures > MAX_FAILURES
        );
      } finally {
        clearTimeout(timer);
        connection.abort();
      }
      lastEventId = parser.lastEventId;
      retryMs = parser.retry ?? retryMs;
      const wait = Math.min(retryMs * 2 ** failures, this.retry.maxTimeoutMs);
      if (streaming) await sleep(wait * (0.5 + Math.random() / 2), signal).catch(() => undefined);
    }
  }

  /** Applies one event of the stream to the files it names. */
  #event(watch: Watch, data: string): void {
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    if (!isUploadEvent(event)) return;
    const files: unknown = event.type === 'session.completed' ? event.data.files : [event.data];
    if (!Array.isArray(files)) return;
    for (const file of files as Array<{ fileId?: unknown; status?: FileStatus } | null>) {
      for (const waiter of watch.waiters) {
        if (waiter.fileId !== file?.fileId || !file.status) continue;
        if (FINAL_STATUSES.includes(file.status) || event.type === 'upload.deleted') {
          // Events carry less than the status route: fetch the full answer once.
          void this.#check(waiter, true);
        } else waiter.onStatus(file.status);
      }
    }
  }
}
