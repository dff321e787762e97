import { claimedType } from '@file-uploader/protocol';
import {
  createUploader,
  TERMINAL_STATES,
  type ResumableUpload,
  type TokenProvider,
  type Upload,
  type UploadError,
  type UploadEvent,
  type Uploader,
  type UploaderOptions,
} from '@file-uploader/sdk';
import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { BatchDoneEvent } from './events/batch-done.js';
import { UploadErrorEvent } from './events/upload-error.js';
import { UploadProgressEvent } from './events/upload-progress.js';
import { UploadStartEvent } from './events/upload-start.js';
import { UploadSuccessEvent } from './events/upload-success.js';
import { countsTowardsLimits, type FileEntry } from './file-entry.js';
import { removeUploaded } from './remove-uploaded.js';
import { makeThumbnail } from './thumbnail.js';
import type { RejectionCode } from './validation.js';

/** What the controller reads from its element. */
export interface UploadHost extends ReactiveControllerHost, EventTarget {
  endpoint: string;
  getToken?: TokenProvider;
  persistFiles: boolean;
  uploaderOptions?: Partial<Omit<UploaderOptions, 'endpoint' | 'getToken'>>;
}

/** Longest side of a thumbnail, in CSS pixels (drawn at twice that for sharp screens). */
const THUMBNAIL_SIZE = 96;

let entries = 0;

/**
 * The element's engine room: one SDK uploader, the list of files, and the events. The SDK does
 * every byte of the work; this keeps the list in step with it and re-renders the host.
 */
export class UploadController implements ReactiveController {
  /** The list, in the order files were added. */
  entries: FileEntry[] = [];
  #uploader?: Uploader;
  /** Every uploader made so far: uploads started on an earlier one still report to the list. */
  readonly #uploaders = new Set<Uploader>();
  #config = '';
  #options?: UploadHost['uploaderOptions'];
  #thumbnails = new AbortController();
  #thumbnailQueue: Promise<void> = Promise.resolve();
  /** Uploads since the last `batch-done`. */
  #batch: Upload[] = [];
  /** Uploads whose upload-success or upload-error of their current attempt is out. */
  #announced = new WeakSet<Upload>();
  readonly #onState = (event: UploadEvent) => this.#stateChanged(event.upload);
  readonly #onProgress = (event: UploadEvent) => this.#progressed(event.upload);

  constructor(private readonly host: UploadHost) {
    host.addController(this);
  }

