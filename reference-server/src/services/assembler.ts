import { createHash } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import {
  CONTENT_HASH_BLOCK_SIZE,
  concatBlockDigests,
  type FileError,
  type FileStatus,
} from '@file-uploader/protocol';
import { ObjectExistsError, type BlobStore } from '../stores/blob-store.js';
import type { Lock, Locker } from '../stores/locker.js';
import type { FilePatch, SessionStore, StoredFile } from '../stores/session-store.js';
import { ContentHasher } from './content-hasher.js';
import { detectType } from './detect-type.js';
import { fileEvent } from './file-events.js';
import { extractMetadata } from '../metadata/extract-metadata.js';
import { objectKey } from './object-key.js';
import type { ScanRunner } from './scan-runner.js';
import { sha256Of } from './sha256-of.js';

/** How long an assembly may hold its file's lock before another instance may take over. */
const ASSEMBLY_LOCK_MS = 10 * 60_000;

/** Statuses from which a complete file may be assembled (assembling: resumed after a crash). */
const ASSEMBLABLE: readonly FileStatus[] = ['pending', 'uploading', 'assembling'];

/**
 * Turns a file's chunks into its final object: concatenates them in order while computing the
 * content hash, checks the size and the real type, and records the outcome. The chunks are
 * removed only after the outcome is stored, so a crash at any point can be resumed.
 */
export class Assembler {
  constructor(
    private readonly deps: {
      sessions: SessionStore;
      blobs: BlobStore;
      locker: Locker;
      log: Logger;
      allowedTypes: readonly string[];
      /** Report GPS positions found in images (they are left out by default). */
      keepGps?: boolean;
      /**
       * Set when files are scanned: assembled files become `scanning`, and `runner`, when this
       * process scans, takes them at once; without it worker processes find them in the outbox.
       * Unset: files are ready at once (`scan: skipped`).
       */
      scanning?: { runner?: ScanRunner };
    },
  ) {}

  /**
   * Assembles the file if all its chunks are stored and nobody else is assembling it.
   * Returns the file as it stands afterwards.
   */
  async assembleIfComplete(fileId: string): Promise<StoredFile | undefined> {
    for (;;) {
      const outcome = await this.#tryAssemble(fileId);
      if (outcome !== 'incomplete') return outcome;
      // Another request may have stored the last chunk while we held the lock and could not
      // take it; it relies on this second look, made after our release.
      const file = await this.deps.sessions.getFile(fileId);
      if (!file || !ASSEMBLABLE.includes(file.status) || !(await this.#complete(file))) {
        return file;
      }
    }
  }

  async #complete(file: StoredFile): Promise<boolean> {
    const chunks = await this.deps.blobs.listChunks(file.sessionId, file.id);
    return chunks.filter((i) => i < file.totalChunks).length === file.totalChunks;
  }

