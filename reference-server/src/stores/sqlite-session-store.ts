import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { FINAL_STATUSES, type FileStatus, type UploadEvent } from '@file-uploader/protocol';
import { EventWaiters, sessionCompletedEvent, type NewEvent } from './session-events.js';
import type {
  EventQuery,
  FilePatch,
  SessionStore,
  StoredFile,
  StoredSession,
} from './session-store.js';
import {
  PATCH_COLUMNS,
  fileParams,
  migrate,
  sessionParams,
  toFile,
  toSession,
  type FileRow,
  type Params,
  type PatchKey,
  type SessionRow,
} from './sqlite-schema.js';

export interface SqliteSessionStoreOptions {
  /** Database file; its directory is created if missing. `:memory:` works for throwaway use. */
  path: string;
  /** How long a statement waits for another connection's write lock. Default 5000. */
  busyTimeoutMs?: number;
}

/**
 * SessionStore on a SQLite file (better-sqlite3). WAL mode lets several connections, even
 * from several processes on one host, read while one writes. Calls are synchronous underneath,
 * so no transaction ever spans an await.
 */
export class SqliteSessionStore implements SessionStore {
  readonly #db: Database.Database;
  readonly #sql: ReturnType<typeof prepareStatements>;
  /** UPDATE statements by the set of patched columns (at most 2^7 shapes). */
  readonly #transitionStatements = new Map<string, Database.Statement<[Params]>>();
  /** Wakes readers in this process; other processes writing the same file are polled. */
  readonly #waiters = new EventWaiters();

  private constructor(db: Database.Database) {
    this.#db = db;
    this.#sql = prepareStatements(db);
  }

  static open(options: SqliteSessionStoreOptions): SqliteSessionStore {
    if (options.path !== ':memory:') mkdirSync(dirname(options.path), { recursive: true });
    const db = new Database(options.path);
    try {
      // Set before anything else takes a lock, so even the migration waits instead of failing.
      db.pragma(`busy_timeout = ${Math.max(0, Math.trunc(options.busyTimeoutMs ?? 5000))}`);
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL cannot corrupt the database; it may only lose the last commits on
      // power loss, which a client recovers from by re-initiating.
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }
    return new SqliteSessionStore(db);
  }

