import {
  chunkRange,
  CONTENT_HASH_BLOCK_SIZE,
  FINAL_STATUSES,
  type ChunkResponse,
  type FileStatus,
  type FileStatusResponse,
  type UploadSession,
} from '@file-uploader/protocol';
import { blockDigest, chunkDigest, hashBlocks, readSlice, releaseSlice } from './hashing.js';
import type { OutcomeFollower } from './outcome-follower.js';
import { SpeedMeter, type UploadProgress } from './progress.js';
import type { ResumeRecord, ResumeStore } from './resume-store.js';
import { withRetry, type RetryOptions } from './retry.js';
import type { Transport } from './transport.js';
import { UploadError } from './upload-error.js';
import {
  assertTransition,
  canTransition,
  TERMINAL_STATES,
  type UploadState,
} from './upload-state.js';

/** A file to upload, with what the server is told about it. */
/**
 * Files of up to this many 4 MiB blocks are hashed before initiate (a duplicate then sends
 * nothing); larger files are hashed while their chunks go out, which starts the sending at once.
 */
const HASH_FIRST_BLOCKS = 4;

export interface UploadSource {
  blob: Blob;
  name: string;
  type: string;
  lastModified?: number;
}

/** Where an upload lives on the server once initiated. */
export interface ServerPlace {
  sessionId: string;
  fileId: string;
  chunkSize: number;
  totalChunks: number;
  expiresAt: string;
  status: FileStatus;
  duplicateOf?: string;
}

/** What an upload needs from its uploader. */
export interface UploadHost {
  transport: Transport;
  store?: ResumeStore;
  endpoint: string;
  retry: RetryOptions;
  chunkConcurrency: number;
  digests: boolean;
  /** Chunks go out as bytes (a custom sender, Node's): read them here, from the whole file. */
  sendsBytes: boolean;
  persistFiles: boolean;
  progressIntervalMs: number;
  /** Initiates this upload, together with others of its batch. */
  initiate(upload: Upload, signal: AbortSignal): Promise<ServerPlace>;
  /** Runs `run` holding the file's cross-tab lock (Web Locks), so two tabs never send one file. */
  lock(upload: Upload, run: () => Promise<void>): Promise<void>;
  /** Runs `run` in one of the uploader's hashing slots (bounds reading at once). */
  hashSlot<T>(run: () => Promise<T>): Promise<T>;
  /** Runs `run` in one of the uploader's sending slots (files uploading at once). */
  sendSlot<T>(run: () => Promise<T>): Promise<T>;
  /** Follows files after their last chunk to their outcome (event stream, else polling). */
  outcomes: OutcomeFollower;
  stateChanged(upload: Upload, previous: UploadState): void;
  progressed(upload: Upload): void;
}

/** One file's upload: a state machine driven by its own run loop. */
export class Upload {
  readonly id = crypto.randomUUID();
  readonly name: string;
  readonly size: number;
  readonly type: string;
  readonly lastModified?: number;
  /** Fingerprint of the file: the key of its resume record. */
  readonly key: string;

  #state: UploadState = 'queued';
  #place?: ServerPlace;
  #contentHash?: string;
  /** The 4 MiB blocks' digests from hashing: the chunks' own when chunks are 4 MiB. */
  #blocks?: Uint8Array;
  /** While blocks are hashed beside the sending: entry `index` settles once it is in `#blocks`. */
  #hashed?: Promise<unknown>[];
  /** A content hash learnt after initiate, for the next chunk request to announce. */
  #announce?: string;
  #result?: FileStatusResponse;
  #error?: UploadError;
  #controller?: AbortController;
  /** The current run: settles once its run loop has ended and its slot is free. */
  #running: Promise<void> = Promise.resolve();
  #run = 0;
  #confirmed = new Set<number>();
  #confirmedBytes = 0;
  #inFlight = new Map<number, number>();
  #speed = new SpeedMeter();
  #bytesPerSecond = 0;
  #lastProgressAt = 0;
  #progressTimer?: ReturnType<typeof setTimeout>;
  #done!: Promise<FileStatusResponse>;
  #settle!: { resolve: (r: FileStatusResponse) => void; reject: (e: UploadError) => void };

