import { createHash } from 'node:crypto';
import { ErrorReply } from 'redis';
import {
  EVENT_SCHEMA_VERSION,
  FINAL_STATUSES,
  UploadEventType,
  sessionCompletedId,
  type FileStatus,
  type UploadEvent,
} from '@file-uploader/protocol';
import { DEFAULT_COMMAND_TIMEOUT_MS, redisCall, type RedisClient } from './redis-client.js';
import { PRUNE_EVENTS, READ_EVENTS } from './redis-event-scripts.js';
import {
  CREATE_SESSION,
  DELETE_FILE,
  LIST_BY_STATUS,
  LIST_EXPIRED,
  LIST_FILES,
  MARK_CLEANED,
  RECORD_DIGEST,
  TRANSITION_FILE,
} from './redis-session-scripts.js';
import {
  FILE_FIELDS,
  PATCH_KEYS,
  counted,
  encode,
  fileFields,
  fromPairs,
  pairs,
  sessionFields,
  toFile,
  toSession,
} from './redis-record-codec.js';
import type { RedisScript } from './redis-script.js';
import { EventWaiters, type NewEvent } from './session-events.js';
import type {
  EventQuery,
  FilePatch,
  SessionStore,
  StoredFile,
  StoredSession,
} from './session-store.js';

/** How long records of files that did not end ready stay readable after their session's cleanup. */
export const DEFAULT_RETENTION_MS = 7 * 24 * 3_600_000;

export interface RedisSessionStoreOptions {
  /** A connected (or connecting) client; the store does not close it unless `ownsClient`. */
  client: RedisClient;
  /** Prepended to every key, e.g. `fu:`; lets several deployments share one Redis. */
  keyPrefix: string;
  /** See {@link DEFAULT_RETENTION_MS}. */
  retentionMs?: number;
  /** close() also closes the client. */
  ownsClient?: boolean;
  /** A call not answered within this bound fails with StoreUnavailableError. Default 5 s. */
  commandTimeoutMs?: number;
}

/** The scripts build `session.completed` ids as this prefix plus the session id. */
const COMPLETED_PREFIX = sessionCompletedId('');
if (sessionCompletedId('x') !== `${COMPLETED_PREFIX}x`) {
  throw new Error('sessionCompletedId() is no longer a prefix plus the session id');
}
/** Events pruned per script run, so one run never blocks Redis for long. */
const PRUNE_BATCH = 1_000;

/**
 * SessionStore on Redis, for several server instances sharing state. Each record is a hash;
 * every write that must not interleave with another instance's (create, compare-and-set
 * transitions, delete, cleanup) is one Lua script, so it runs atomically. Lookups go through
 * indexes kept by those scripts (never SCAN): a sorted set of sessions by expiry, one per file
 * status, and one of ready files by user, content hash and size. Key layout and expiry:
 * docs/decisions/0008-redis-keys-and-expiry.md.
 */
export class RedisSessionStore implements SessionStore {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #retentionMs: number;
  readonly #ownsClient: boolean;
  readonly #timeoutMs: number;
  /**
   * Wakes this process's event readers at once; events appended by other instances are seen
   * by the readers' polling (the wait's timeout).
   */
  readonly #waiters = new EventWaiters();
  #closed = false;

  constructor(options: RedisSessionStoreOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix;
    this.#retentionMs = options.retentionMs ?? DEFAULT_RETENTION_MS;
    this.#ownsClient = options.ownsClient ?? false;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  }

  async createSession(
    session: StoredSession,
    files: StoredFile[],
    events: readonly NewEvent[] = [],
  ): Promise<void> {
    for (const file of files) {
      if (file.sessionId !== session.id) {
        throw new Error(`File ${file.id} does not belong to session ${session.id}`);
      }
    }
    const args = [
      session.id,
      String(session.expiresAt),
      session.cleanedAt === undefined ? '' : String(session.cleanedAt),
      ...counted(pairs(sessionFields(session))),
      String(files.length),
      ...files.flatMap((file) => [file.id, ...counted(pairs(fileFields(file)))]),
    ];
    try {
      await this.#run('create session', CREATE_SESSION, args, events);
    } catch (err) {
      if (err instanceof ErrorReply && err.message.startsWith('EXISTS ')) {
        throw new Error(`Cannot create session ${session.id}: ${err.message.slice(7)} exists`);
      }
      throw err;
    }
    this.#waiters.notify([session.id, ...events.map((event) => event.sessionId)]);
  }

  async getSession(sessionId: string): Promise<StoredSession | undefined> {
    const fields = await this.#call('read session', () =>
      this.#client.hGetAll(this.#key('session', sessionId)),
    );
    return Object.keys(fields).length > 0 ? toSession(fields) : undefined;
  }

