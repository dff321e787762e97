import { FINAL_STATUSES, type FileStatus, type UploadEvent } from '@file-uploader/protocol';
import { EventWaiters, sessionCompletedEvent, type NewEvent } from './session-events.js';
import type {
  EventQuery,
  FilePatch,
  SessionStore,
  StoredFile,
  StoredSession,
} from './session-store.js';

/** Only these keys are read from a patch, whatever else a caller's object carries. */
const PATCH_KEYS = [
  'status',
  'contentHash',
  'detectedType',
  'fileType',
  'objectKey',
  'error',
  'duplicateOf',
  'scan',
  'contentMetadata',
] as const satisfies readonly (keyof FilePatch)[];

/**
 * In-process SessionStore for tests and single-instance development. Everything is lost on
 * restart. Records are cloned on the way in and out so callers can never mutate stored state.
 */
export class MemorySessionStore implements SessionStore {
  readonly #sessions = new Map<string, StoredSession>();
  readonly #files = new Map<string, StoredFile>();
  /** File ids per session, in creation order (Map order alone breaks once files are deleted). */
  readonly #sessionFiles = new Map<string, string[]>();
  readonly #digests = new Map<string, Map<number, Uint8Array>>();
  readonly #events: UploadEvent[] = [];
  readonly #eventIds = new Set<string>();
  readonly #waiters = new EventWaiters();
  #seq = 0;
  #closed = false;