  constructor(
    readonly source: UploadSource,
    private readonly host: UploadHost,
    key: string,
    resumeFrom?: ResumeRecord,
    blocks?: Uint8Array,
  ) {
    this.name = source.name;
    this.size = source.blob.size;
    this.type = source.type;
    this.lastModified = source.lastModified;
    this.key = key;
    this.#arm();
    this.#blocks = blocks;
    if (resumeFrom) {
      this.#contentHash = resumeFrom.contentHash;
      this.#place = {
        sessionId: resumeFrom.sessionId,
        fileId: resumeFrom.fileId,
        chunkSize: resumeFrom.chunkSize,
        totalChunks: Math.ceil(resumeFrom.size / resumeFrom.chunkSize),
        expiresAt: resumeFrom.expiresAt,
        status: 'uploading',
      };
    }
  }

  /**
   * Settles when this attempt ends: with the server's view of a ready file, or with an
   * UploadError (failed, rejected, cancelled). `retry()` starts a new attempt with a new promise.
   */
  get done(): Promise<FileStatusResponse> {
    return this.#done;
  }

  #arm(): void {
    this.#done = new Promise((resolve, reject) => (this.#settle = { resolve, reject }));
    this.#done.catch(() => undefined); // Failures are state too; nobody has to await `done`.
  }

  get state(): UploadState {
    return this.#state;
  }
  get sessionId(): string | undefined {
    return this.#place?.sessionId;
  }
  get fileId(): string | undefined {
    return this.#place?.fileId;
  }
  get contentHash(): string | undefined {
    return this.#contentHash;
  }
  /** The server's last word on a finished file. */
  get result(): FileStatusResponse | undefined {
    return this.#result;
  }
  get error(): UploadError | undefined {
    return this.#error;
  }

  get progress(): UploadProgress {
    let inFlight = 0;
    for (const loaded of this.#inFlight.values()) inFlight += loaded;
    const done = this.#confirmedBytes + inFlight;
    const speed = this.#bytesPerSecond;
    return {
      confirmedBytes: this.#confirmedBytes,
      inFlightBytes: inFlight,
      totalBytes: this.size,
      bytesPerSecond: speed,
      ...(speed > 0 ? { etaSeconds: Math.max(0, (this.size - done) / speed) } : {}),
    };
  }

  /** Starts (or restarts) the run loop; used by the uploader. */
  start(): void {
    const id = ++this.#run;
    const controller = new AbortController();
    this.#controller = controller;
    // A run stopped just now still holds its Web Lock for a moment: taking the lock before it
    // lets go would find it busy (as if another tab sent the file) and pause.
    this.#running = this.#running
      .then(() =>
        id === this.#run
          ? this.host.lock(this, () => this.#runLoop(id, controller.signal))
          : undefined,
      )
      .catch(() => undefined); // The run loop keeps its failures in the state.
  }

  /** Stops sending; confirmed chunks stay on the server. */
  pause(): void {
    if (!['queued', 'hashing', 'initiating', 'uploading'].includes(this.#state)) return;
    this.#to('paused');
    this.#stop();
  }

  /** Continues a paused upload from what the server holds. */
  resume(): void {
    if (this.#state !== 'paused') return;
    this.#to(this.#place ? 'uploading' : 'queued');
    this.start();
  }

  /** Starts a failed upload again, keeping what the server already has. */
  retry(): void {
    if (this.#state !== 'failed') return;
    this.#error = undefined;
    this.#arm();
    this.#to('queued');
    this.start();
  }

  /** Stops for good and removes the unfinished file from the server and from resume state. */
  async cancel(): Promise<void> {
    if (TERMINAL_STATES.includes(this.#state)) return;
    this.#stop();
    this.#fail(new UploadError('aborted', 'The upload was cancelled.', false), 'cancelled');
    await this.#forget();
    const place = this.#place;
    if (place) {
      // Retried like any request (a 423 while the file assembles, a 5xx), for at most 10 s.
      const signal = AbortSignal.timeout(10_000);
      const { transport } = this.host;
      await withRetry(
        () =>
          transport.json('DELETE', transport.url('remove', { fileId: place.fileId }), {
            headers: { 'Upload-Confirm': 'delete' },
            signal,
          }),
        { ...this.host.retry, signal },
      ).catch(() => undefined); // Best effort: the session's expiry removes it anyway.
    }
  }

  #stop(): void {
    this.#run++;
    this.#controller?.abort(new UploadError('aborted', 'The upload was stopped.', false));
    this.#inFlight.clear();
    this.#speed.reset();
    this.#emitProgress(true);
  }

  #to(next: UploadState): void {
    const previous = this.#state;
    if (previous === next) return;
    assertTransition(previous, next);
    this.#state = next;
    this.host.stateChanged(this, previous);
  }

  async #runLoop(id: number, signal: AbortSignal): Promise<void> {
    const stale = () => id !== this.#run;
    if (stale()) return; // Paused or cancelled while the previous run let go.
    try {
      if (!this.#place) {
        this.#to('hashing');
        // Small files are hashed before initiate: a file the user already uploaded then
        // completes without a byte sent. Larger ones start sending at once, hashed meanwhile.
        if (!this.#contentHash && this.size <= HASH_FIRST_BLOCKS * CONTENT_HASH_BLOCK_SIZE) {
          const hashes = await this.host.hashSlot(() =>
            stale() ? Promise.resolve(undefined) : hashBlocks(this.source.blob, signal),
          );
          if (stale() || !hashes) return;
          this.#contentHash = hashes.contentHash;
          this.#blocks = hashes.blocks;
        }
      }
      if (!this.#contentHash) this.#hashAlongside(id, signal);
      const fresh = !this.#place;
      if (fresh) {
        this.#to('initiating');
        this.#place = await this.host.initiate(this, signal);
        if (stale()) return;
        if (this.#place.status === 'ready') return await this.#finish(id, 'ready', signal);
        await this.#remember(signal);
      }
      // Hashing and initiating hold no sending slot, so a batch larger than the slots still
      // goes up in one session; only sending waits for a slot.
      const last = await this.host.sendSlot(async () => {
        if (stale()) return undefined;
        this.#to('uploading');
        return this.#transfer(id, signal, fresh);
      });
      if (stale()) return;
      if (last) await this.#finish(id, last.status, signal);
    } catch (err) {
      if (stale()) return;
      this.#stop(); // The other chunk workers of this run stop too: a failed upload sends nothing.
      const error =
        err instanceof UploadError
          ? err
          : new UploadError('internal', (err as Error)?.message ?? String(err), false, undefined, {
              cause: err,
            });
      if (error.code === 'session_expired' || error.code === 'not_found') {
        await this.#forget(); // The server forgot this place: a retry starts a new session.
        this.#place = undefined;
        // Nothing confirmed there counts for the new place; every chunk goes again.
        this.#confirmed.clear();
        this.#confirmedBytes = 0;
      }
      this.#fail(
        error,
        error.code === 'type_not_allowed' || error.status === 413 ? 'rejected' : 'failed',
      );
    }
  }

  /**
   * Hashes the file's blocks while its chunks go out: each chunk's digest comes from its block
   * as soon as that is hashed, and once the content hash is known the next chunk request
   * announces it, so a file the user already has completes there. The resume record, which
   * needs the content hash, is written then.
   */
  #hashAlongside(id: number, signal: AbortSignal): void {
    const hashing = hashBlocks(this.source.blob, signal);
    this.#blocks = hashing.blocks;
    this.#hashed = hashing.hashed;
    hashing
      .then(async ({ contentHash }) => {
        if (id !== this.#run) return;
        this.#contentHash = contentHash;
        this.#announce = contentHash;
        this.#hashed = undefined;
        // Not once the file is past sending: the record would outlive the upload. Before its
        // place is known, initiate writes it.
        if (this.#place && this.#state === 'uploading') await this.#remember(signal);
      })
      .catch(() => {
        if (id === this.#run) this.#blocks = undefined;
      });
  }

  /**
   * Sends every chunk the server lacks; returns the last confirmation (or undefined if paused).
   * A place initiated by this run (`fresh`) holds nothing yet: no need to ask the server.
   */
  async #transfer(
    id: number,
    signal: AbortSignal,
    fresh: boolean,
  ): Promise<ChunkResponse | undefined> {
    const place = this.#place as ServerPlace;
    const { transport } = this.host;
    if (!fresh) {
      const session = await withRetry(
        () =>
          transport.json<UploadSession>(
            'GET',
            transport.url('session', { sessionId: place.sessionId }),
            { signal },
          ),
        { ...this.host.retry, signal },
      );
      const file = session.files.find((f) => f.fileId === place.fileId);
      if (!file)
        throw new UploadError('not_found', 'The server no longer has this file.', false, 404);
      if (file.status !== 'pending' && file.status !== 'uploading') {
        return {
          fileId: file.fileId,
          chunkIndex: -1,
          receivedBytes: file.receivedBytes,
          status: file.status,
        };
      }
      for (const index of file.receivedChunks) this.#confirm(index);
    }
    const queue: number[] = [];
    for (let i = 0; i < place.totalChunks; i++) if (!this.#confirmed.has(i)) queue.push(i);
    if (queue.length === 0) {
      // Everything is stored but nothing assembled it (a crash): sending chunk 0 again triggers it.
      queue.push(0);
    }

    // Chunks of one hash block each already have their digests; others are hashed here, the
    // next chunk read and hashed while the current ones are on the wire.
    const blocks = this.#blocks;
    const reuse =
      place.chunkSize === CONTENT_HASH_BLOCK_SIZE && blocks?.length === place.totalChunks * 32;
    const hashed = this.#hashed;
    // `bytes` were read when the chunk is not a hash block.
    const digestOf = async (index: number, bytes?: Uint8Array) => {
      if (!reuse) return chunkDigest(bytes!);
      await hashed?.[index];
      return blockDigest(blocks, index);
    };
    // The body is a slice of the Blob, never bytes read into the page: browsers send in-memory
    // bodies many times slower than slices of a file. Bytes are read only to hash them.
    type Prepared = { body: Blob; bytes?: Uint8Array; digest?: string };
    const prepared = new Map<number, Promise<Prepared>>();
    const prepare = async (index: number): Promise<Prepared> => {
      const { start, end } = chunkRange(index, this.size, place.chunkSize);
      const body = this.source.blob.slice(start, end + 1);
      const { digests, sendsBytes } = this.host;
      const bytes =
        sendsBytes || (digests && !reuse)
          ? await readSlice(this.source.blob, start, end + 1)
          : undefined;
      return { body, bytes, digest: digests ? await digestOf(index, bytes) : undefined };
    };
    const take = () => {
      const index = queue.shift();
      if (index === undefined) return undefined;
      const ready = prepared.get(index) ?? prepare(index);
      prepared.delete(index);
      const next = queue[0];
      if (next !== undefined && !prepared.has(next)) {
        const ahead = prepare(next);
        ahead.catch(() => undefined);
        prepared.set(next, ahead);
      }
      return { index, ready };
    };

    let last: ChunkResponse | undefined;
    const worker = async () => {
      // A chunk's answer may end the file early (the server found it is one the user has).
      for (let job = take(); job && id === this.#run && !last; job = take()) {
        const { index, ready } = job;
        const { body, bytes, digest } = await ready;
        const { start, end } = chunkRange(index, this.size, place.chunkSize);
        const contentHash = this.#announce;
        this.#announce = undefined;
        let progressed = false;
        const response = await withRetry(
          () =>
            transport.chunk({
              sessionId: place.sessionId,
              fileId: place.fileId,
              start,
              end,
              size: this.size,
              body,
              bytes,
              digest,
              contentHash,
              signal,
              onProgress: (loaded) => {
                progressed ||= loaded > 0;
                this.#inFlight.set(index, loaded);
                this.#emitProgress();
              },
            }),
          {
            ...this.host.retry,
            signal,
            // Bytes that moved before the connection failed count as progress; an HTTP
            // answer (a 503 after the whole body) does not, or such a server would be tried
            // forever.
            progressed: (error) => {
              const had = progressed && !(error instanceof UploadError && error.status);
              progressed = false;
              this.#inFlight.delete(index);
              return had;
            },
          },
        )
          .catch((err: unknown) => this.#outcomeOnConflict(err, place, signal))
          // Every try of this chunk has settled: its bytes may be read into again.
          .finally(() => bytes && releaseSlice(this.source.blob, bytes));
        if (id !== this.#run) return;
        this.#inFlight.delete(index);
        this.#confirm(index);
        this.#emitProgress();
        if (response.status !== 'pending' && response.status !== 'uploading') last = response;
      }
    };
    const workers = Math.max(1, Math.min(this.host.chunkConcurrency, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
    if (id !== this.#run) return undefined;
    return (
      last ?? {
        fileId: place.fileId,
        chunkIndex: -1,
        receivedBytes: this.size,
        status: 'assembling',
      }
    );
  }

  /**
   * A chunk repeated after its answer was lost may find the file already finished: a rejected
   * file keeps no bytes to compare with, so the server answers 409. The file's outcome, not the
   * conflict, is what counts then; any other 409 stays an error.
   */
  async #outcomeOnConflict(
    err: unknown,
    place: ServerPlace,
    signal: AbortSignal,
  ): Promise<ChunkResponse> {
    if (!(err instanceof UploadError) || err.code !== 'conflict') throw err;
    const status = await this.host.outcomes.status(place.fileId, signal).catch(() => undefined);
    if (!status || !FINAL_STATUSES.includes(status.status)) throw err;
    return {
      fileId: place.fileId,
      chunkIndex: -1,
      receivedBytes: status.receivedBytes,
      status: status.status,
    };
  }

  #confirm(index: number): void {
    if (this.#confirmed.has(index) || !this.#place) return;
    this.#confirmed.add(index);
    const { start, end } = chunkRange(index, this.size, this.#place.chunkSize);
    this.#confirmedBytes += end - start + 1;
  }

  /** Follows the file through assembly and scanning to its outcome; `status` is the last known. */
  async #finish(id: number, status: FileStatus, signal: AbortSignal): Promise<void> {
    const place = this.#place as ServerPlace;
    const result = await this.host.outcomes.follow(
      place.sessionId,
      place.fileId,
      status,
      // `assembling` and `scanning` are states of both; a status that is no later state is kept out.
      (now) => {
        const next = now as UploadState;
        if (id === this.#run && canTransition(this.#state, next)) this.#to(next);
      },
      signal,
    );
    if (id !== this.#run) return;
    this.#result = result;
    if (result.status === 'ready') {
      // Ready at once: a pause while the record is removed would leave a finished file paused,
      // with no record left to resume it from (it would be uploaded again).
      this.#to('ready');
      this.#confirmedBytes = this.size;
      this.#emitProgress(true);
      await this.#forget();
      return this.#settle.resolve(result);
    }
    await this.#forget();
    if (id !== this.#run) return; // paused or cancelled meanwhile
    const { error } = result;
    this.#fail(
      new UploadError(
        error?.code ?? 'internal',
        error?.message ?? `The file was ${result.status}.`,
        false,
      ),
      result.status === 'rejected' ? 'rejected' : 'failed',
    );
  }

  #fail(error: UploadError, state: 'failed' | 'rejected' | 'cancelled'): void {
    // A cancel that lands while a failing run cleans up has the last word.
    if (this.#state === 'cancelled') return;
    this.#error = error;
    this.#to(state);
    this.#settle.reject(error);
  }

  /** Saves what a later page or process needs to continue this upload. */
  async #remember(signal: AbortSignal): Promise<void> {
    const { store } = this.host;
    const place = this.#place;
    if (!store || !place || !this.key || !this.#contentHash) return;
    let persisted = false;
    if (this.host.persistFiles && store.saveBytes) {
      persisted = await store.saveBytes(this.key, this.source.blob, signal).then(
        () => true,
        () => false, // Over quota: the user picks the file again to resume.
      );
    }
    await store.set({
      key: this.key,
      endpoint: this.host.endpoint,
      sessionId: place.sessionId,
      fileId: place.fileId,
      expiresAt: place.expiresAt,
      chunkSize: place.chunkSize,
      name: this.name,
      size: this.size,
      type: this.type,
      ...(this.lastModified !== undefined ? { lastModified: this.lastModified } : {}),
      contentHash: this.#contentHash,
      persisted,
    });
    // The upload ended while this was written, and its removal may have gone first: remove it.
    if (this.#result || this.#state === 'cancelled') await this.#forget();
  }

  async #forget(): Promise<void> {
    if (!this.host.store || !this.key) return;
    await this.host.store.delete(this.key).catch(() => undefined);
    await this.host.store.deleteBytes?.(this.key).catch(() => undefined);
  }

  /** Progress events at most every `progressIntervalMs`, plus a trailing one. */
  #emitProgress(now = false): void {
    const at = Date.now();
    const total = this.progress;
    this.#bytesPerSecond = this.#speed.sample(total.confirmedBytes + total.inFlightBytes, at);
    if (now || at - this.#lastProgressAt >= this.host.progressIntervalMs) {
      clearTimeout(this.#progressTimer);
      this.#progressTimer = undefined;
      this.#lastProgressAt = at;
      this.host.progressed(this);
    } else {
      this.#progressTimer ??= setTimeout(
        () => this.#emitProgress(true),
        this.host.progressIntervalMs,
      );
    }
  }
}
