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
 *
 * In place (`inPlace`, plaintext only), a chunk given its placement is written straight into
 *   chunks/<sessionId>/<fileId>/data                 the file's bytes, each chunk at its offset
 * and committed by a marker `<index>.at`: a symbolic link whose target is "offset length".
 * symlink() is atomic and never overwrites, like link(), in one call instead of four.
 * Assembly then links `data` as the object: no byte is copied. A marker's range is never
 * written again (a chunk sent again is only compared), and while one request writes a chunk
 * another gets ChunkBusyError; both rules are kept in memory, so only a store that is the one
 * writer of its directory may work in place.
 */
import { createHash, randomBytes } from 'node:crypto';
import { constants, createReadStream, createWriteStream } from 'node:fs';
import type { WriteStream } from 'node:fs';
import {
  copyFile,
  link,
  mkdir,
  open,
  readFile,
  readdir,
  readlink,
  rm,
  rmdir,
  stat,
  symlink,
  unlink,
} from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { BlobStore, ByteRange, ChunkPlacement, ChunkRef, StagedChunk } from './blob-store.js';
import { ChunkBusyError, ObjectExistsError } from './blob-store.js';
import { FileWriter, writeAll } from './file-writer.js';
import { writingThread } from './writing-thread.js';
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
  /**
   * Write placed chunks into one file per upload, so assembly copies nothing (ignored with an
   * encryption key). Only for a store that is the one writer of `root` (see above).
   */
  inPlace?: boolean;
}

