import type { Readable } from 'node:stream';

/** Names one chunk of one file. */
export interface ChunkRef {
  sessionId: string;
  fileId: string;
  index: number;
}

/** Where a chunk lies in its file, for stores that write chunks in place. */
export interface ChunkPlacement {
  offset: number;
  length: number;
}

/**
 * Thrown by `stageChunk` when another request is writing the same chunk right now: the caller
 * answers "try again shortly" rather than writing the bytes twice.
 */
export class ChunkBusyError extends Error {
  constructor(readonly ref: ChunkRef) {
    super(`Chunk ${ref.index} of file ${ref.fileId} is being written`);
    this.name = 'ChunkBusyError';
  }
}

/** An inclusive byte range. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A chunk written to staging but not yet visible to `listChunks` or `readChunk`. */
export interface StagedChunk {
  /**
   * Makes the chunk visible, atomically and without overwriting: `'exists'` when a chunk with
   * this index is already stored (the staged bytes are then discarded and the stored ones kept).
   */
  commit(): Promise<'created' | 'exists'>;
  /** Drops the staged bytes. Safe to call more than once and after commit. */
  discard(): Promise<void>;
  /**
   * SHA-256 of the body that was staged (or, when the chunk was stored already, of the body that
   * was read and dropped); only from stores whose `hashesStagedChunks` is true, once the body
   * has ended.
   */
  digest?(): Promise<Buffer>;
}

/** Thrown by `writeObject` when the key already exists: final objects are never overwritten. */
export class ObjectExistsError extends Error {
  constructor(readonly key: string) {
    super(`Object already exists: ${key}`);
    this.name = 'ObjectExistsError';
  }
}

/**
 * Where bytes live: chunks while a file is uploading, and final objects after assembly.
 * Storage is the source of truth for which chunks exist; nothing else records it.
 * Keys of final objects are `/`-separated paths made by the server from sanitized parts.
 */
export interface BlobStore {
  /**
   * True when every chunk staged with a placement offers `digest()`: the store hashes the body
   * itself (off the event loop), and the caller need not hash it as it streams.
   */
  readonly hashesStagedChunks?: boolean;
  /**
   * Streams `body` to a staging location. Rejects (and leaves nothing behind) when the body
   * stream errors. The caller counts and hashes the bytes (unless the store hashes what it staged:
   * `hashesStagedChunks`) and then commits or discards.
   * `placement` says where the chunk lies in its file: a store may then write it in place, so
   * that `concatChunks` moves no bytes; such a store rejects a body longer than
   * `placement.length` before writing past it, and may reject with {@link ChunkBusyError}.
   */
  stageChunk(ref: ChunkRef, body: Readable, placement?: ChunkPlacement): Promise<StagedChunk>;
  /** Indices of the committed chunks of a file, ascending. */
  listChunks(sessionId: string, fileId: string): Promise<number[]>;
  /** The plaintext bytes of a committed chunk; the stream errors if the chunk does not exist. */
  readChunk(ref: ChunkRef): Readable;
  /** Removes every chunk (committed or staged) of a file. Idempotent. */
  deleteChunks(sessionId: string, fileId: string): Promise<void>;
  /** Removes every chunk of every file of a session. Idempotent. */
  deleteSessionChunks(sessionId: string): Promise<void>;
  /**
   * Writes a final object from `source`, atomically: it exists whole or not at all.
   * Throws {@link ObjectExistsError} when `key` exists. Resolves with the bytes written.
   */
  writeObject(key: string, source: Readable): Promise<{ size: number }>;
  /**
   * Writes a final object from chunks `0 .. count - 1` of a file, in order, with the same
   * guarantees as `writeObject` (whole or nothing; {@link ObjectExistsError} when `key` exists).
   * Rejects when a chunk is missing. The chunks stay until `deleteChunks`. Stores that can join
   * objects without moving the bytes through this process (GCS compose) do so.
   */
  concatChunks(
    sessionId: string,
    fileId: string,
    count: number,
    key: string,
  ): Promise<{ size: number }>;
  /** Copies an object to a new key (never overwriting; {@link ObjectExistsError}). */
  copyObject(sourceKey: string, targetKey: string): Promise<void>;
  /** The plaintext bytes of an object, or of an inclusive range of it. */
  readObject(key: string, range?: ByteRange): Readable;
  /** Size in plaintext bytes, or undefined when the object does not exist. */
  statObject(key: string): Promise<{ size: number } | undefined>;
  /** Removes an object. Idempotent. */
  deleteObject(key: string): Promise<void>;
  /** Releases resources. */
  close(): Promise<void>;
  /**
   * Optional: a URL that downloads the object straight from storage as an attachment (GCS v4
   * signed URLs), or undefined when it cannot. Without it the server serves downloads itself.
   */
  signedDownloadUrl?(key: string, options: SignedDownloadOptions): Promise<string | undefined>;
  /**
   * Optional: staging objects (chunks, temporaries) created before `cutoff`, for stores whose
   * staging area may keep objects that no session record points at any more.
   */
  listStagingOlderThan?(cutoff: Date): Promise<{ sessionId: string; fileId: string }[]>;
}

/** What a direct download URL serves. */
export interface SignedDownloadOptions {
  /** The name the browser saves the file under (`Content-Disposition: attachment`). */
  filename: string;
  /** Lifetime of the URL in seconds. */
  expiresInSeconds?: number;
  /** `Content-Type` of the response; by default the object's own. */
  contentType?: string;
}