  async #tryAssemble(fileId: string): Promise<StoredFile | undefined | 'incomplete'> {
    const { sessions, locker } = this.deps;
    const lock = await locker.tryAcquire(`file:${fileId}`, ASSEMBLY_LOCK_MS);
    if (!lock) return sessions.getFile(fileId);
    try {
      const current = await sessions.getFile(fileId);
      if (!current || !ASSEMBLABLE.includes(current.status)) return current;
      if (!(await this.#complete(current))) return 'incomplete';
      const session = await sessions.getSession(current.sessionId);
      if (!session) return current;
      const file = await sessions.transitionFile(fileId, ASSEMBLABLE, { status: 'assembling' }, [
        fileEvent('upload.received', { ...current, status: 'assembling' }),
      ]);
      if (!file) return sessions.getFile(fileId);
      try {
        return await this.#assemble(file, session.chunkSize, lock);
      } catch (err) {
        // A try that lost its lock leaves the file to whoever holds it now.
        if (!lock.held()) throw err;
        // The chunks are intact: let the next chunk request (a client retry) assemble again.
        await sessions.transitionFile(fileId, ['assembling'], { status: 'uploading' });
        throw err;
      }
    } finally {
      await lock.release();
    }
  }

  async #assemble(
    file: StoredFile,
    chunkSize: number,
    lock: Lock,
  ): Promise<StoredFile | undefined> {
    const { blobs, log } = this.deps;
    // Before each step that changes the object or the file's record: a process that stalled
    // past its lease while another instance took the file over must not undo that one's work
    // (delete its object, or mark the file done with chunks it is still reading).
    const ours = () => {
      if (!lock.held()) throw new LockLostError(file.id);
    };
    // One key per file (its creation time), so a try that dies half-way leaves nothing beside
    // the object of the try that finishes.
    const key = objectKey(file, file.createdAt);
    // The bytes are joined inside the store (a link or copy on disk, a compose on GCS) and hashed
    // from the digests recorded as the chunks arrived, so no byte passes through here again.
    const concat = () => blobs.concatChunks(file.sessionId, file.id, file.totalChunks, key);
    const { size } = await concat().catch(async (err: unknown) => {
      if (!(err instanceof ObjectExistsError)) throw err;
      // An earlier try at this file (an instance that died, an assembly that threw) left its
      // object. The file is not ready and we hold its lock: nobody was ever given that object.
      ours();
      log.info({ fileId: file.id, key }, 'object of an interrupted assembly replaced');
      await blobs.deleteObject(key);
      return concat();
    });
    const contentHash = await this.#contentHash(file, chunkSize, key);
    const reject = async (error: FileError, found: FilePatch = {}) => {
      ours();
      await blobs.deleteObject(key);
      log.info({ fileId: file.id, code: error.code }, 'file rejected');
      ours();
      return this.#finish(file, { status: 'rejected', error, contentHash, ...found });
    };
    if (size !== file.size) {
      return reject({
        code: 'size_mismatch',
        message: `Assembled ${size} bytes; ${file.size} were declared.`,
      });
    }
    const read = (start: number, end: number) => collect(blobs.readObject(key, { start, end }));
    const detected = await detectType(read, file.size);
    const found: FilePatch = {
      ...(detected.mime ? { detectedType: detected.mime } : {}),
      ...(detected.fileType ? { fileType: detected.fileType } : {}),
    };
    if (!detected.fileType || !this.deps.allowedTypes.includes(detected.fileType)) {
      const what = detected.mime ?? 'of an unknown type';
      return reject(
        { code: 'type_mismatch', message: `The content is ${what}, which is not allowed.` },
        found,
      );
    }
    if (detected.fileType !== file.claimedType) {
      const [is, claimed] = [detected.fileType.toUpperCase(), file.claimedType.toUpperCase()];
      return reject(
        {
          code: 'type_mismatch',
          message: `The content is ${is}, but the file was declared as ${claimed}.`,
        },
        found,
      );
    }
    log.info({ fileId: file.id, key, bytes: size }, 'file assembled');
    // Bounded in bytes read, bytes inflated and time; hostile content ends partial, not here.
    const contentMetadata = await extractMetadata(read, size, detected.fileType, {
      keepGps: this.deps.keepGps ?? false,
    });
    const { bytesRead: _read, bytesInflated: _inflated, ...described } = contentMetadata;
    const settled = { objectKey: key, contentHash, contentMetadata: described, ...found };
    const { scanning } = this.deps;
    ours();
    if (!scanning) {
      const scan = { result: 'skipped' } as const;
      return this.#finish(file, { status: 'ready', scan, ...settled });
    }
    const waiting = await this.#finish(file, { status: 'scanning', ...settled });
    if (waiting?.status === 'scanning') scanning.runner?.enqueue(file.id);
    return waiting;
  }

  async #finish(file: StoredFile, patch: FilePatch): Promise<StoredFile | undefined> {
    const after: StoredFile = { ...file, ...patch } as StoredFile;
    const events =
      after.status === 'ready'
        ? [
            fileEvent('upload.assembled', after),
            fileEvent('upload.scanned', after, { result: 'skipped' }),
            fileEvent('upload.ready', after),
          ]
        : after.status === 'scanning'
          ? [fileEvent('upload.assembled', after)]
          : [fileEvent('upload.rejected', after)];
    const done = await this.deps.sessions.transitionFile(file.id, ['assembling'], patch, events);
    await this.deps.blobs.deleteChunks(file.sessionId, file.id);
    await this.deps.sessions.deleteChunkDigests(file.id);
    return done;
  }

  /**
   * The content hash. When chunks are exactly one content-hash block (the default chunk size),
   * each chunk's SHA-256, recorded when it arrived, is its block digest; a digest lost in a crash
   * is computed again from that chunk. Other chunk sizes hash the assembled object.
   */
  async #contentHash(file: StoredFile, chunkSize: number, key: string): Promise<string> {
    const { blobs, sessions } = this.deps;
    if (chunkSize !== CONTENT_HASH_BLOCK_SIZE) {
      const hasher = new ContentHasher();
      await pipeline(blobs.readObject(key), hasher, async (hashed: AsyncIterable<Buffer>) => {
        for await (const part of hashed) void part;
      });
      return hasher.contentHash();
    }
    const recorded = await sessions.chunkDigests(file.id);
    const digests: Uint8Array[] = [];
    for (let index = 0; index < file.totalChunks; index++) {
      digests.push(
        recorded.get(index) ??
          (await sha256Of(blobs.readChunk({ sessionId: file.sessionId, fileId: file.id, index }))),
      );
    }
    return createHash('sha256').update(concatBlockDigests(digests)).digest('hex');
  }
}

/** This process held a file's assembly lock past its lease: another instance may have it now. */
export class LockLostError extends Error {
  constructor(fileId: string) {
    super(`The assembly lock of file ${fileId} was lost (this process stalled past its lease).`);
    this.name = 'LockLostError';
  }
}

/** A ranged read's bytes in one buffer: one copy, none when the range came in one piece. */
async function collect(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(part as Buffer);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}
