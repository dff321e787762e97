// The SQLite session store's schema: migrations, row shapes, and record <-> row mapping.
import type Database from 'better-sqlite3';
import type {
  ExtractedMetadata,
  FileError,
  FileStatus,
  FileTypeId,
  ScanOutcome,
  UploadMetadata,
} from '@file-uploader/protocol';
import type { FilePatch, StoredFile, StoredSession } from './session-store.js';

/**
 * Schema migrations, applied in order. `PRAGMA user_version` records how many have run, so a
 * later release appends a migration here and existing databases are upgraded on open.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE sessions (
    id          TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,
    chunk_size  INTEGER NOT NULL,
    metadata    TEXT NOT NULL CHECK (json_valid(metadata)),
    cleaned_at  INTEGER
  );
  -- Partial: the cleanup job only ever looks for sessions not yet cleaned.
  CREATE INDEX sessions_expires_at ON sessions (expires_at) WHERE cleaned_at IS NULL;

  CREATE TABLE files (
    id             TEXT PRIMARY KEY,
    session_id     TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    position       INTEGER NOT NULL,
    user_id        TEXT NOT NULL,
    name           TEXT NOT NULL,
    size           INTEGER NOT NULL,
    client_type    TEXT NOT NULL,
    claimed_type   TEXT NOT NULL,
    last_modified  INTEGER,
    total_chunks   INTEGER NOT NULL,
    status         TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    duplicate_of   TEXT,
    content_hash   TEXT,
    detected_type  TEXT,
    file_type      TEXT,
    object_key     TEXT,
    error          TEXT CHECK (error IS NULL OR json_valid(error))
  );
  -- (session_id, position) also serves lookups by session_id alone, and listFiles' ordering.
  CREATE INDEX files_session ON files (session_id, position);
  CREATE INDEX files_ready_lookup ON files (user_id, content_hash, size, status);
  CREATE INDEX files_status ON files (status);
  `,
  `
  CREATE TABLE chunk_digests (
    file_id  TEXT NOT NULL REFERENCES files (id) ON DELETE CASCADE,
    idx      INTEGER NOT NULL,
    digest   BLOB NOT NULL,
    PRIMARY KEY (file_id, idx)
  ) WITHOUT ROWID;
  `,
  `
  -- The event outbox: rows are written in the transaction of the change they report.
  CREATE TABLE events (
    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
    id           TEXT NOT NULL UNIQUE,
    session_id   TEXT NOT NULL,
    occurred_at  INTEGER NOT NULL,
    body         TEXT NOT NULL CHECK (json_valid(body))
  );
  CREATE INDEX events_session ON events (session_id, seq);
  CREATE INDEX events_occurred_at ON events (occurred_at);
  `,
  `
  ALTER TABLE files ADD COLUMN scan TEXT CHECK (scan IS NULL OR json_valid(scan));
  `,
  `
  ALTER TABLE files ADD COLUMN content_metadata TEXT
    CHECK (content_metadata IS NULL OR json_valid(content_metadata));
  `,
];

export interface SessionRow {
  id: string;
  user_id: string;
  created_at: number;
  expires_at: number;
  chunk_size: number;
  metadata: string;
  cleaned_at: number | null;
}

export interface FileRow {
  id: string;
  session_id: string;
  position: number;
  user_id: string;
  name: string;
  size: number;
  client_type: string;
  claimed_type: string;
  last_modified: number | null;
  total_chunks: number;
  status: string;
  created_at: number;
  updated_at: number;
  duplicate_of: string | null;
  content_hash: string | null;
  detected_type: string | null;
  file_type: string | null;
  object_key: string | null;
  error: string | null;
  scan: string | null;
  content_metadata: string | null;
}

/** Column of each patchable field; `satisfies` makes a new FilePatch field a compile error here. */
export const PATCH_COLUMNS = {
  status: 'status',
  contentHash: 'content_hash',
  detectedType: 'detected_type',
  fileType: 'file_type',
  objectKey: 'object_key',
  error: 'error',
  duplicateOf: 'duplicate_of',
  scan: 'scan',
  contentMetadata: 'content_metadata',
} as const satisfies { [K in keyof Required<FilePatch>]: keyof FileRow };

export type PatchKey = keyof typeof PATCH_COLUMNS;
export type Params = Record<string, string | number | null>;

/** Brings the schema up to date; safe when several processes open the same file at once. */
export function migrate(db: Database.Database): void {
  db.transaction(() => {
    // Read inside the write transaction so a concurrent opener cannot run the same migration.
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new Error(
        `Session database schema version ${version} is newer than this server supports (${MIGRATIONS.length})`,
      );
    }
    for (const sql of MIGRATIONS.slice(version)) db.exec(sql);
    if (version < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
  }).immediate();
}

export function sessionParams(session: StoredSession): Params {
  return {
    id: session.id,
    user_id: session.userId,
    created_at: session.createdAt,
    expires_at: session.expiresAt,
    chunk_size: session.chunkSize,
    metadata: JSON.stringify(session.metadata),
    cleaned_at: session.cleanedAt ?? null,
  };
}

export function fileParams(file: StoredFile, position: number): Params {
  return {
    id: file.id,
    session_id: file.sessionId,
    position,
    user_id: file.userId,
    name: file.name,
    size: file.size,
    client_type: file.clientType,
    claimed_type: file.claimedType,
    last_modified: file.lastModified ?? null,
    total_chunks: file.totalChunks,
    status: file.status,
    created_at: file.createdAt,
    updated_at: file.updatedAt,
    duplicate_of: file.duplicateOf ?? null,
    content_hash: file.contentHash ?? null,
    detected_type: file.detectedType ?? null,
    file_type: file.fileType ?? null,
    object_key: file.objectKey ?? null,
    error: file.error === undefined ? null : JSON.stringify(file.error),
    scan: file.scan === undefined ? null : JSON.stringify(file.scan),
    content_metadata:
      file.contentMetadata === undefined ? null : JSON.stringify(file.contentMetadata),
  };
}

export function toSession(row: SessionRow): StoredSession {
  const session: StoredSession = {
    id: row.id,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    chunkSize: row.chunk_size,
    metadata: JSON.parse(row.metadata) as UploadMetadata,
  };
  if (row.cleaned_at !== null) session.cleanedAt = row.cleaned_at;
  return session;
}

export function toFile(row: FileRow): StoredFile {
  const file: StoredFile = {
    id: row.id,
    sessionId: row.session_id,
    userId: row.user_id,
    name: row.name,
    size: row.size,
    clientType: row.client_type,
    claimedType: row.claimed_type as FileTypeId,
    totalChunks: row.total_chunks,
    status: row.status as FileStatus,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
  // Optional fields stay absent (not null) when the column is NULL.
  if (row.last_modified !== null) file.lastModified = row.last_modified;
  if (row.duplicate_of !== null) file.duplicateOf = row.duplicate_of;
  if (row.content_hash !== null) file.contentHash = row.content_hash;
  if (row.detected_type !== null) file.detectedType = row.detected_type;
  if (row.file_type !== null) file.fileType = row.file_type as FileTypeId;
  if (row.object_key !== null) file.objectKey = row.object_key;
  if (row.error !== null) file.error = JSON.parse(row.error) as FileError;
  if (row.scan !== null) file.scan = JSON.parse(row.scan) as ScanOutcome;
  if (row.content_metadata !== null) {
    file.contentMetadata = JSON.parse(row.content_metadata) as ExtractedMetadata;
  }
  return file;
}
