/**
 * BlobStore on a local filesystem.
 *
 * Layout under `root`:
 *   chunks/<sessionId>/<fileId>/<index, 8 digits>   committed chunks
 *   objects/<key>                                    final objects
 *   tmp/                                             files being written (same filesystem)
 *
 * Writes go to tmp/ and become visible with link(), which is atomic and never overwrites, so a
 * reader sees a file whole or not at all and two writers of one name cannot clobber each other.
 */
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { copyFile, link, mkdir, open, readdir, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, ByteRange, ChunkRef, StagedChunk } from './blob-store.js';
import { ObjectExistsError } from './blob-store.js';
import { Coalescer } from './coalescer.js';
import { assertChunkRef, assertObjectKey, assertRange, assertSegment } from './blob-keys.js';
import {
  assertValidKey,
  createDecryptedReadStream,
  createEncryptStream,
  plaintextSize,
} from './encrypted-format.js';

export interface FsBlobStoreOptions {
  /** Directory holding everything; created when missing. */
  root: string;
  /** 32-byte AES-256 key: when set, chunks and objects are encrypted at rest. */
  encryptionKey?: Buffer;
}

const INDEX_NAME = /^\d+$/;
/**
 * Network bodies arrive in 64 KiB pieces; writing 256 KiB at a time takes 4 times fewer calls,
 * while a server with hundreds of chunks in flight holds only that much per chunk.
 */
const WRITE_SIZE = 256 * 1024;
/** Chunks are copied into an object through one buffer of this size per assembly. */
const COPY_SIZE = 1024 * 1024;

/**
 * A chunk committed while its folder is being removed makes rmdir fail with ENOTEMPTY; rm then
 * tries again, so a delete racing an upload still removes everything.
 */
const REMOVE_TREE = { recursive: true, force: true, maxRetries: 5, retryDelay: 20 } as const;
/** Errors of link() that mean "this filesystem cannot hard-link", so copy instead. */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'EMLINK', 'ENOSYS']);

function errorCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function unlinkIfExists(path: string): Promise<void> {
  try {
    await unlink(path);
  } catch (error) {
    if (errorCode(error) !== 'ENOENT') throw error;
  }
}

/** Waits until the file descriptor is released, whether the write succeeded or not. */
async function closed(stream: WriteStream): Promise<void> {
  if (!stream.closed) await new Promise<void>((resolve) => stream.once('close', () => resolve()));
}

