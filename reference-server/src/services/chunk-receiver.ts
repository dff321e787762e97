import type { IncomingMessage } from 'node:http';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  CONTENT_HASH_PATTERN,
  HEADERS,
  chunkRange,
  parseContentDigest,
  parseContentRange,
  type ChunkResponse,
} from '@file-uploader/protocol';
import { HttpError } from '../http-error.js';
import { ChunkBusyError, type BlobStore, type ChunkRef } from '../stores/blob-store.js';
import { StoreUnavailableError } from '../stores/store-unavailable-error.js';
import type { SessionStore, StoredFile, StoredSession } from '../stores/session-store.js';
import type { Assembler } from './assembler.js';
import { ChunkMeter } from './chunk-meter.js';
import { copyOfDuplicate } from './duplicates.js';
import { fileEvent } from './file-events.js';
import { bytesOfChunks, receivedOf } from './file-views.js';
import { sha256Of } from './sha256-of.js';

/** The validated headers of a chunk request. */
export interface ChunkHeaders {
  contentLength: string;
  contentRange: string;
  contentDigest: string;
  /** `Upload-Content-Hash`: the whole file's content hash, when the client knows it. */
  contentHash?: string;
}

interface ChunkPlan {
  ref: ChunkRef;
  /** Where the chunk starts in its file. */
  offset: number;
  length: number;
  digest: Buffer | null;
  /** The file's content hash as the client claims it: a ready twin completes the file. */
  contentHash: string | undefined;
}

/** Checks a chunk's headers against its file before any byte of the body is read. */
export function planChunk(
  session: StoredSession,
  file: StoredFile,
  headers: ChunkHeaders,
): ChunkPlan {
  if (!/^\d{1,15}$/.test(headers.contentLength)) {
    throw new HttpError('length_required', 'Content-Length is required for chunks.');
  }
  const length = Number(headers.contentLength);
  const range = parseContentRange(headers.contentRange);
  if (!range) {
    throw new HttpError(
      'range_not_satisfiable',
      'Content-Range must be "bytes <start>-<end>/<size>".',
    );
  }
  if (range.size !== file.size) {
    throw new HttpError(
      'range_not_satisfiable',
      `The file is ${file.size} bytes, not ${range.size}.`,
    );
  }
  const index = range.start / session.chunkSize;
  if (!Number.isInteger(index) || index >= file.totalChunks) {
    throw new HttpError(
      'range_not_satisfiable',
      `A chunk must start at a multiple of the chunk size (${session.chunkSize}).`,
    );
  }
  const expected = chunkRange(index, file.size, session.chunkSize);
  if (range.end !== expected.end) {
    throw new HttpError(
      'range_not_satisfiable',
      `Chunk ${index} spans bytes ${expected.start}-${expected.end}.`,
    );
  }
  if (length !== expected.end - expected.start + 1) {
    throw new HttpError('body_length_mismatch', 'Content-Length does not match Content-Range.');
  }
  let digest: Uint8Array | null = null;
  if (headers.contentDigest) {
    try {
      digest = parseContentDigest(headers.contentDigest);
    } catch (err) {
      throw new HttpError('validation_failed', (err as Error).message);
    }
  }
  if (headers.contentHash && !CONTENT_HASH_PATTERN.test(headers.contentHash)) {
    throw new HttpError(
      'validation_failed',
      `${HEADERS.contentHash} must be 64 lowercase hex digits (SHA-256).`,
    );
  }
  return {
    ref: { sessionId: session.id, fileId: file.id, index },
    offset: expected.start,
    length,
    digest: digest && Buffer.from(digest),
    contentHash: headers.contentHash || undefined,
  };
}

