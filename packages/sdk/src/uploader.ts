import type { InitiateResponse, UploadMetadata } from '@file-uploader/protocol';
import { contentHash } from './hashing.js';
import { defaultResumeStore } from './indexeddb-resume-store.js';
import { fingerprint, type ResumeRecord, type ResumeStore } from './resume-store.js';
import { DEFAULT_RETRY, withRetry, type RetryOptions } from './retry.js';
import { Transport, type TokenProvider } from './transport.js';
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
  fetch?: typeof fetch;
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

/** A limit on how many tasks run at once. */
class Slots {
  #free: number;
  #waiting: Array<() => void> = [];
  constructor(size: number) {
    this.#free = size;
  }
  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.#free > 0) this.#free--;
    else await new Promise<void>((resolve) => this.#waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#free++;
    }
  }
}

/** Uploads added together are initiated together, in one session. */
class Batch {
  readonly members = new Set<Upload>();
  readonly #waiting = new Map<
    Upload,
    { resolve: (p: ServerPlace) => void; reject: (e: unknown) => void }
  >();

  constructor(private readonly initiate: (uploads: Upload[]) => Promise<ServerPlace[]>) {}

  join(upload: Upload): Promise<ServerPlace> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(upload, { resolve, reject });
      this.#flush();
    });
  }

  /** An upload that paused, failed or was cancelled before initiating no longer holds the rest up. */
  leave(upload: Upload): void {
    const waiting = this.#waiting.get(upload);
    this.members.delete(upload);
    this.#waiting.delete(upload);
    // Its run loop is stopping: it must not wait here forever, holding its lock.
    waiting?.reject(new UploadError('aborted', 'The upload left its batch.', false));
    this.#flush();
  }

  #flush(): void {
    if (this.#waiting.size === 0 || [...this.members].some((m) => !this.#waiting.has(m))) return;
    const entries = [...this.#waiting];
    this.#waiting.clear();
    for (const [upload] of entries) this.members.delete(upload);
    this.initiate(entries.map(([upload]) => upload)).then(
      (places) => entries.forEach(([, settle], i) => settle.resolve(places[i] as ServerPlace)),
      (err: unknown) => entries.forEach(([, settle]) => settle.reject(err)),
    );
  }
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
      ...(options.fetch ? { fetch: options.fetch } : {}),
    });
    this.#store = options.resume === false ? undefined : (options.resume ?? defaultResumeStore());
    const files = Math.max(1, options.concurrency?.files ?? 3);
    this.#hashSlots = new Slots(files);
    this.#sendSlots = new Slots(files);
    const retry = { ...DEFAULT_RETRY, ...options.retry };
    this.#host = {
      transport: this.#transport,
      ...(this.#store ? { store: this.#store } : {}),
      endpoint: options.endpoint,
      retry,
      chunkConcurrency: Math.max(1, options.concurrency?.chunks ?? 3),
      digests: options.digests ?? true,
      persistFiles: options.persistFiles ?? false,
      progressIntervalMs: options.progressIntervalMs ?? 100,
      initiate: (upload, signal) => this.#initiate(upload, signal),
      lock: (upload, run) => this.#lock(upload, run),
      hashSlot: (run) => this.#hashSlots.run(run),
      sendSlot: (run) => this.#sendSlots.run(run),
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
    for (const record of records) {
      if (Date.parse(record.expiresAt) <= now) {
        await store.delete(record.key);
        await store.deleteBytes?.(record.key);
        continue;
      }
      if (this.#uploads.some((u) => u.key === record.key && !TERMINAL_STATES.includes(u.state)))
        continue;
      live.push({
        record,
        persisted: record.persisted === true,
        resume: (file) => this.#resume(record, file),
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
    if (
      blob.size !== record.size ||
      (await contentHash(blob, new AbortController().signal)) !== record.contentHash
    ) {
      throw new UploadError('file_changed', 'This is not the file that was being uploaded.', false);
    }
    const source: UploadSource = {
      blob,
      name: record.name,
      type: record.type,
      ...(record.lastModified !== undefined ? { lastModified: record.lastModified } : {}),
    };
    const upload = new Upload(source, this.#host, record.key, record);
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
    return (await this.#initiateBatch([upload], signal))[0] as ServerPlace;
  }

  async #initiateBatch(
    uploads: Upload[],
    signal = new AbortController().signal,
  ): Promise<ServerPlace[]> {
    const transport = this.#transport;
    const response = await withRetry(
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