/** Writes all of `bytes` at the handle's position (a write may take fewer). */
async function writeAll(out: FileHandle, bytes: Buffer): Promise<void> {
  for (let at = 0; at < bytes.length;) {
    const { bytesWritten } = await out.write(bytes, at, bytes.length - at);
    at += bytesWritten;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Hard-links `from` to `to`, creating parent directories: 'exists' when `to` is taken.
 * Retries when a concurrent deleteObject pruned the fresh parent between mkdir and link.
 */
async function linkNoClobber(from: string, to: string): Promise<'created' | 'exists'> {
  for (let attempt = 0; ; attempt++) {
    await mkdir(dirname(to), { recursive: true });
    try {
      await link(from, to);
      return 'created';
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return 'exists';
      if (errorCode(error) === 'ENOENT' && attempt < 3 && (await exists(from))) continue;
      throw error;
    }
  }
}

export class FsBlobStore implements BlobStore {
  readonly #root: string;
  readonly #key: Buffer | undefined;
  #ready: Promise<void> | undefined;

  constructor(options: FsBlobStoreOptions) {
    if (options.encryptionKey) assertValidKey(options.encryptionKey);
    this.#root = resolve(options.root);
    this.#key = options.encryptionKey;
  }

  /** Creates the store and its directories. */
  static async open(options: FsBlobStoreOptions): Promise<FsBlobStore> {
    const store = new FsBlobStore(options);
    await store.#ensureDirs();
    return store;
  }

  #ensureDirs(): Promise<void> {
    this.#ready ??= (async () => {
      for (const dir of ['chunks', 'objects', 'tmp']) {
        await mkdir(join(this.#root, dir), { recursive: true });
      }
    })().catch((error: unknown) => {
      this.#ready = undefined; // let a later call retry, e.g. after a permissions fix
      throw error;
    });
    return this.#ready;
  }

  #chunkDir(sessionId: string, fileId: string): string {
    return join(this.#root, 'chunks', sessionId, fileId);
  }

  #chunkPath(ref: ChunkRef): string {
    return join(this.#chunkDir(ref.sessionId, ref.fileId), String(ref.index).padStart(8, '0'));
  }

  #objectPath(key: string): string {
    assertObjectKey(key);
    const objects = join(this.#root, 'objects');
    const path = resolve(objects, key);
    if (!path.startsWith(objects + sep)) throw new TypeError(`Unsafe object key: ${key}`);
    return path;
  }

  /**
   * Staged chunks carry their owner in the temp name so deleteChunks can remove uploads in
   * flight; ids cannot contain '.', so the prefix match is exact.
   */
  #chunkTempPrefix(sessionId: string, fileId?: string): string {
    return fileId === undefined ? `chunk.${sessionId}.` : `chunk.${sessionId}.${fileId}.`;
  }

  #tempPath(prefix: string): string {
    return join(this.#root, 'tmp', `${prefix}${randomBytes(12).toString('hex')}`);
  }

  /** Streams `source` (encrypted when a key is set) into a new temp file; plaintext size. */
  async #writeTemp(path: string, source: Readable): Promise<number> {
    await this.#ensureDirs();
    let size = 0;
    const count = async function* (input: AsyncIterable<unknown>): AsyncGenerator<Buffer> {
      for await (const chunk of input) {
        // Normalized so the size is in bytes even if a caller hands over strings.
        const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
        size += bytes.length;
        yield bytes;
      }
    };
    const sink = createWriteStream(path, { flags: 'wx' });
    try {
      if (this.#key) await pipeline(source, count, createEncryptStream(this.#key), sink);
      // Plaintext on disk: the file's own byte count, without a generator step per piece.
      else await pipeline(source, new Coalescer(WRITE_SIZE), sink);
    } catch (error) {
      await closed(sink);
      await unlinkIfExists(path);
      throw error;
    }
    // pipeline already waits for 'close' on fs streams; this makes "closed before link()" explicit.
    await closed(sink);
    return this.#key ? size : sink.bytesWritten;
  }

  #readFile(path: string, range?: ByteRange): Readable {
    if (range) assertRange(range);
    if (this.#key) return createDecryptedReadStream(path, this.#key, range);
    // 1 MiB reads: fewer syscalls and stream turns when whole files are copied or scanned.
    const options = { highWaterMark: 1024 * 1024 };
    return createReadStream(
      path,
      range ? { ...options, start: range.start, end: range.end } : options,
    );
  }

  async stageChunk(ref: ChunkRef, body: Readable): Promise<StagedChunk> {
    assertChunkRef(ref);
    const tmp = this.#tempPath(`${this.#chunkTempPrefix(ref.sessionId, ref.fileId)}${ref.index}.`);
    await this.#writeTemp(tmp, body);
    const final = this.#chunkPath(ref);
    let committed: Promise<'created' | 'exists'> | undefined;
    let discarded = false;
    return {
      commit: () => {
        if (discarded) return Promise.reject(new Error('Staged chunk was discarded'));
        committed ??= (async () => {
          const result = await linkNoClobber(tmp, final);
          await unlinkIfExists(tmp);
          return result;
        })();
        return committed;
      },
      discard: async () => {
        discarded = true;
        await committed?.catch(() => undefined); // do not pull the file from under link()
        await unlinkIfExists(tmp);
      },
    };
  }

  async listChunks(sessionId: string, fileId: string): Promise<number[]> {
    assertSegment(sessionId, 'session id');
    assertSegment(fileId, 'file id');
    let names: string[];
    try {
      names = await readdir(this.#chunkDir(sessionId, fileId));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return [];
      throw error;
    }
    return names
      .filter((name) => INDEX_NAME.test(name))
      .map(Number)
      .sort((a, b) => a - b);
  }

  readChunk(ref: ChunkRef): Readable {
    assertChunkRef(ref);
    return this.#readFile(this.#chunkPath(ref));
  }

  async deleteChunks(sessionId: string, fileId: string): Promise<void> {
    assertSegment(sessionId, 'session id');
    assertSegment(fileId, 'file id');
    await rm(this.#chunkDir(sessionId, fileId), REMOVE_TREE);
    await this.#removeStaged(this.#chunkTempPrefix(sessionId, fileId));
  }

  async deleteSessionChunks(sessionId: string): Promise<void> {
    assertSegment(sessionId, 'session id');
    await rm(join(this.#root, 'chunks', sessionId), REMOVE_TREE);
    await this.#removeStaged(this.#chunkTempPrefix(sessionId));
  }

  /** tmp/ holds only writes in flight, so scanning it stays cheap. */
  async #removeStaged(prefix: string): Promise<void> {
    let names: string[];
    try {
      names = await readdir(join(this.#root, 'tmp'));
    } catch (error) {
      if (errorCode(error) === 'ENOENT') return;
      throw error;
    }
    await Promise.all(
      names
        .filter((name) => name.startsWith(prefix))
        .map((name) => unlinkIfExists(join(this.#root, 'tmp', name))),
    );
  }

  async writeObject(key: string, source: Readable): Promise<{ size: number }> {
    const final = this.#objectPath(key);
    const tmp = this.#tempPath('object.');
    const size = await this.#writeTemp(tmp, source);
    try {
      if ((await linkNoClobber(tmp, final)) === 'exists') throw new ObjectExistsError(key);
    } finally {
      await unlinkIfExists(tmp);
    }
    return { size };
  }

  async concatChunks(
    sessionId: string,
    fileId: string,
    count: number,
    key: string,
  ): Promise<{ size: number }> {
    assertSegment(sessionId, 'session id');
    assertSegment(fileId, 'file id');
    if (!Number.isSafeInteger(count) || count < 0) throw new RangeError(`Invalid count: ${count}`);
    if (this.#key) {
      // Encrypted chunks are decrypted and the object encrypted anew (one nonce stream each).
      const chunks = async function* (store: FsBlobStore): AsyncGenerator<Buffer> {
        for (let index = 0; index < count; index++) {
          for await (const part of store.readChunk({ sessionId, fileId, index })) {
            yield part as Buffer;
          }
        }
      };
      return this.writeObject(key, Readable.from(chunks(this)));
    }
    const final = this.#objectPath(key);
    if (count === 1) {
      // A file of one chunk becomes its object by a second name for the same bytes.
      const chunk = this.#chunkPath({ sessionId, fileId, index: 0 });
      const { size } = await stat(chunk);
      const linked = await linkNoClobber(chunk, final).catch((error: unknown) => {
        if (NO_HARD_LINKS.has(errorCode(error) ?? '')) return 'unsupported' as const;
        throw error;
      });
      if (linked === 'exists') throw new ObjectExistsError(key);
      if (linked === 'created') return { size };
    }
    // Plain chunks are copied through one buffer: no stream machinery per piece, and a bounded
    // amount of memory however many files are assembled at once.
    await this.#ensureDirs();
    const tmp = this.#tempPath('object.');
    const out = await open(tmp, 'wx');
    const buffer = Buffer.allocUnsafe(COPY_SIZE);
    let size = 0;
    try {
      for (let index = 0; index < count; index++) {
        const chunk = await open(this.#chunkPath({ sessionId, fileId, index }), 'r');
        try {
          for (;;) {
            const { bytesRead } = await chunk.read(buffer, 0, COPY_SIZE, null);
            if (bytesRead === 0) break;
            await writeAll(out, buffer.subarray(0, bytesRead));
            size += bytesRead;
          }
        } finally {
          await chunk.close();
        }
      }
    } catch (error) {
      await out.close();
      await unlinkIfExists(tmp);
      throw error;
    }
    await out.close();
    try {
      if ((await linkNoClobber(tmp, final)) === 'exists') throw new ObjectExistsError(key);
    } finally {
      await unlinkIfExists(tmp);
    }
    return { size };
  }

  async copyObject(sourceKey: string, targetKey: string): Promise<void> {
    const source = this.#objectPath(sourceKey);
    const target = this.#objectPath(targetKey);
    let result: 'created' | 'exists';
    try {
      // Objects are immutable, so sharing the inode is a safe and instant copy.
      result = await linkNoClobber(source, target);
    } catch (error) {
      if (!NO_HARD_LINKS.has(errorCode(error) ?? '')) {
        await this.#pruneEmptyParents(target); // linkNoClobber may have made them for nothing
        throw error;
      }
      result = await this.#copyViaTemp(source, target);
    }
    if (result === 'exists') throw new ObjectExistsError(targetKey);
  }

  async #copyViaTemp(source: string, target: string): Promise<'created' | 'exists'> {
    await this.#ensureDirs();
    const tmp = this.#tempPath('object.');
    try {
      await copyFile(source, tmp);
      return await linkNoClobber(tmp, target);
    } finally {
      await unlinkIfExists(tmp);
    }
  }

  readObject(key: string, range?: ByteRange): Readable {
    return this.#readFile(this.#objectPath(key), range);
  }

  async statObject(key: string): Promise<{ size: number } | undefined> {
    const path = this.#objectPath(key);
    try {
      const stats = await stat(path);
      if (!stats.isFile()) return undefined; // a directory is a key prefix, not an object
      return { size: this.#key ? plaintextSize(stats.size) : stats.size };
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
      throw error;
    }
  }

  async deleteObject(key: string): Promise<void> {
    const path = this.#objectPath(key);
    try {
      await unlink(path);
    } catch (error) {
      if (errorCode(error) !== 'ENOENT' && errorCode(error) !== 'ENOTDIR') throw error;
    }
    await this.#pruneEmptyParents(path);
  }

  /** Best effort: stops at the first directory that is not empty (or anything unexpected). */
  async #pruneEmptyParents(path: string): Promise<void> {
    const objects = join(this.#root, 'objects');
    for (let dir = dirname(path); dir.startsWith(objects + sep); dir = dirname(dir)) {
      try {
        await rmdir(dir);
      } catch {
        return;
      }
    }
  }

  async close(): Promise<void> {
    // Nothing is held open between calls.
  }
}