  async createSession(
    session: StoredSession,
    files: StoredFile[],
    events: readonly NewEvent[] = [],
  ): Promise<void> {
    const touched = this.#db.transaction(() => {
      this.#sql.insertSession.run(sessionParams(session));
      files.forEach((file, position) => {
        if (file.sessionId !== session.id) {
          throw new Error(`File ${file.id} does not belong to session ${session.id}`);
        }
        this.#sql.insertFile.run(fileParams(file, position));
      });
      return this.#append(events, session.id);
    })();
    this.#waiters.notify(touched);
  }

  async getSession(sessionId: string): Promise<StoredSession | undefined> {
    const row = this.#sql.getSession.get(sessionId);
    return row && toSession(row);
  }

  async getFile(fileId: string): Promise<StoredFile | undefined> {
    const row = this.#sql.getFile.get(fileId);
    return row && toFile(row);
  }

  async listFiles(sessionId: string): Promise<StoredFile[]> {
    return this.#sql.listFiles.all(sessionId).map(toFile);
  }

  async transitionFile(
    fileId: string,
    from: readonly FileStatus[],
    patch: FilePatch,
    events: readonly NewEvent[] = [],
  ): Promise<StoredFile | undefined> {
    const params: Params = { id: fileId, from: JSON.stringify(from), updated_at: Date.now() };
    const keys: PatchKey[] = [];
    for (const key of Object.keys(PATCH_COLUMNS) as PatchKey[]) {
      if (!Object.hasOwn(patch, key)) continue;
      const value = patch[key];
      // status is NOT NULL: an explicit undefined leaves it alone rather than failing.
      if (key === 'status' && value === undefined) continue;
      keys.push(key);
      params[PATCH_COLUMNS[key]] =
        value === undefined ? null : typeof value === 'object' ? JSON.stringify(value) : value;
    }
    const update = this.#transitionStatement(keys);
    // IMMEDIATE takes the write lock up front: the compare-and-set and the re-read see one state.
    const result = this.#db
      .transaction(() => {
        if (update.run(params).changes === 0) return undefined;
        const row = this.#sql.getFile.get(fileId);
        const file = row && toFile(row);
        const final = file && FINAL_STATUSES.includes(file.status);
        return { file, touched: this.#append(events, final ? file.sessionId : undefined) };
      })
      .immediate();
    if (!result) return undefined;
    this.#waiters.notify(result.touched);
    return result.file;
  }

  async deleteFile(fileId: string, events: readonly NewEvent[] = []): Promise<boolean> {
    const touched = this.#db
      .transaction(() => {
        const row = this.#sql.getFile.get(fileId);
        if (!row || this.#sql.deleteFile.run(fileId).changes === 0) return undefined;
        return this.#append(events, row.session_id);
      })
      .immediate();
    if (!touched) return false;
    this.#waiters.notify(touched);
    return true;
  }

  /**
   * Inside a transaction: appends events (known ids are skipped), then `session.completed` when
   * every remaining file of `completing` has ended. Returns the sessions that got events.
   */
  #append(events: readonly NewEvent[], completing: string | undefined): string[] {
    const all = [...events];
    const sessionRow = completing === undefined ? undefined : this.#sql.getSession.get(completing);
    if (sessionRow) {
      const files = this.#sql.listFiles.all(sessionRow.id).map(toFile);
      const completed = sessionCompletedEvent(toSession(sessionRow), files);
      if (completed) all.push(completed);
    }
    const touched: string[] = [];
    for (const event of all) {
      const inserted = this.#sql.insertEvent.run(
        event.id,
        event.sessionId,
        Date.parse(event.occurredAt),
        JSON.stringify(event),
      );
      if (inserted.changes > 0) touched.push(event.sessionId);
    }
    return touched;
  }

  async readEvents(query: EventQuery): Promise<UploadEvent[]> {
    const after = query.after === undefined ? 0 : Number(query.after);
    const limit = Math.max(0, query.limit);
    const rows =
      query.sessionId === undefined
        ? this.#sql.readEvents.all(after, limit)
        : this.#sql.readSessionEvents.all(query.sessionId, after, limit);
    return rows.map(
      (row) => ({ ...(JSON.parse(row.body) as NewEvent), seq: String(row.seq) }) as UploadEvent,
    );
  }

  waitForEvents(
    sessionId: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.#waiters.wait(sessionId, timeoutMs, signal);
  }

  async pruneEvents(time: number): Promise<number> {
    return this.#sql.pruneEvents.run(time).changes;
  }

  async recordChunkDigest(fileId: string, index: number, digest: Uint8Array): Promise<void> {
    // A file deleted meanwhile has no row to reference: nothing to remember then.
    this.#sql.recordChunkDigest.run(fileId, index, Buffer.from(digest), fileId);
  }

  async chunkDigests(fileId: string): Promise<Map<number, Uint8Array>> {
    const rows = this.#sql.chunkDigests.all(fileId);
    return new Map(rows.map((row) => [row.idx, new Uint8Array(row.digest)]));
  }

  async deleteChunkDigests(fileId: string): Promise<void> {
    this.#sql.deleteChunkDigests.run(fileId);
  }

  async findReadyFile(
    userId: string,
    contentHash: string,
    size: number,
  ): Promise<StoredFile | undefined> {
    const row = this.#sql.findReadyFile.get(userId, contentHash, size);
    return row && toFile(row);
  }

  async listExpiredSessions(now: number, limit: number): Promise<StoredSession[]> {
    return this.#sql.listExpiredSessions.all(now, Math.max(0, limit)).map(toSession);
  }

  async markSessionCleaned(sessionId: string, at: number): Promise<void> {
    this.#sql.markSessionCleaned.run(at, sessionId);
  }

  async listFilesByStatus(statuses: readonly FileStatus[], limit: number): Promise<StoredFile[]> {
    return this.#sql.listFilesByStatus
      .all(JSON.stringify(statuses), Math.max(0, limit))
      .map(toFile);
  }

  async ping(): Promise<void> {
    this.#sql.ping.get();
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  #transitionStatement(keys: readonly PatchKey[]): Database.Statement<[Params]> {
    const cacheKey = keys.join(',');
    let statement = this.#transitionStatements.get(cacheKey);
    if (!statement) {
      const sets = [...keys.map((key) => PATCH_COLUMNS[key]), 'updated_at'].map(
        (column) => `${column} = @${column}`,
      );
      statement = this.#db.prepare<[Params]>(
        `UPDATE files SET ${sets.join(', ')}
         WHERE id = @id AND status IN (SELECT value FROM json_each(@from))`,
      );
      this.#transitionStatements.set(cacheKey, statement);
    }
    return statement;
  }
}