/** Errors of a connection that went away: the client's, or the blob store's. */
const CONNECTION_LOST = ['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'ECONNABORTED'];

/**
 * What a lost connection while a chunk streamed means for the client. A body that stopped early
 * (the client went away) is a length mismatch, not a server fault. While the client is still
 * there, the connection that failed was the blob store's: the chunk was not stored, and the
 * client is told to send it again.
 */
function bodyError(err: unknown, clientThere: boolean): unknown {
  if (err instanceof HttpError) return err;
  if (!CONNECTION_LOST.includes((err as { code?: string })?.code ?? '')) return err;
  if (clientThere) {
    return new StoreUnavailableError('The blob store dropped the connection.', {
      cause: err,
      retryAfterSeconds: 1,
    });
  }
  return new HttpError(
    'body_length_mismatch',
    'The body ended before Content-Length bytes arrived.',
  );
}

/**
 * Receives chunk bodies: streams them to staging while counting and hashing, verifies length
 * and digest, then commits. A chunk sent again is compared with the stored one.
 */
export class ChunkReceiver {
  constructor(
    private readonly deps: {
      sessions: SessionStore;
      blobs: BlobStore;
      assembler: Assembler;
      bodyTimeoutMs: number;
    },
  ) {}

  async receive(
    session: StoredSession,
    file: StoredFile,
    plan: ChunkPlan,
    /** The request: its body, and its connection (which tells whether the client went away). */
    body: IncomingMessage,
  ): Promise<ChunkResponse> {
    const { blobs, sessions } = this.deps;
    const accepting = file.status === 'pending' || file.status === 'uploading';
    // A store that hashes what it staged spares the event loop hashing the body on the way.
    const storeHashes = accepting && blobs.hashesStagedChunks === true;
    const meter = new ChunkMeter(plan.length, this.deps.bodyTimeoutMs, !storeHashes);
    // The client's connection, kept now: a request that is destroyed lets go of it.
    const { socket } = body;
    const flowing = pipeline(body, meter);
    const fail = (err: unknown): never => {
      // While the client's connection lasts, the body did not fail it: the store did.
      throw bodyError(err, !socket.destroyed && !socket.readableEnded);
    };
    flowing.catch(() => {}); // Reported through the staging or draining promise below.
    const twin =
      accepting && plan.contentHash ? await this.#completeAsDuplicate(file, plan) : undefined;
    if (twin) {
      // The user has these bytes already: this body is not needed.
      await pipeline(meter, new Writable({ write: (_c, _e, cb) => cb() })).catch(fail);
      return this.#response(session, twin, plan);
    }

    if (!accepting) {
      // The file is past uploading: a repeated chunk is fine if its bytes match what was stored.
      await pipeline(meter, new Writable({ write: (_c, _e, cb) => cb() })).catch(fail);
      this.#verify(meter, plan, meter.digest());
      const stored = await this.#storedDigest(file, plan);
      if (!stored?.equals(meter.digest())) {
        throw new HttpError('conflict', `The file is ${file.status} and takes no new bytes.`);
      }
      // A client sends its last chunk again when the answer was lost, which is what a server
      // dying mid-assembly looks like: take the assembly over if nobody holds the file's lock.
      const current =
        file.status === 'assembling' ? await this.deps.assembler.assembleIfComplete(file.id) : file;
      return this.#response(session, current ?? file, plan);
    }

    const placement = { offset: plan.offset, length: plan.length };
    const staged = await blobs.stageChunk(plan.ref, meter, placement).catch((err: unknown) => {
      if (err instanceof ChunkBusyError) {
        // The same chunk is arriving on another request (a retry that overtook its original):
        // this body is read to its end and dropped, so the connection stays usable.
        meter.resume();
        throw new HttpError(
          'locked',
          'This chunk is being received; try again shortly.',
          undefined,
          {
            retryAfter: 1,
          },
        );
      }
      return fail(err);
    });
    let outcome: 'created' | 'exists';
    let digest: Buffer;
    try {
      await flowing.catch(fail);
      if (storeHashes && !staged.digest) throw new Error('The blob store staged without a digest');
      this.#verifyLength(meter, plan);
      digest = storeHashes ? await (staged.digest as () => Promise<Buffer>)() : meter.digest();
      this.#verify(meter, plan, digest);
      outcome = await staged.commit().catch(async (err: unknown) => {
        // A delete while the body streamed removes the staged bytes, so the commit finds nothing.
        if (!(await sessions.getFile(file.id)))
          throw new HttpError('not_found', 'The file was deleted.');
        throw err;
      });
    } finally {
      await staged.discard();
    }
    if (outcome === 'exists') {
      const stored = await this.#storedDigest(file, plan);
      if (!stored?.equals(digest)) {
        throw new HttpError('conflict', `Chunk ${plan.ref.index} is stored with different bytes.`);
      }
    }
    // Assembly builds the content hash from these instead of reading the bytes again.
    await sessions.recordChunkDigest(file.id, plan.ref.index, digest);
    // A delete may have removed the file while the body streamed: leave nothing behind.
    if (!(await sessions.getFile(file.id))) {
      await blobs.deleteChunks(file.sessionId, file.id);
      throw new HttpError('not_found', 'The file was deleted.');
    }
    // The first chunk moves the file on from `pending`; later ones need not try.
    const uploading =
      file.status === 'pending'
        ? await sessions.transitionFile(file.id, ['pending'], { status: 'uploading' })
        : undefined;
    // Most chunks are not the last: one listing tells whether the file is complete and what
    // the answer reports as received.
    const stored = bytesOfChunks(
      await blobs.listChunks(file.sessionId, file.id),
      file,
      session.chunkSize,
    );
    if (stored.receivedChunks.length === file.totalChunks) {
      const assembled = await this.deps.assembler.assembleIfComplete(file.id);
      return this.#response(session, assembled ?? uploading ?? file, plan);
    }
    // The status as it is now, read after the listing: a chunk sent beside the last one may find
    // the file already assembled (its chunks gone) or moved on by another request.
    const current = (await sessions.getFile(file.id)) ?? uploading ?? file;
    if (current.status !== 'pending' && current.status !== 'uploading') {
      return this.#response(session, current, plan);
    }
    return {
      fileId: file.id,
      chunkIndex: plan.ref.index,
      receivedBytes: stored.receivedBytes,
      status: current.status,
    };
  }

  /**
   * Makes the file a ready duplicate of one the user already has with this content hash, as
   * initiate does when it gets the hash up front. Undefined when there is none, or when the
   * file moved on meanwhile (its last chunk arrived and assembly began).
   */
  async #completeAsDuplicate(file: StoredFile, plan: ChunkPlan): Promise<StoredFile | undefined> {
    const { sessions, blobs } = this.deps;
    const patch = await copyOfDuplicate(this.deps, file, plan.contentHash as string, Date.now());
    if (!patch) return undefined;
    const ready = await sessions.transitionFile(file.id, ['pending', 'uploading'], patch, [
      fileEvent('upload.ready', { ...file, ...patch }),
    ]);
    if (!ready) {
      await blobs.deleteObject(patch.objectKey);
      return undefined;
    }
    await blobs.deleteChunks(file.sessionId, file.id);
    await sessions.deleteChunkDigests(file.id);
    return ready;
  }

  #verifyLength(meter: ChunkMeter, plan: ChunkPlan): void {
    if (meter.bytes !== plan.length) {
      throw new HttpError(
        'body_length_mismatch',
        `Received ${meter.bytes} of ${plan.length} bytes.`,
      );
    }
  }

  #verify(meter: ChunkMeter, plan: ChunkPlan, digest: Buffer): void {
    this.#verifyLength(meter, plan);
    if (plan.digest && !plan.digest.equals(digest)) {
      throw new HttpError('digest_mismatch');
    }
  }

  /** SHA-256 of the stored bytes of this chunk: from staging, or from the final object. */
  async #storedDigest(file: StoredFile, plan: ChunkPlan): Promise<Buffer | undefined> {
    const { blobs, sessions } = this.deps;
    const chunks = await blobs.listChunks(file.sessionId, file.id);
    if (chunks.includes(plan.ref.index)) {
      try {
        return await sha256Of(blobs.readChunk(plan.ref));
      } catch (err) {
        // An assembly that just finished removes the chunks: its bytes are in the object now.
        if ((err as { code?: string }).code !== 'ENOENT') throw err;
      }
    }
    const current = await sessions.getFile(file.id);
    if (!current?.objectKey) return undefined;
    const session = await sessions.getSession(file.sessionId);
    if (!session) return undefined;
    return sha256Of(
      blobs.readObject(current.objectKey, chunkRange(plan.ref.index, file.size, session.chunkSize)),
    );
  }

  async #response(
    session: StoredSession,
    file: StoredFile,
    plan: ChunkPlan,
  ): Promise<ChunkResponse> {
    const { receivedBytes } = await receivedOf(this.deps.blobs, file, session.chunkSize);
    return { fileId: file.id, chunkIndex: plan.ref.index, receivedBytes, status: file.status };
  }
}