  async getFile(fileId: string): Promise<StoredFile | undefined> {
    const fields = await this.#call('read file', () =>
      this.#client.hGetAll(this.#key('file', fileId)),
    );
    return Object.keys(fields).length > 0 ? toFile(fields) : undefined;
  }

  async listFiles(sessionId: string): Promise<StoredFile[]> {
    const rows = await this.#run('list files', LIST_FILES, [sessionId]);
    return (rows as string[][]).map((row) => toFile(fromPairs(row)));
  }

  async transitionFile(
    fileId: string,
    from: readonly FileStatus[],
    patch: FilePatch,
    events: readonly NewEvent[] = [],
  ): Promise<StoredFile | undefined> {
    const set: string[] = [];
    const del: string[] = [];
    for (const key of PATCH_KEYS) {
      if (!Object.hasOwn(patch, key)) continue;
      const value = patch[key];
      if (value === undefined) {
        // status is required: an explicit undefined leaves it alone rather than clearing it.
        if (key !== 'status') del.push(key);
      } else {
        set.push(key, encode(FILE_FIELDS[key], value));
      }
    }
    const args = [fileId, String(Date.now()), ...counted(from), ...counted(set), ...counted(del)];
    const row = await this.#run('update file', TRANSITION_FILE, args, events);
    if (!Array.isArray(row)) return undefined;
    const file = toFile(fromPairs(row as string[]));
    if (events.length > 0 || FINAL_STATUSES.includes(file.status)) {
      this.#waiters.notify([file.sessionId, ...events.map((event) => event.sessionId)]);
    }
    return file;
  }

  async deleteFile(fileId: string, events: readonly NewEvent[] = []): Promise<boolean> {
    const sessionId = await this.#run('delete file', DELETE_FILE, [fileId], events);
    if (typeof sessionId !== 'string') return false;
    this.#waiters.notify([sessionId, ...events.map((event) => event.sessionId)]);
    return true;
  }

  async readEvents(query: EventQuery): Promise<UploadEvent[]> {
    const limit = Math.trunc(query.limit);
    const after = query.after ?? '0';
    // seq is a counter; anything else matches no event, as in the embedded store.
    if (!(limit > 0) || !/^\d{1,15}$/.test(after)) return [];
    const flat = (await this.#call('read events', () =>
      READ_EVENTS.run(
        this.#client,
        [],
        [this.#prefix, query.sessionId ?? '', after, String(limit)],
      ),
    )) as string[];
    const events: UploadEvent[] = [];
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const body = JSON.parse(flat[i + 1] as string) as NewEvent;
      events.push({ ...body, seq: flat[i] as string } as UploadEvent);
    }
    return events;
  }

  waitForEvents(
    sessionId: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void> {
    return this.#waiters.wait(sessionId, timeoutMs, signal);
  }

  async pruneEvents(time: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const count = (await this.#call('prune events', () =>
        PRUNE_EVENTS.run(this.#client, [], [this.#prefix, String(time), String(PRUNE_BATCH)]),
      )) as number;
      removed += count;
      if (count < PRUNE_BATCH) return removed;
    }
  }

  async recordChunkDigest(fileId: string, index: number, digest: Uint8Array): Promise<void> {
    const hex = Buffer.from(digest).toString('hex');
    await this.#run('record chunk digest', RECORD_DIGEST, [fileId, String(index), hex]);
  }

  async chunkDigests(fileId: string): Promise<Map<number, Uint8Array>> {
    const fields = await this.#call('read chunk digests', () =>
      this.#client.hGetAll(this.#key('digests', fileId)),
    );
    const digests = new Map<number, Uint8Array>();
    for (const [index, hex] of Object.entries(fields)) {
      digests.set(Number(index), new Uint8Array(Buffer.from(hex, 'hex')));
    }
    return new Map([...digests].sort(([a], [b]) => a - b));
  }

  async deleteChunkDigests(fileId: string): Promise<void> {
    await this.#call('delete chunk digests', () => this.#client.del(this.#key('digests', fileId)));
  }

  async findReadyFile(
    userId: string,
    contentHash: string,
    size: number,
  ): Promise<StoredFile | undefined> {
    // Members are `<sha1(user \0 hash \0 size)>:<createdAt, 15 digits>:<fileId>`; ':' and ';'
    // sort right after the digits, so this range holds exactly this key's files, oldest first.
    const lookup = createHash('sha1').update(`${userId}\0${contentHash}\0${size}`).digest('hex');
    const [member] = await this.#call('find ready file', () =>
      this.#client.zRange(this.#prefix + 'ready', `[${lookup}:`, `(${lookup};`, {
        BY: 'LEX',
        LIMIT: { offset: 0, count: 1 },
      }),
    );
    if (member === undefined) return undefined;
    const file = await this.getFile(member.slice(lookup.length + 17));
    const matches =
      file?.status === 'ready' &&
      file.userId === userId &&
      file.contentHash === contentHash &&
      file.size === size;
    return matches ? file : undefined;
  }

  async listExpiredSessions(now: number, limit: number): Promise<StoredSession[]> {
    if (!(limit > 0)) return [];
    const rows = await this.#run('list expired sessions', LIST_EXPIRED, [
      String(now),
      String(Math.trunc(limit)),
    ]);
    return (rows as string[][]).map((row) => toSession(fromPairs(row)));
  }

  async markSessionCleaned(sessionId: string, at: number): Promise<void> {
    await this.#run('mark session cleaned', MARK_CLEANED, [sessionId, String(at)]);
  }

  async listFilesByStatus(statuses: readonly FileStatus[], limit: number): Promise<StoredFile[]> {
    if (!(limit > 0) || statuses.length === 0) return [];
    const rows = await this.#run('list files by status', LIST_BY_STATUS, [
      String(Math.trunc(limit)),
      ...counted([...new Set(statuses)]),
    ]);
    return (rows as string[][]).map((row) => toFile(fromPairs(row)));
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new Error('RedisSessionStore is closed');
    await this.#call('Redis', () => this.#client.ping());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsClient && this.#client.isOpen) await this.#client.close();
  }

  #key(kind: 'session' | 'file' | 'digests', id: string): string {
    return `${this.#prefix}${kind}:${id}`;
  }

  #call<T>(what: string, call: () => Promise<T>): Promise<T> {
    return redisCall(`The session store (${what})`, call, this.#timeoutMs);
  }

  #run(
    what: string,
    script: RedisScript,
    args: string[],
    events?: readonly NewEvent[],
  ): Promise<unknown> {
    const now = Date.now();
    const context = events ? eventContext(events, now) : '{}';
    const common = [this.#prefix, String(now), String(this.#retentionMs), context];
    return this.#call(what, () => script.run(this.#client, [], [...common, ...args]));
  }
}

/** What the scripts need to append events and `session.completed` (redis-event-scripts.ts). */
function eventContext(events: readonly NewEvent[], now: number): string {
  return JSON.stringify({
    completedPrefix: COMPLETED_PREFIX,
    completedType: UploadEventType.sessionCompleted,
    version: EVENT_SCHEMA_VERSION,
    occurredAt: new Date(now).toISOString(),
    occurredMs: now,
    final: FINAL_STATUSES,
    events: events.map((event) => ({
      id: event.id,
      sessionId: event.sessionId,
      occurredMs: Date.parse(event.occurredAt),
      body: JSON.stringify(event),
    })),
  });
}
