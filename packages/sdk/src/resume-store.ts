/** What is kept so an upload can continue after a reload, a restart or a crash. */
export interface ResumeRecord {
  /** Fingerprint of the file (see {@link fingerprint}). */
  key: string;
  endpoint: string;
  sessionId: string;
  fileId: string;
  /** ISO time after which the server has forgotten the session. */
  expiresAt: string;
  chunkSize: number;
  name: string;
  size: number;
  type: string;
  lastModified?: number;
  contentHash: string;
  /** True when the file's bytes are kept too (`persistFiles`). */
  persisted?: boolean;
}

/** Where resume records (and, optionally, file bytes) live. */
export interface ResumeStore {
  get(key: string): Promise<ResumeRecord | undefined>;
  set(record: ResumeRecord): Promise<void>;
  delete(key: string): Promise<void>;
  list(): Promise<ResumeRecord[]>;
  /** Keeps a file's bytes; rejects with UploadError('quota_exceeded') when they do not fit. */
  saveBytes?(key: string, blob: Blob, signal: AbortSignal): Promise<void>;
  /** The kept bytes as a Blob, or undefined. */
  loadBytes?(key: string, type: string): Promise<Blob | undefined>;
  deleteBytes?(key: string): Promise<void>;
}

/** Resume records in memory: they last as long as the page or process. */
export class MemoryResumeStore implements ResumeStore {
  readonly #records = new Map<string, ResumeRecord>();
  readonly #bytes = new Map<string, Blob>();

  async get(key: string) {
    const record = this.#records.get(key);
    return record && { ...record };
  }
  async set(record: ResumeRecord) {
    this.#records.set(record.key, { ...record });
  }
  async delete(key: string) {
    this.#records.delete(key);
    this.#bytes.delete(key);
  }
  async list() {
    return [...this.#records.values()].map((r) => ({ ...r }));
  }
  async saveBytes(key: string, blob: Blob) {
    this.#bytes.set(key, blob);
  }
  async loadBytes(key: string) {
    return this.#bytes.get(key);
  }
  async deleteBytes(key: string) {
    this.#bytes.delete(key);
  }
}

/** Identifies a file across reloads without reading it: endpoint, name, size, type, date. */
export function fingerprint(
  endpoint: string,
  file: { name: string; size: number; type: string; lastModified?: number },
): string {
  return ['fu1', endpoint, file.name, file.size, file.type, file.lastModified ?? ''].join('|');
}