/** Every fixed statement, prepared once per connection. */
function prepareStatements(db: Database.Database) {
  return {
    insertSession: db.prepare<[Params]>(
      `INSERT INTO sessions (id, user_id, created_at, expires_at, chunk_size, metadata, cleaned_at)
       VALUES (@id, @user_id, @created_at, @expires_at, @chunk_size, @metadata, @cleaned_at)`,
    ),
    insertFile: db.prepare<[Params]>(
      `INSERT INTO files (id, session_id, position, user_id, name, size, client_type,
         claimed_type, last_modified, total_chunks, status, created_at, updated_at, duplicate_of,
         content_hash, detected_type, file_type, object_key, error, scan, content_metadata)
       VALUES (@id, @session_id, @position, @user_id, @name, @size, @client_type, @claimed_type,
         @last_modified, @total_chunks, @status, @created_at, @updated_at, @duplicate_of,
         @content_hash, @detected_type, @file_type, @object_key, @error, @scan, @content_metadata)`,
    ),
    getSession: db.prepare<[string], SessionRow>('SELECT * FROM sessions WHERE id = ?'),
    getFile: db.prepare<[string], FileRow>('SELECT * FROM files WHERE id = ?'),
    listFiles: db.prepare<[string], FileRow>(
      'SELECT * FROM files WHERE session_id = ? ORDER BY position',
    ),
    deleteFile: db.prepare<[string]>('DELETE FROM files WHERE id = ?'),
    findReadyFile: db.prepare<[string, string, number], FileRow>(
      `SELECT * FROM files
       WHERE user_id = ? AND content_hash = ? AND size = ? AND status = 'ready'
       ORDER BY created_at, rowid LIMIT 1`,
    ),
    listExpiredSessions: db.prepare<[number, number], SessionRow>(
      `SELECT * FROM sessions WHERE expires_at <= ? AND cleaned_at IS NULL
       ORDER BY expires_at, rowid LIMIT ?`,
    ),
    markSessionCleaned: db.prepare<[number, string]>(
      'UPDATE sessions SET cleaned_at = ? WHERE id = ?',
    ),
    listFilesByStatus: db.prepare<[string, number], FileRow>(
      `SELECT * FROM files WHERE status IN (SELECT value FROM json_each(?))
       ORDER BY created_at, rowid LIMIT ?`,
    ),
    recordChunkDigest: db.prepare<[string, number, Buffer, string]>(
      `INSERT OR REPLACE INTO chunk_digests (file_id, idx, digest)
       SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM files WHERE id = ?)`,
    ),
    chunkDigests: db.prepare<[string], { idx: number; digest: Buffer }>(
      'SELECT idx, digest FROM chunk_digests WHERE file_id = ? ORDER BY idx',
    ),
    deleteChunkDigests: db.prepare<[string]>('DELETE FROM chunk_digests WHERE file_id = ?'),
    insertEvent: db.prepare<[string, string, number, string]>(
      `INSERT OR IGNORE INTO events (id, session_id, occurred_at, body) VALUES (?, ?, ?, ?)`,
    ),
    readEvents: db.prepare<[number, number], { seq: number; body: string }>(
      'SELECT seq, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?',
    ),
    readSessionEvents: db.prepare<[string, number, number], { seq: number; body: string }>(
      'SELECT seq, body FROM events WHERE session_id = ? AND seq > ? ORDER BY seq LIMIT ?',
    ),
    pruneEvents: db.prepare<[number]>('DELETE FROM events WHERE occurred_at < ?'),
    ping: db.prepare<[]>('SELECT 1'),
  };
}
