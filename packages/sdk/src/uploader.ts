import type { InitiateResponse, UploadMetadata } from '@file-uploader/protocol';
import type { ChunkSender } from './chunk-sender.js';
import { hashBlocks } from './hashing.js';
import { defaultResumeStore } from './indexeddb-resume-store.js';
import { OutcomeFollower } from './outcome-follower.js';
import { fingerprint, type ResumeRecord, type ResumeStore } from './resume-store.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import { Transport, type TokenProvider } from './transport.js';
import { Batch } from './batch.js';
import { Slots } from './slots.js';
import { Upload, type ServerPlace, type UploadHost, type UploadSource } from './upload.js';
import { UploadError } from './upload-error.js';
import { TERMINAL_STATES, type UploadState } from './upload-state.js';
import { UploadEvent, type UploaderEventMap } from './uploader-events.js';

export interface UploaderOptions {
  /** Base URL of the protocol routes, e.g. `/api/v1/upload`. */
  endpoint: string;
  /** Returns a bearer token; called again with `refresh: true` after a 401. */
  getToken: TokenProvider;
  /** Files uploading at once (default 3) and chunks in flight per file (default 3). */
  concurrency?: { files?: number; chunks?: number };
  /** Where resume state lives; `false` turns resume off. Default: IndexedDB, else memory. */
  resume?: ResumeStore | false;
  /** Keep files' bytes in the resume store too, so a reload resumes without picking files. */
  persistFiles?: boolean;
  retry?: Partial<RetryOptions>;
  /** Abort and retry a request that makes no progress for this long (default 30 s). */
  stallTimeoutMs?: number;
  /** Send a SHA-256 `Content-Digest` with every chunk (default true). */
  digests?: boolean;
  /** Sent with every session this uploader starts. */
  metadata?: UploadMetadata;
  /** Least time between two progress events of one upload (default 100 ms). */
  progressIntervalMs?: number;
  /**
   * Follow files after their last chunk through the session's event stream (default true);
   * `false` polls `GET /status/:fileId` instead.
   */
  events?: boolean;
  /** The fetch for JSON routes, and for chunks where there is no XHR and no `sendChunk`. */
  fetch?: typeof fetch;
  /** How chunk requests go out; default XHR in browsers, else `fetch`. */
  sendChunk?: ChunkSender;
}

/** What `add` takes: a File or Blob (with a name), or a described source. */
export type UploadInput = File | Blob | UploadSource;

/** An upload left unfinished by an earlier page or process. */
export interface ResumableUpload {
  readonly record: ResumeRecord;
  /** True when the bytes are kept and `resume()` needs no file. */
  readonly persisted: boolean;
  /**
   * Continues the upload. Without kept bytes, pass the same file: it is checked (size and
   * content hash) before anything is sent, and a different file fails with `file_changed`.
   */
  resume(file?: Blob): Promise<Upload>;
  /** Forgets this upload: its record and kept bytes. The server drops it when its session expires. */
  discard(): Promise<void>;
}

function toSource(input: UploadInput): UploadSource {
  if (typeof Blob !== 'undefined' && input instanceof Blob) {
    const file = input as Partial<File> & Blob;
    return {
      blob: input,
      name: typeof file.name === 'string' ? file.name : 'blob',
      type: input.type,
      ...(typeof file.lastModified === 'number' ? { lastModified: file.lastModified } : {}),
    };
  }
  return input as UploadSource;
}

/** Indexes of the files an initiate error names, when it names some but not all of them. */
function refusedFiles(err: unknown, count: number): Set<number> | undefined {
  if (!(err instanceof UploadError) || err.retryable) return undefined;
  const files = (err.details as { files?: unknown } | undefined)?.files;
  if (!Array.isArray(files)) return undefined;
  const refused = new Set<number>();
  for (const file of files) {
    const index = (file as { index?: unknown } | null)?.index;
    if (typeof index === 'number' && Number.isInteger(index) && index >= 0 && index < count) {
      refused.add(index);
    }
  }
  return refused.size > 0 && refused.size < count ? refused : undefined;
}

