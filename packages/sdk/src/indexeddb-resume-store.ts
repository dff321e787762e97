import { createStore, del, get, promisifyRequest, set, values, type UseStore } from 'idb-keyval';
import { MemoryResumeStore, type ResumeRecord, type ResumeStore } from './resume-store.js';
import { UploadError } from './upload-error.js';

export interface IndexedDbResumeStoreOptions {
  /** Database of the resume records (default `file-uploader`, object store `resume`). */
  database?: string;
  /** Database of the kept bytes (default `file-uploader-bytes`, object store `pieces`). */
  bytesDatabase?: string;
  /** Files larger than this are never kept (default: no limit but the browser's quota). */
  maxBytes?: number;
  /** Room left free beside a kept file: max(this, 10% of the file). Default 16 MiB. */
  marginBytes?: number;
  /** Bytes per stored piece (default 4 MiB). */
  pieceSize?: number;
}

const MiB = 1024 * 1024;

/**
 * Key of a file's bytes: `[key, 'meta']` once every piece is written, and `[key, index]` for
 * the pieces. Numbers sort before strings, arrays after both, so `[key]`..`[key, []]` holds
 * everything of one file and nothing of another.
 */
type BytesKey = [string, number | 'meta'];

interface BytesMeta {
  size: number;
  pieces: number;
  pieceSize: number;
}

function bytesRange(key: string): IDBKeyRange {
  return IDBKeyRange.bound([key], [key, []]);
}

function quotaError(message: string, cause?: unknown): UploadError {
  return new UploadError('quota_exceeded', message, false, undefined, { cause });
}

function isQuotaError(err: unknown): boolean {
  return (
    typeof DOMException !== 'undefined' &&
    err instanceof DOMException &&
    (err.name === 'QuotaExceededError' || err.code === 22)
  );
}

/**
 * Resume records in IndexedDB, so uploads survive reloads and crashes. With `persistFiles`
 * the files' bytes are kept too, as ArrayBuffer pieces (Safari cannot store Blobs in
 * IndexedDB), read and written one piece at a time.
 */
export class IndexedDbResumeStore implements ResumeStore {
  readonly #records: UseStore;
  readonly #bytes: UseStore;
  readonly #maxBytes: number;
  readonly #marginBytes: number;
  readonly #pieceSize: number;
  /** Where records go once IndexedDB fails (private modes, a lost database): uploads go on. */
  readonly #fallback = new MemoryResumeStore();
  #broken = false;

  constructor(options: IndexedDbResumeStoreOptions = {}) {
    // Two databases: idb-keyval opens one object store per database.
    this.#records = createStore(options.database ?? 'file-uploader', 'resume');
    this.#bytes = createStore(options.bytesDatabase ?? 'file-uploader-bytes', 'pieces');
    this.#maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    this.#marginBytes = options.marginBytes ?? 16 * MiB;
    this.#pieceSize = Math.max(1, Math.floor(options.pieceSize ?? 4 * MiB));
  }

  /** Runs a records operation on IndexedDB, or in memory once IndexedDB has failed. */
  async #try<T>(idb: () => Promise<T>, memory: () => Promise<T>): Promise<T> {
    if (!this.#broken) {
      try {
        return await idb();
      } catch {
        this.#broken = true;
      }
    }
    return memory();
  }

  async get(key: string): Promise<ResumeRecord | undefined> {
    return this.#try(
      () => get<ResumeRecord>(key, this.#records),
      () => this.#fallback.get(key),
    );
  }

  async set(record: ResumeRecord): Promise<void> {
    await this.#try(
      () => set(record.key, { ...record }, this.#records),
      () => this.#fallback.set(record),
    );
  }

  async delete(key: string): Promise<void> {
    await this.#try(
      () => del(key, this.#records),
      () => this.#fallback.delete(key),
    );
    await this.deleteBytes(key);
  }

  async list(): Promise<ResumeRecord[]> {
    return this.#try(
      () => values<ResumeRecord>(this.#records),
      () => this.#fallback.list(),
    );
  }

  /**
   * Keeps a file's bytes. Rejects with UploadError('quota_exceeded') when the file is over
   * `maxBytes` or the origin's free quota (less a margin), and leaves nothing behind on any
   * failure, abort included.
   */
  async saveBytes(key: string, blob: Blob, signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    if (blob.size > this.#maxBytes) {
      throw quotaError(`The file is larger than the ${this.#maxBytes} bytes kept for resuming.`);
    }
    const estimate =
      typeof navigator !== 'undefined' && typeof navigator.storage?.estimate === 'function'
        ? await navigator.storage.estimate()
        : undefined;
    if (estimate?.quota !== undefined) {
      const free = estimate.quota - (estimate.usage ?? 0);
      const needed = blob.size + Math.max(this.#marginBytes, Math.ceil(blob.size / 10));
      if (free <= needed) {
        throw quotaError(`Not enough storage to keep the file (${free} bytes free).`);
      }
    }
    await this.deleteBytes(key);
    try {
      let pieces = 0;
      for (let start = 0; start < blob.size; start += this.#pieceSize, pieces++) {
        signal.throwIfAborted();
        const piece = await blob.slice(start, start + this.#pieceSize).arrayBuffer();
        signal.throwIfAborted();
        await set([key, pieces] satisfies BytesKey, piece, this.#bytes);
      }
      signal.throwIfAborted();
      const meta: BytesMeta = { size: blob.size, pieces, pieceSize: this.#pieceSize };
      await set([key, 'meta'] satisfies BytesKey, meta, this.#bytes);
    } catch (err) {
      await this.deleteBytes(key);
      if (isQuotaError(err)) throw quotaError('The browser refused to store the file.', err);
      throw err;
    }
  }

  /** The kept bytes as one Blob, or undefined when none (or only part of them) are kept. */
  async loadBytes(key: string, type: string): Promise<Blob | undefined> {
    try {
      const meta = await get<BytesMeta>([key, 'meta'] satisfies BytesKey, this.#bytes);
      if (!meta) return undefined;
      // Piece by piece: each ArrayBuffer can be collected once a Blob holds its bytes.
      const pieces: Blob[] = [];
      for (let index = 0; index < meta.pieces; index++) {
        const piece = await get<ArrayBuffer>([key, index] satisfies BytesKey, this.#bytes);
        if (!piece) return undefined;
        pieces.push(new Blob([piece]));
      }
      const blob = new Blob(pieces, { type });
      return blob.size === meta.size ? blob : undefined;
    } catch {
      return undefined; // IndexedDB failed: the user picks the file again.
    }
  }

  /** Best effort: when IndexedDB fails there is nothing to delete, or no way to. */
  async deleteBytes(key: string): Promise<void> {
    try {
      await this.#bytes('readwrite', (store) => {
        store.delete(bytesRange(key));
        return promisifyRequest(store.transaction);
      });
    } catch {
      // idb-keyval throws synchronously when IndexedDB cannot even be opened.
    }
  }
}

/** IndexedDB where the platform has it (browsers), else memory (Node, workers without it). */
export function defaultResumeStore(): ResumeStore {
  return typeof indexedDB !== 'undefined' ? new IndexedDbResumeStore() : new MemoryResumeStore();
}
