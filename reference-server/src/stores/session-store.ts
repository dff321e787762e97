import type {
  FileError,
  FileStatus,
  FileTypeId,
  ExtractedMetadata,
  ScanOutcome,
  UploadEvent,
  UploadMetadata,
} from '@file-uploader/protocol';
import type { NewEvent } from './session-events.js';

/** A session as stored. Times are epoch milliseconds. */
export interface StoredSession {
  id: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
  chunkSize: number;
  metadata: UploadMetadata;
  /** Set by the cleanup job once the session's chunks have been removed after expiry. */
  cleanedAt?: number;
}

/** A file as stored. Times are epoch milliseconds. */
export interface StoredFile {
  id: string;
  sessionId: string;
  userId: string;
  /** Sanitized display name. */
  name: string;
  size: number;
  /** MIME type the client reported (untrusted, informational). */
  clientType: string;
  /** The allowed type the client claims (by extension, else MIME type). */
  claimedType: FileTypeId;
  lastModified?: number;
  totalChunks: number;
  status: FileStatus;
  createdAt: number;
  updatedAt: number;
  /** The ready file this one duplicates (dedupe at initiate). */
  duplicateOf?: string;
  /** Content hash computed by the server at assembly (or copied from the duplicated file). */
  contentHash?: string;
  /** MIME type detected from the bytes. */
  detectedType?: string;
  /** Allowed type the bytes were recognised as. */
  fileType?: FileTypeId;
  /** Key of the final object in the BlobStore. */
  objectKey?: string;
  /** The virus scan's outcome. */
  scan?: ScanOutcome;
  /** Metadata read from the content at assembly. */
  contentMetadata?: ExtractedMetadata;
  error?: FileError;
}

/** Fields `transitionFile` may change. */
export type FilePatch = Partial<
  Pick<
    StoredFile,
    | 'status'
    | 'contentHash'
    | 'detectedType'
    | 'fileType'
    | 'objectKey'
    | 'error'
    | 'duplicateOf'
    | 'scan'
    | 'contentMetadata'
  >
>;

/** Which events `readEvents` returns. */
export interface EventQuery {
  /** Only this session's events; all sessions when absent. */
  sessionId?: string;
  /** Only events after this `seq` (exclusive); from the oldest kept when absent. */
  after?: string;
  limit: number;
}

/**
 * Session and file records, and the event outbox. Chunk presence is not stored here: the
 * BlobStore knows it. Every implementation runs session-store.conformance.ts.
 *
 * Events are written in the same atomic step as the state change they report (an outbox), so
 * an event exists if and only if its change happened. Each write that may end the last open
 * file of a session (createSession, transitionFile into a final status, deleteFile) also
 * appends `session.completed` when every remaining file of the session has ended
 * (`sessionCompletedEvent`). Event ids are idempotency keys: appending an id already in the log
 * adds nothing, so `session.completed` appears once per session.
 */
export interface SessionStore {
  /** Stores a session with its files and `events`, atomically. */
  createSession(
    session: StoredSession,
    files: StoredFile[],
    events?: readonly NewEvent[],
  ): Promise<void>;
  getSession(sessionId: string): Promise<StoredSession | undefined>;
  getFile(fileId: string): Promise<StoredFile | undefined>;
  /** Files of a session in the order they were given at creation. */
  listFiles(sessionId: string): Promise<StoredFile[]>;
  /**
   * Compare-and-set: applies `patch` (and bumps `updatedAt`) only when the file's current
   * status is one of `from`. Returns the updated file, or undefined when the file is missing
   * or in another status. `events` are appended in the same atomic step, only when it applies.
   */
  transitionFile(
    fileId: string,
    from: readonly FileStatus[],
    patch: FilePatch,
    events?: readonly NewEvent[],
  ): Promise<StoredFile | undefined>;
  /**
   * Removes a file record and its chunk digests, appending `events` in the same step. Returns
   * false (and appends nothing) when it did not exist.
   */
  deleteFile(fileId: string, events?: readonly NewEvent[]): Promise<boolean>;
  /**
   * Remembers the SHA-256 of a committed chunk (overwriting an earlier record of the same
   * index). A cache for assembly, not a record of presence: the BlobStore stays the truth on
   * which chunks exist, and a digest lost in a crash is computed again from the bytes.
   */
  recordChunkDigest(fileId: string, index: number, digest: Uint8Array): Promise<void>;
  /** The recorded chunk digests of a file, by chunk index. */
  chunkDigests(fileId: string): Promise<Map<number, Uint8Array>>;
  /** Forgets a file's chunk digests (after assembly, or with its chunks). Idempotent. */
  deleteChunkDigests(fileId: string): Promise<void>;
  /** A `ready` file of `userId` with this content hash and size, if any. */
  findReadyFile(userId: string, contentHash: string, size: number): Promise<StoredFile | undefined>;
  /** Sessions with `expiresAt <= now` not yet cleaned, oldest first. */
  listExpiredSessions(now: number, limit: number): Promise<StoredSession[]>;
  /** Records that the cleanup job has handled an expired session. */
  markSessionCleaned(sessionId: string, at: number): Promise<void>;
  /** Files in any of `statuses`, across all sessions (used to resume work after a restart). */
  listFilesByStatus(statuses: readonly FileStatus[], limit: number): Promise<StoredFile[]>;
  /** Events in stream order (ascending `seq`), at most `limit`. */
  readEvents(query: EventQuery): Promise<UploadEvent[]>;
  /**
   * Resolves when events of the session (of any session when undefined) may have been appended
   * since the call, after `timeoutMs` at the latest, or at once when `signal` aborts. Readers
   * call `readEvents` again after it resolves; a spurious wake-up is harmless.
   */
  waitForEvents(
    sessionId: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<void>;
  /** Removes events that occurred before `time` (epoch ms); returns how many. */
  pruneEvents(time: number): Promise<number>;
  /** Resolves when the store can serve requests; rejects otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