/** A committed chunk: its own file `<index>`, or a marker `<index>.at` of a range of `data`. */
const INDEX_NAME = /^(\d+)(\.at)?$/;
const PLACED_SUFFIX = '.at';
/** How long a request waits for another one writing the same chunk before it is told "busy". */
const BUSY_WAIT_MS = 2_000;
const DATA_NAME = 'data';
/** A placeholder for the last byte of a chunk's range, written before its body (#stageInPlace). */
const ONE_BYTE = Buffer.alloc(1);
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
  readonly #inPlace: boolean;
  /** Chunks being written in place now (`session/file/index`), settled when let go. */
  readonly #writing = new Map<string, Promise<void>>();
  #ready: Promise<void> | undefined;

  constructor(options: FsBlobStoreOptions) {
    if (options.encryptionKey) assertValidKey(options.encryptionKey);
    this.#root = resolve(options.root);
    this.#key = options.encryptionKey;
    this.#inPlace = options.inPlace === true && !options.encryptionKey;
  }

  /** Chunks written in place are written and hashed on a thread of their own. */
  get hashesStagedChunks(): boolean {
    return this.#inPlace;
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

  #markerPath(ref: ChunkRef): string {
    return this.#chunkPath(ref) + PLACED_SUFFIX;
  }

  /** Where a chunk committed in place lies in `data`; undefined when it was not. */
  async #placement(ref: ChunkRef): Promise<ChunkPlacement | undefined> {
    if (this.#key) return undefined; // encrypted stores never write in place
    let text: string;
    try {
      text = await readlink(this.#markerPath(ref), 'utf8');
    } catch (error) {
      if (errorCode(error) === 'ENOENT' || errorCode(error) === 'ENOTDIR') return undefined;
      if (errorCode(error) !== 'EINVAL') throw error;
      // Not a symbolic link: a marker of an earlier version, a file holding "offset length\n".
      text = (await readFile(this.#markerPath(ref), 'utf8')).replace(/\n$/, '');
    }
    const match = /^(\d+) (\d+)$/.exec(text);
    if (!match) throw new Error(`Damaged chunk marker: ${this.#markerPath(ref)}`);
    return { offset: Number(match[1]), length: Number(match[2]) };
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
    if (!this.#key) return this.#writePlain(path, source);
    const sink = createWriteStream(path, { flags: 'wx' });
    try {
      await pipeline(source, count, createEncryptStream(this.#key), sink);
    } catch (error) {
      await closed(sink);
      await unlinkIfExists(path);
      throw error;
    }
    // pipeline already waits for 'close' on fs streams; this makes "closed before link()" explicit.
    await closed(sink);
    return size;
  }

  /** Plaintext: the pieces as they come, copied into reused buffers written 256 KiB at a time. */
  async #writePlain(path: string, source: Readable): Promise<number> {
    const out = await open(path, 'wx');
    const writer = new FileWriter(out, 0);
    try {
      await pipeline(source, writer);
    } catch (error) {
      await out.close();
      await unlinkIfExists(path);
      throw error;
    }
    await out.close();
    return writer.bytesWritten;
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

  async stageChunk(
    ref: ChunkRef,
    body: Readable,
    placement?: ChunkPlacement,
  ): Promise<StagedChunk> {
    assertChunkRef(ref);
    if (this.#inPlace && placement) return this.#stageInPlace(ref, body, placement);
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

  async #stageInPlace(
    ref: ChunkRef,
    body: Readable,
    placement: ChunkPlacement,
  ): Promise<StagedChunk> {
    const { offset, length } = placement;
    if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0)
      throw new RangeError(`Invalid placement: ${offset}+${length}`);
    const id = `${ref.sessionId}/${ref.fileId}/${ref.index}`;
    // A client sends a chunk again when its connection dropped mid-body, often before this
    // process has seen the first request fail: wait a little for the first writer to let go.
    for (let busy = this.#writing.get(id); busy; busy = this.#writing.get(id)) {
      let timer: NodeJS.Timeout | undefined;
      const waited = await Promise.race([
        busy.then(() => true),
        new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), BUSY_WAIT_MS))),
      ]);
      clearTimeout(timer);
      if (!waited) throw new ChunkBusyError(ref);
    }
    let letGo!: () => void;
    const claim = new Promise<void>((resolve) => (letGo = resolve));
    this.#writing.set(id, claim);
    const release = () => {
      if (this.#writing.get(id) === claim) this.#writing.delete(id);
      letGo();
    };
    try {
      if ((await this.#placement(ref)) || (await exists(this.#chunkPath(ref)))) {
        // Stored already, and never written again: the caller compares the two digests.
        release();
        const hash = createHash('sha256');
        await pipeline(
          body,
          new Writable({
            write: (chunk: Buffer, _enc, done) => {
              hash.update(chunk);
              done();
            },
          }),
        );
        const digest = hash.digest();
        return {
          commit: async () => 'exists',
          discard: async () => {},
          digest: async () => digest,
        };
      }
      await this.#ensureDirs();
      const dir = this.#chunkDir(ref.sessionId, ref.fileId);
      await mkdir(dir, { recursive: true });
      // Read-write, created when missing, never truncated: other chunks may be there already.
      const dataPath = join(dir, DATA_NAME);
      const out = await open(dataPath, constants.O_RDWR | constants.O_CREAT);
      const { ino, size } = await out.stat();
      // Never past the chunk's own range: the next chunk's bytes may be there already.
      // Written and hashed on the writing thread, not the event loop.
      const writer = new FileWriter(out, offset, length, writingThread);
      // Open until the chunk is committed or dropped: its digest is read through it.
      let closing: Promise<void> | undefined;
      const close = () => (closing ??= out.close());
      try {
        // The file is made to reach this chunk's end first, by writing the range's last byte (the
        // body writes it again): the body's writes then land inside the file instead of moving
        // its end one write at a time, which took the kernel more time while other chunks of the
        // file were written beside them (bench/README.md, the GCS row).
        if (length > 0 && size < offset + length)
          await writeAll(out, ONE_BYTE, offset + length - 1);
        await pipeline(body, writer);
      } catch (error) {
        await close();
        throw error;
      }
      const written = writer.bytesWritten;
      let digest: Promise<Buffer> | undefined;
      // Ends the writer's job on its thread, which then lets go of its hash.
      const hashed = () => (digest ??= writer.digest());
      let committed: Promise<'created' | 'exists'> | undefined;
      return {
        digest: hashed,
        commit: () => {
          committed ??= (async () => {
            await hashed().catch(() => undefined);
            await close();
            // A delete while the body streamed removed `data`: the chunk must not reappear.
            const gone = async () => (await stat(dataPath).catch(() => undefined))?.ino !== ino;
            try {
              if (await gone()) throw new Error(`Chunk ${ref.index} was deleted while staged`);
              const result = await this.#placeMarker(ref, { offset, length: written });
              if (await gone()) {
                await unlinkIfExists(this.#markerPath(ref));
                throw new Error(`Chunk ${ref.index} was deleted while staged`);
              }
              return result;
            } finally {
              release();
            }
          })();
          return committed;
        },
        discard: async () => {
          if (!committed) {
            await hashed().catch(() => undefined);
            await close();
            release(); // its bytes in `data` are nobody's until written again
          }
          await committed?.catch(() => undefined);
        },
      };
    } catch (error) {
      release();
      throw error;
    }
  }

  /** Commits a chunk written in place: its marker, by symlink(), never over another. */
  async #placeMarker(ref: ChunkRef, placement: ChunkPlacement): Promise<'created' | 'exists'> {
    try {
      await symlink(`${placement.offset} ${placement.length}`, this.#markerPath(ref));
      return 'created';
    } catch (error) {
      if (errorCode(error) === 'EEXIST') return 'exists';
      // The folder is gone: the file was deleted while the body streamed.
      if (errorCode(error) === 'ENOENT')
        throw new Error(`Chunk ${ref.index} was deleted while staged`);
      throw error;
    }
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
    const indices = new Set<number>();
    for (const name of names) {
      const match = INDEX_NAME.exec(name);
      if (match) indices.add(Number(match[1]));
    }
    return [...indices].sort((a, b) => a - b);
  }

  readChunk(ref: ChunkRef): Readable {
    assertChunkRef(ref);
    if (this.#key) return this.#readFile(this.#chunkPath(ref));
    const chunkFile = this.#chunkPath(ref);
    const dataFile = join(this.#chunkDir(ref.sessionId, ref.fileId), DATA_NAME);
    const placement = () => this.#placement(ref);
    const read = (path: string, range?: ByteRange) => this.#readFile(path, range);
    return Readable.from(
      (async function* () {
        const placed = await placement();
        // Without a marker: the chunk's own file (the stream errors with ENOENT when missing).
        if (!placed) yield* read(chunkFile);
        else if (placed.length > 0) {
          yield* read(dataFile, { start: placed.offset, end: placed.offset + placed.length - 1 });
        }
      })(),
      { objectMode: false },
    );
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
    const placed = await this.#linkPlaced(sessionId, fileId, count, final, key);
    if (placed) return placed;
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
        const ref = { sessionId, fileId, index };
        const placed = await this.#placement(ref);
        const chunk = placed
          ? await open(join(this.#chunkDir(sessionId, fileId), DATA_NAME), 'r')
          : await open(this.#chunkPath(ref), 'r');
        try {
          let position = placed?.offset ?? null;
          let left = placed?.length ?? Number.POSITIVE_INFINITY;
          while (left > 0) {
            const { bytesRead } = await chunk.read(buffer, 0, Math.min(COPY_SIZE, left), position);
            if (bytesRead === 0) {
              if (placed) throw new Error(`Chunk ${index} is cut short in ${DATA_NAME}`);
              break;
            }
            await writeAll(out, buffer.subarray(0, bytesRead), size);
            size += bytesRead;
            left -= bytesRead;
            if (position !== null) position += bytesRead;
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

  /**
   * When every chunk was written in place and together they fill `data` exactly, links `data`
   * as the object. Undefined when they were not (the chunks are then copied).
   */
  async #linkPlaced(
    sessionId: string,
    fileId: string,
    count: number,
    final: string,
    key: string,
  ): Promise<{ size: number } | undefined> {
    if (this.#key || count === 0) return undefined;
    let size = 0;
    for (let index = 0; index < count; index++) {
      const placed = await this.#placement({ sessionId, fileId, index });
      if (placed?.offset !== size) return undefined;
      size += placed.length;
    }
    const data = join(this.#chunkDir(sessionId, fileId), DATA_NAME);
    if ((await stat(data)).size !== size) return undefined;
    const linked = await linkNoClobber(data, final).catch((error: unknown) => {
      if (NO_HARD_LINKS.has(errorCode(error) ?? '')) return 'unsupported' as const;
      throw error;
    });
    if (linked === 'exists') throw new ObjectExistsError(key);
    return linked === 'created' ? { size } : undefined;
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