/** Uploads files through protocol v1. Events: `state`, `progress`, `idle`. */
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- typed addEventListener overloads
export class Uploader extends EventTarget {
  readonly #options: UploaderOptions;
  readonly #transport: Transport;
  readonly #store: ResumeStore | undefined;
  readonly #hashSlots: Slots;
  readonly #sendSlots: Slots;
  readonly #uploads: Upload[] = [];
  readonly #batches = new WeakMap<Upload, Batch>();
  readonly #host: UploadHost;
  #pending?: Batch;

  constructor(options: UploaderOptions) {
    super();
    this.#options = options;
    this.#transport = new Transport({
      endpoint: options.endpoint,
      getToken: options.getToken,
      stallTimeoutMs: options.stallTimeoutMs ?? 30_000,
      fetch: options.fetch,
      sendChunk: options.sendChunk,
    });
    this.#store = options.resume === false ? undefined : (options.resume ?? defaultResumeStore());
    const files = Math.max(1, options.concurrency?.files ?? 3);
    this.#hashSlots = new Slots(files);
    this.#sendSlots = new Slots(files);
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#host = {
      transport: this.#transport,
      store: this.#store,
      endpoint: options.endpoint,
      retry,
      chunkConcurrency: Math.max(1, options.concurrency?.chunks ?? 3),
      digests: options.digests ?? true,
      sendsBytes: options.sendChunk !== undefined,
      persistFiles: options.persistFiles ?? false,
      progressIntervalMs: options.progressIntervalMs ?? 100,
      initiate: (upload, signal) => this.#initiate(upload, signal),
      lock: (upload, run) => this.#lock(upload, run),
      hashSlot: (run) => this.#hashSlots.run(run),
      sendSlot: (run) => this.#sendSlots.run(run),
      outcomes: new OutcomeFollower(this.#transport, retry, options.events ?? true),
      stateChanged: (upload, previous) => this.#stateChanged(upload, previous),
      progressed: (upload) => this.dispatchEvent(new UploadEvent('progress', upload)),
    };
  }

  /** Every upload this uploader has seen, in the order added. */
  get uploads(): readonly Upload[] {
    return this.#uploads;
  }

  /** Queues a file; files added in the same task go up in one session. */
  add(input: UploadInput): Upload {
    const source = toSource(input);
    const upload = new Upload(
      source,
      this.#host,
      fingerprint(this.#options.endpoint, { ...source, size: source.blob.size }),
    );
    this.#enqueue(upload);
    return upload;
  }

  #enqueue(upload: Upload, batch = this.#currentBatch()): void {
    batch.members.add(upload);
    this.#batches.set(upload, batch);
    this.#uploads.push(upload);
    upload.start();
  }

  #currentBatch(): Batch {
    if (!this.#pending) {
      const batch = new Batch((uploads) => this.#initiateBatch(uploads));
      this.#pending = batch;
      queueMicrotask(() => {
        if (this.#pending === batch) this.#pending = undefined;
      });
    }
    return this.#pending;
  }

  /** Uploads an earlier page or process left unfinished (expired ones are dropped). */
  async resumable(): Promise<ResumableUpload[]> {
    const store = this.#store;
    if (!store) return [];
    const now = Date.now();
    const records = (await store.list()).filter((r) => r.endpoint === this.#options.endpoint);
    const live: ResumableUpload[] = [];
    const forget = async (key: string) => {
      await store.delete(key);
      await store.deleteBytes?.(key);
    };
    for (const record of records) {
      if (Date.parse(record.expiresAt) <= now) {
        await forget(record.key);
        continue;
      }
      if (this.#uploads.some((u) => u.key === record.key && !TERMINAL_STATES.includes(u.state)))
        continue;
      live.push({
        record,
        persisted: record.persisted === true,
        resume: (file) => this.#resume(record, file),
        discard: () => forget(record.key),
      });
    }
    return live;
  }

  async #resume(record: ResumeRecord, file?: Blob): Promise<Upload> {
    const kept = record.persisted
      ? await this.#store?.loadBytes?.(record.key, record.type)
      : undefined;
    const blob = file ?? kept;
    if (!blob) throw new UploadError('file_changed', 'Pick the file again to resume it.', false);
    const hashes =
      blob.size === record.size ? await hashBlocks(blob, new AbortController().signal) : undefined;
    if (hashes?.contentHash !== record.contentHash) {
      throw new UploadError('file_changed', 'This is not the file that was being uploaded.', false);
    }
    const source: UploadSource = {
      blob,
      name: record.name,
      type: record.type,
      ...(record.lastModified !== undefined ? { lastModified: record.lastModified } : {}),
    };
    const upload = new Upload(source, this.#host, record.key, record, hashes.blocks);
    this.#uploads.push(upload);
    upload.start();
    return upload;
  }

  /** Forgets every resume record and kept file (for sign-out). Running uploads go on. */
  async purge(): Promise<void> {
    const store = this.#store;
    if (!store) return;
    for (const record of await store.list()) {
      await store.delete(record.key);
      await store.deleteBytes?.(record.key);
    }
  }

  async #initiate(upload: Upload, signal: AbortSignal): Promise<ServerPlace> {
    const batch = this.#batches.get(upload);
    this.#batches.delete(upload);
    if (batch && batch.members.has(upload)) {
      const leave = () => batch.leave(upload);
      signal.addEventListener('abort', leave, { once: true });
      try {
        return await batch.join(upload);
      } finally {
        signal.removeEventListener('abort', leave);
      }
    }
    const [result] = await this.#initiateBatch([upload], signal);
    if (result instanceof UploadError) throw result;
    return result as ServerPlace;
  }

  /**
   * One initiate for `uploads`. When the server refuses some files by name (a type not allowed,
   * an empty or too large file: `details.files[].index`), those get the error and the others are
   * initiated again without them, so one bad file does not sink its batch.
   */
  async #initiateBatch(
    uploads: Upload[],
    signal = new AbortController().signal,
  ): Promise<Array<ServerPlace | UploadError>> {
    const transport = this.#transport;
    let response: InitiateResponse;
    try {
      response = await withRetry(
        () =>
          transport.json<InitiateResponse>('POST', transport.url('initiate'), {
            body: {
              files: uploads.map((u) => ({
                name: u.name,
                size: u.size,
                type: u.type,
                ...(u.lastModified !== undefined ? { lastModified: u.lastModified } : {}),
                ...(u.contentHash ? { contentHash: u.contentHash } : {}),
              })),
              ...(this.#options.metadata ? { metadata: this.#options.metadata } : {}),
            },
            signal,
          }),
        { ...this.#host.retry, signal },
      );
    } catch (err) {
      const refused = refusedFiles(err, uploads.length);
      if (!refused) throw err;
      const others = uploads.filter((_, i) => !refused.has(i));
      const results = await this.#initiateBatch(others, signal);
      let next = 0;
      return uploads.map((_, i) =>
        refused.has(i) ? (err as UploadError) : (results[next++] as ServerPlace | UploadError),
      );
    }
    return response.files.map((file) => ({
      sessionId: response.sessionId,
      fileId: file.fileId,
      chunkSize: response.chunkSize,
      totalChunks: file.totalChunks,
      expiresAt: response.expiresAt,
      status: file.status,
      ...(file.duplicateOf ? { duplicateOf: file.duplicateOf } : {}),
    }));
  }

  /** Where Web Locks exist, two tabs never send one file: the second waits paused. */
  async #lock(upload: Upload, run: () => Promise<void>): Promise<void> {
    const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
    if (!locks || !upload.key) return run();
    await locks.request(`file-uploader:${upload.key}`, { ifAvailable: true }, async (lock) => {
      if (lock) await run();
      else upload.pause();
    });
  }

  #stateChanged(upload: Upload, previous: UploadState): void {
    if (upload.state === 'paused' || upload.state === 'failed' || upload.state === 'cancelled') {
      this.#batches.get(upload)?.leave(upload);
    }
    this.dispatchEvent(new UploadEvent('state', upload, previous));
    if (
      this.#uploads.every(
        (u) => TERMINAL_STATES.includes(u.state) || u.state === 'failed' || u.state === 'paused',
      )
    ) {
      this.dispatchEvent(new UploadEvent('idle', upload));
    }
  }
}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging -- typed addEventListener overloads
export interface Uploader {
  addEventListener<K extends keyof UploaderEventMap>(
    type: K,
    listener: (event: UploaderEventMap[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | AddEventListenerOptions,
  ): void;
  removeEventListener<K extends keyof UploaderEventMap>(
    type: K,
    listener: (event: UploaderEventMap[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject,
    options?: boolean | EventListenerOptions,
  ): void;
}

/** Creates an uploader. */
export function createUploader(options: UploaderOptions): Uploader {
  return new Uploader(options);
}