  async createSession(
    session: StoredSession,
    files: StoredFile[],
    events: readonly NewEvent[] = [],
  ): Promise<void> {
    // Validate everything before writing anything, so a failure stores nothing.
    if (this.#sessions.has(session.id)) throw new Error(`Session ${session.id} already exists`);
    const ids = new Set<string>();
    for (const file of files) {
      if (file.sessionId !== session.id) {
        throw new Error(`File ${file.id} does not belong to session ${session.id}`);
      }
      if (this.#files.has(file.id) || ids.has(file.id)) {
        throw new Error(`File ${file.id} already exists`);
      }
      ids.add(file.id);
    }
    this.#sessions.set(session.id, structuredClone(session));
    for (const file of files) this.#files.set(file.id, structuredClone(file));
    this.#sessionFiles.set(session.id, [...ids]);
    this.#append(events, session.id);
  }

  async getSession(sessionId: string): Promise<StoredSession | undefined> {
    return cloneOrUndefined(this.#sessions.get(sessionId));
  }

  async getFile(fileId: string): Promise<StoredFile | undefined> {
    return cloneOrUndefined(this.#files.get(fileId));
  }

  async listFiles(sessionId: string): Promise<StoredFile[]> {
    const ids = this.#sessionFiles.get(sessionId) ?? [];
    return ids.flatMap((id) => {
      const file = this.#files.get(id);
      return file ? [structuredClone(file)] : [];
    });
  }

  async transitionFile(
    fileId: string,
    from: readonly FileStatus[],
    patch: FilePatch,
    events: readonly NewEvent[] = [],
  ): Promise<StoredFile | undefined> {
    // No await between the check and the write: JavaScript runs this atomically.
    const current = this.#files.get(fileId);
    if (!current || !from.includes(current.status)) return undefined;
    const next: StoredFile = { ...current, updatedAt: Date.now() };
    for (const key of PATCH_KEYS) {
      if (!Object.hasOwn(patch, key)) continue;
      const value = patch[key];
      if (value !== undefined) {
        Object.assign(next, { [key]: structuredClone(value) });
      } else if (key !== 'status') {
        // An explicit undefined clears the field; status is required, so it is left alone.
        delete next[key];
      }
    }
    this.#files.set(fileId, next);
    this.#append(events, FINAL_STATUSES.includes(next.status) ? next.sessionId : undefined);
    return structuredClone(next);
  }

  async deleteFile(fileId: string, events: readonly NewEvent[] = []): Promise<boolean> {
    const file = this.#files.get(fileId);
    if (!file) return false;
    this.#files.delete(fileId);
    this.#digests.delete(fileId);
    const ids = this.#sessionFiles.get(file.sessionId);
    if (ids)
      this.#sessionFiles.set(
        file.sessionId,
        ids.filter((id) => id !== fileId),
      );
    this.#append(events, file.sessionId);
    return true;
  }

  /** Appends events (dropping known ids), then `session.completed` when `completing` ended. */
  #append(events: readonly NewEvent[], completing: string | undefined): void {
    const all = [...events];
    const session = completing === undefined ? undefined : this.#sessions.get(completing);
    if (session) {
      const files = (this.#sessionFiles.get(session.id) ?? []).flatMap((id) => {
        const file = this.#files.get(id);
        return file ? [file] : [];
      });
      const completed = sessionCompletedEvent(session, files);
      if (completed) all.push(completed);
    }
    const touched: string[] = [];
    for (const event of all) {
      if (this.#eventIds.has(event.id)) continue;
      this.#eventIds.add(event.id);
      this.#events.push(structuredClone({ ...event, seq: String(++this.#seq) }) as UploadEvent);
      touched.push(event.sessionId);
    }
    if (touched.length > 0) this.#waiters.notify(touched);
  }

  async readEvents(query: EventQuery): Promise<UploadEvent[]> {
    const after = query.after === undefined ? 0 : Number(query.after);
    const found: UploadEvent[] = [];
    for (const event of this.#events) {
      if (found.length >= query.limit) break;
      if (Number(event.seq) <= after) continue;
      if (query.sessionId !== undefined && event.sessionId !== query.sessionId) continue;
      found.push(structuredClone(event));
    }
    return found;
  }

  waitForEvents(
    sessionId: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.#waiters.wait(sessionId, timeoutMs, signal);
  }

  async pruneEvents(time: number): Promise<number> {
    const keep = this.#events.filter((event) => Date.parse(event.occurredAt) >= time);
    const removed = this.#events.length - keep.length;
    // Ids stay known, so a late retry of a pruned occurrence is still not appended twice.
    this.#events.splice(0, this.#events.length, ...keep);
    return removed;
  }

  async recordChunkDigest(fileId: string, index: number, digest: Uint8Array): Promise<void> {
    if (!this.#files.has(fileId)) return;
    let digests = this.#digests.get(fileId);
    if (!digests) this.#digests.set(fileId, (digests = new Map()));
    digests.set(index, Uint8Array.from(digest));
  }

  async chunkDigests(fileId: string): Promise<Map<number, Uint8Array>> {
    const digests = this.#digests.get(fileId) ?? new Map<number, Uint8Array>();
    return new Map([...digests].map(([index, digest]) => [index, Uint8Array.from(digest)]));
  }

  async deleteChunkDigests(fileId: string): Promise<void> {
    this.#digests.delete(fileId);
  }

  async findReadyFile(
    userId: string,
    contentHash: string,
    size: number,
  ): Promise<StoredFile | undefined> {
    for (const file of this.#files.values()) {
      if (
        file.userId === userId &&
        file.contentHash === contentHash &&
        file.size === size &&
        file.status === 'ready'
      ) {
        return structuredClone(file);
      }
    }
    return undefined;
  }

  async listExpiredSessions(now: number, limit: number): Promise<StoredSession[]> {
    return [...this.#sessions.values()]
      .filter((session) => session.expiresAt <= now && session.cleanedAt === undefined)
      .sort((a, b) => a.expiresAt - b.expiresAt)
      .slice(0, Math.max(0, limit))
      .map((session) => structuredClone(session));
  }

  async markSessionCleaned(sessionId: string, at: number): Promise<void> {
    const session = this.#sessions.get(sessionId);
    if (session) this.#sessions.set(sessionId, { ...session, cleanedAt: at });
  }

  async listFilesByStatus(statuses: readonly FileStatus[], limit: number): Promise<StoredFile[]> {
    const found: StoredFile[] = [];
    for (const file of this.#files.values()) {
      if (found.length >= limit) break;
      if (statuses.includes(file.status)) found.push(structuredClone(file));
    }
    return found;
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('MemorySessionStore is closed');
  }

  async close(): Promise<void> {
    this.#closed = true;
  }
}

function cloneOrUndefined<T>(value: T | undefined): T | undefined {
  return value === undefined ? undefined : structuredClone(value);
}