  hostConnected(): void {
    this.#thumbnails = new AbortController();
    for (const uploader of this.#uploaders) this.#listen(uploader);
  }

  hostDisconnected(): void {
    // Uploads go on (the element may only be moving); the page just stops listening.
    this.#thumbnails.abort();
    for (const uploader of this.#uploaders) this.#unlisten(uploader);
  }

  /**
   * The SDK uploader for the current endpoint and options, made on first use. Changing them
   * makes a new one for later files; uploads already running finish on the old one.
   */
  get uploader(): Uploader {
    const { endpoint, persistFiles, uploaderOptions } = this.host;
    const config = JSON.stringify([endpoint, persistFiles]);
    if (!this.#uploader || this.#config !== config || this.#options !== uploaderOptions) {
      this.#config = config;
      this.#options = uploaderOptions;
      this.#uploader = createUploader({
        ...uploaderOptions,
        endpoint,
        persistFiles,
        // Read at call time, so a token provider set after the first file still counts.
        getToken: (refresh) => this.#getToken(refresh),
      });
      this.#uploaders.add(this.#uploader);
      this.#listen(this.#uploader);
    }
    return this.#uploader;
  }
  #getToken(refresh: boolean): string | Promise<string> {
    return this.host.getToken ? this.host.getToken(refresh) : '';
  }

  #listen(uploader: Uploader): void {
    uploader.addEventListener('state', this.#onState);
    uploader.addEventListener('progress', this.#onProgress);
  }

  #unlisten(uploader: Uploader): void {
    uploader.removeEventListener('state', this.#onState);
    uploader.removeEventListener('progress', this.#onProgress);
  }

  /** Bytes and count of the files that count towards the limits. */
  get totals(): { count: number; totalBytes: number } {
    const live = this.entries.filter(countsTowardsLimits);
    return { count: live.length, totalBytes: live.reduce((sum, e) => sum + e.file.size, 0) };
  }

  /** The batch as a whole: files uploaded of those that count, and bytes sent of their total. */
  get overall(): { done: number; count: number; sent: number; total: number } {
    let done = 0;
    let count = 0;
    let sent = 0;
    let total = 0;
    for (const entry of this.entries) {
      const upload = entry.upload;
      if (!upload || !countsTowardsLimits(entry)) continue;
      const progress = upload.progress;
      count++;
      if (upload.state === 'ready') done++;
      total += progress.totalBytes;
      sent += Math.min(progress.totalBytes, progress.confirmedBytes + progress.inFlightBytes);
    }
    return { done, count, sent, total };
  }

  /** Queues files; added in one task, they go up in one session. */
  add(files: readonly File[]): FileEntry[] {
    const uploader = this.uploader;
    const added = files.map((file) => this.#entry(file, uploader.add(file)));
    for (const entry of added) this.#started(entry, false);
    return added;
  }

  /** Shows files refused by validation, with their message. */
  refuse(refusals: ReadonlyArray<{ file: File; code: RejectionCode; message: string }>): void {
    for (const { file, code, message } of refusals) this.#entry(file, undefined, { code, message });
    this.host.requestUpdate();
  }

  /** Continues an upload an earlier page left unfinished; `file` when its bytes were not kept. */
  async resume(pending: ResumableUpload, file?: File): Promise<FileEntry> {
    const upload = await pending.resume(file);
    const { record } = pending;
    const blob = upload.source.blob;
    const asFile =
      file ??
      new File([blob], record.name, {
        type: record.type,
        ...(record.lastModified !== undefined ? { lastModified: record.lastModified } : {}),
      });
    const entry = this.#entry(asFile, upload);
    this.#started(entry, true);
    return entry;
  }

  #entry(file: File, upload?: Upload, refusal?: FileEntry['refusal']): FileEntry {
    const entry: FileEntry = {
      id: `fu-${++entries}`,
      file,
      typeId: claimedType(file.name, file.type),
      ...(upload ? { upload } : {}),
      ...(refusal ? { refusal } : {}),
    };
    this.entries.push(entry);
    if (upload && file.type.startsWith('image/')) {
      // One at a time: decoding holds a full-size bitmap for a moment.
      const signal = this.#thumbnails.signal;
      this.#thumbnailQueue = this.#thumbnailQueue
        .then(() =>
          this.entries.includes(entry)
            ? makeThumbnail(file, THUMBNAIL_SIZE * 2, signal)
            : undefined,
        )
        .then(
          (url) => {
            if (!url) return;
            if (this.entries.includes(entry)) {
              entry.thumbnail = url;
              this.host.requestUpdate();
            } else URL.revokeObjectURL(url);
          },
          () => undefined, // No preview; the icon stands in.
        );
    }
    return entry;
  }

  #started(entry: FileEntry, resumed: boolean): void {
    const upload = entry.upload as Upload;
    this.#batch.push(upload);
    this.host.dispatchEvent(new UploadStartEvent({ file: entry.file, upload, resumed }));
    this.host.requestUpdate();
  }

  /** The entry of an upload. */
  entryOf(upload: Upload): FileEntry | undefined {
    return this.entries.find((e) => e.upload === upload);
  }

  #stateChanged(upload: Upload): void {
    const entry = this.entryOf(upload);
    if (!entry) return;
    const { file } = entry;
    const state = upload.state;
    // The SDK announces `ready` and `rejected` a moment before it sets `result` and `error`;
    // the attempt's `done` promise settles with them, so the events wait for it.
    if (state === 'ready') {
      void upload.done.then((result) => {
        this.host.dispatchEvent(
          new UploadSuccessEvent({ file, upload, fileId: result.fileId, result }),
        );
        this.#settled(upload);
      });
    } else if (state === 'failed' || state === 'rejected') {
      void upload.done.catch((error: UploadError) => {
        if (upload.state !== state) return; // Cancelled or retried meanwhile.
        this.host.dispatchEvent(new UploadErrorEvent({ file, upload, error, state }));
        this.#settled(upload);
      });
    } else {
      this.#announced.delete(upload); // Retried: it runs again.
    }
    this.#checkBatch();
    this.host.requestUpdate();
  }

  #settled(upload: Upload): void {
    this.#announced.add(upload);
    this.#checkBatch();
    this.host.requestUpdate();
  }

  #progressed(upload: Upload): void {
    const entry = this.entryOf(upload);
    if (!entry) return;
    this.host.dispatchEvent(
      new UploadProgressEvent({ file: entry.file, upload, progress: upload.progress }),
    );
    this.host.requestUpdate();
  }

  /** One `batch-done` once every upload since the last one has ended or failed. */
  #checkBatch(): void {
    const batch = this.#batch;
    // An upload counts once its success or error event is out, so batch-done comes after it.
    const settled = (u: Upload) => u.state === 'cancelled' || this.#announced.has(u);
    if (batch.length === 0 || !batch.every(settled)) return;
    this.#batch = [];
    const fileIds = batch.flatMap((u) => (u.state === 'ready' && u.fileId ? [u.fileId] : []));
    const failed = batch.filter((u) => u.state === 'failed' || u.state === 'rejected').length;
    this.host.dispatchEvent(new BatchDoneEvent({ uploads: batch, fileIds, failed }));
  }

  /**
   * Takes a file off the list: an unfinished upload is cancelled (the SDK deletes what the
   * server holds), a ready file is deleted on the server first.
   */
  async remove(entry: FileEntry): Promise<void> {
    const upload = entry.upload;
    if (upload?.state === 'ready' && upload.fileId) {
      entry.removing = true;
      entry.removeError = undefined;
      this.host.requestUpdate();
      try {
        await removeUploaded(this.host.endpoint, upload.fileId, (r) => this.#getToken(r));
      } catch (err) {
        entry.removing = false;
        entry.removeError = (err as Error).message;
        this.host.requestUpdate();
        throw err;
      }
    } else if (upload && !TERMINAL_STATES.includes(upload.state)) {
      await upload.cancel();
    }
    this.#drop(entry);
  }

  #drop(entry: FileEntry): void {
    this.entries = this.entries.filter((e) => e !== entry);
    if (entry.thumbnail) URL.revokeObjectURL(entry.thumbnail);
    this.#batch = this.#batch.filter((u) => u !== entry.upload);
    this.#checkBatch();
    this.host.requestUpdate();
  }

  /** Cancels what is unfinished and empties the list (form reset). Ready files stay stored. */
  clear(): void {
    for (const entry of this.entries) {
      const upload = entry.upload;
      if (upload && !TERMINAL_STATES.includes(upload.state)) void upload.cancel();
      if (entry.thumbnail) URL.revokeObjectURL(entry.thumbnail);
    }
    this.entries = [];
    this.#batch = [];
    this.host.requestUpdate();
  }
}
