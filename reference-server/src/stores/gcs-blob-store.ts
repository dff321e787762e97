/**
 * BlobStore on Google Cloud Storage.
 *
 * Layout in the bucket (prefixes configurable):
 *   staging/<sessionId>/<fileId>/<index, 8 digits>      committed chunks
 *   staging/<sessionId>/<fileId>/tmp/<index>.<random>   chunks being staged
 *   staging/<sessionId>/<fileId>/compose/<random>       intermediate composes of large files
 *   objects/<key>                                       final objects
 *
 * Every write carries `ifGenerationMatch: 0`, so nothing is ever overwritten: a chunk is staged
 * under a unique temp name and committed by a server-side copy to its index name, which GCS
 * refuses (412) when the index exists. Final objects are made by compose, checked against the
 * CRC32Cs of their parts. See docs/decisions/0009-gcs-blob-store.md.
 */
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { Storage, type Bucket, type File, type StorageOptions } from '@google-cloud/storage';
import { assertChunkRef, assertObjectKey, assertRange, assertSegment } from './blob-keys.js';
import type {
  BlobStore,
  ByteRange,
  ChunkRef,
  SignedDownloadOptions,
  StagedChunk,
} from './blob-store.js';
import { ObjectExistsError } from './blob-store.js';
import { attachmentDisposition } from './attachment-disposition.js';
import { crc32cFromBase64 } from './crc32c-combine.js';
import { composeTree, MAX_COMPONENTS, type ComposePart } from './gcs-compose.js';
import { forEachLimit, isStatus, notFoundError } from './gcs-errors.js';
import { copyNoClobber, readObjectStream, uploadNoClobber } from './gcs-object-io.js';

export interface GcsBlobStoreOptions {
  /** Bucket name. The bucket must exist; turn on object versioning to keep history. */
  bucket: string;
  /** A client, or options for one (`projectId`, `credentials`, `apiEndpoint`, ...). */
  storage?: Storage | StorageOptions;
  /** Prefix of chunks and other temporary objects; give it a lifecycle rule. Default `staging/`. */
  stagingPrefix?: string;
  /** Prefix of final objects. Default `objects/`. */
  objectPrefix?: string;
  /** Cloud KMS key (`projects/P/locations/L/keyRings/R/cryptoKeys/K`) for every object written. */
  kmsKeyName?: string;
  /** 32-byte AES-256 customer-supplied key for every object; GCS keeps only its hash. */
  encryptionKey?: Buffer;
  /** Parallel requests when deleting or fetching metadata. Default 8. */
  concurrency?: number;
}

/** A staging object, as the cleanup job sees it. */
export interface StagingObject {
  name: string;
  sessionId: string;
  fileId: string;
  timeCreated: Date;
  size: number;
}

const INDEX_WIDTH = 8;

function ensurePrefix(value: string, what: string): string {
  if (value === '') return value;
  if (!value.endsWith('/') || value.startsWith('/') || value.split('/').includes('..')) {
    throw new TypeError(`${what} must be '' or end with '/': ${JSON.stringify(value)}`);
  }
  return value;
}

export class GcsBlobStore implements BlobStore {
  readonly #bucket: Bucket;
  readonly #staging: string;
  readonly #objects: string;
  readonly #kmsKeyName: string | undefined;
  readonly #encryptionKey: Buffer | undefined;
  readonly #concurrency: number;

  constructor(options: GcsBlobStoreOptions) {
    if (options.encryptionKey && options.encryptionKey.length !== 32) {
      throw new RangeError(`Encryption key must be 32 bytes, got ${options.encryptionKey.length}`);
    }
    if (options.encryptionKey && options.kmsKeyName) {
      throw new TypeError('Give either kmsKeyName or encryptionKey, not both.');
    }
    this.#staging = ensurePrefix(options.stagingPrefix ?? 'staging/', 'stagingPrefix');
    this.#objects = ensurePrefix(options.objectPrefix ?? 'objects/', 'objectPrefix');
    if (this.#staging.startsWith(this.#objects) || this.#objects.startsWith(this.#staging)) {
      throw new TypeError('stagingPrefix and objectPrefix must not contain one another.');
    }
    const storage =
      options.storage instanceof Storage ? options.storage : new Storage(options.storage);
    this.#bucket = storage.bucket(options.bucket);
    this.#kmsKeyName = options.kmsKeyName;
    this.#encryptionKey = options.encryptionKey;
    this.#concurrency = options.concurrency ?? 8;
  }

  /** A handle with this store's encryption settings (and a pinned generation when given). */
  #file(name: string, generation?: number): File {
    return this.#bucket.file(name, {
      ...(this.#kmsKeyName ? { kmsKeyName: this.#kmsKeyName } : {}),
      ...(this.#encryptionKey ? { encryptionKey: this.#encryptionKey } : {}),
      ...(generation !== undefined ? { generation } : {}),
    });
  }

  #filePrefix(sessionId: string, fileId: string): string {
    return `${this.#staging}${sessionId}/${fileId}/`;
  }

  #chunkName(ref: ChunkRef): string {
    return `${this.#filePrefix(ref.sessionId, ref.fileId)}${String(ref.index).padStart(INDEX_WIDTH, '0')}`;
  }

  #objectName(key: string): string {
    assertObjectKey(key);
    return `${this.#objects}${key}`;
  }

  async stageChunk(ref: ChunkRef, body: Readable): Promise<StagedChunk> {
    assertChunkRef(ref);
    const prefix = this.#filePrefix(ref.sessionId, ref.fileId);
    const temp = `${prefix}tmp/${ref.index}.${randomBytes(12).toString('hex')}`;
    await uploadNoClobber(this.#file(temp), body, false); // a unique name: never 'exists'
    let committed: Promise<'created' | 'exists'> | undefined;
    let discarded = false;
    let removed = false; // spares discard-after-commit a request
    return {
      commit: () => {
        if (discarded) return Promise.reject(new Error('Staged chunk was discarded'));
        committed ??= (async () => {
          const outcome = await copyNoClobber(this.#file(temp), this.#file(this.#chunkName(ref)));
          await this.#delete(temp);
          removed = true;
          return outcome;
        })();
        return committed;
      },
      discard: async () => {
        discarded = true;
        await committed?.catch(() => undefined); // do not delete the source under the copy
        if (!removed) await this.#delete(temp);
      },
    };
  }

  async #delete(name: string): Promise<void> {
    await this.#bucket.file(name).delete({ ignoreNotFound: true });
  }

  /** Committed chunks with the metadata compose needs, by index. */
  async #chunkFiles(sessionId: string, fileId: string): Promise<Map<number, File>> {
    const prefix = this.#filePrefix(sessionId, fileId);
    const [files] = await this.#bucket.getFiles({ prefix, delimiter: '/', autoPaginate: true });
    const chunks = new Map<number, File>();
    for (const file of files) {
      const rest = file.name.slice(prefix.length);
      if (/^\d+$/.test(rest)) chunks.set(Number(rest), file);
    }
    return chunks;
  }

  async listChunks(sessionId: string, fileId: string): Promise<number[]> {
    assertSegment(sessionId, 'session id');
    assertSegment(fileId, 'file id');
    const chunks = await this.#chunkFiles(sessionId, fileId);
    return [...chunks.keys()].sort((a, b) => a - b);
  }

  readChunk(ref: ChunkRef): Readable {
    assertChunkRef(ref);
    return this.#read(this.#chunkName(ref));
  }

  #read(name: string, range?: ByteRange): Readable {
    if (range) assertRange(range);
    return readObjectStream(this.#file(name), range);
  }

  async #deletePrefix(prefix: string): Promise<void> {
    const [files] = await this.#bucket.getFiles({ prefix, autoPaginate: true });
    await forEachLimit(files, this.#concurrency, (file) => this.#delete(file.name));
  }

  async deleteChunks(sessionId: string, fileId: string): Promise<void> {
    assertSegment(sessionId, 'session id');
    assertSegment(fileId, 'file id');
    await this.#deletePrefix(this.#filePrefix(sessionId, fileId));
  }

  async deleteSessionChunks(sessionId: string): Promise<void> {
    assertSegment(sessionId, 'session id');
    await this.#deletePrefix(`${this.#staging}${sessionId}/`);
  }

  async writeObject(key: string, source: Readable): Promise<{ size: number }> {
    const name = this.#objectName(key);
    const { outcome, size } = await uploadNoClobber(this.#file(name), source, true);
    if (outcome === 'exists') throw new ObjectExistsError(key);
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
    const name = this.#objectName(key);
    if (count === 0) return this.writeObject(key, Readable.from([]));
    const chunks = await this.#chunkFiles(sessionId, fileId);
    const files: File[] = [];
    for (let index = 0; index < count; index++) {
      const file = chunks.get(index);
      if (!file) throw notFoundError(`Chunk ${index} of file ${fileId} is missing`);
      files.push(file);
    }
    // A composite object has at most 1,024 components; beyond, the bytes go through here.
    if (count > MAX_COMPONENTS) return this.writeObject(key, this.#readAll(files));
    const parts = await this.#composeParts(files);
    const result = await composeTree({
      parts,
      target: name,
      file: (object, generation) => this.#file(object, generation),
      bucket: this.#bucket,
      tempName: () =>
        `${this.#filePrefix(sessionId, fileId)}compose/${randomBytes(12).toString('hex')}`,
      kmsKeyName: this.#kmsKeyName,
      remove: (object) => this.#delete(object),
    });
    if (result === 'exists') throw new ObjectExistsError(key);
    return { size: result.size };
  }

  /**
   * Name, generation, size and CRC32C of each chunk. Listings carry them, except for objects
   * under a customer-supplied key: GCS reveals their checksums only to requests with the key.
   */
  async #composeParts(files: File[]): Promise<ComposePart[]> {
    const parts: ComposePart[] = new Array(files.length);
    await forEachLimit(files.entries(), this.#concurrency, async ([i, listed]) => {
      let { metadata } = listed;
      if (metadata.crc32c === undefined) {
        [metadata] = await this.#file(listed.name, Number(metadata.generation)).getMetadata();
      }
      if (metadata.crc32c === undefined) throw new Error(`No CRC32C for ${listed.name}`);
      parts[i] = {
        name: listed.name,
        generation: Number(metadata.generation),
        size: Number(metadata.size),
        crc32c: crc32cFromBase64(metadata.crc32c),
      };
    });
    return parts;
  }

  /** The chunks one after another, each read (and CRC32C-checked) in turn. */
  #readAll(files: readonly File[]): Readable {
    const read = (name: string) => this.#read(name);
    return Readable.from(
      (async function* () {
        for (const file of files) yield* read(file.name);
      })(),
    );
  }

  async copyObject(sourceKey: string, targetKey: string): Promise<void> {
    const from = this.#objectName(sourceKey);
    const to = this.#objectName(targetKey);
    if ((await copyNoClobber(this.#file(from), this.#file(to))) === 'exists')
      throw new ObjectExistsError(targetKey);
  }

  readObject(key: string, range?: ByteRange): Readable {
    return this.#read(this.#objectName(key), range);
  }

  async statObject(key: string): Promise<{ size: number } | undefined> {
    const name = this.#objectName(key);
    try {
      const [metadata] = await this.#file(name).getMetadata();
      return { size: Number(metadata.size) };
    } catch (error) {
      if (isStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async deleteObject(key: string): Promise<void> {
    await this.#delete(this.#objectName(key));
  }

  /**
   * A V4 signed URL that downloads the object as an attachment named `filename`. GCS needs the
   * key of a customer-encrypted object in request headers, which a plain link cannot carry, so
   * a store with `encryptionKey` has none (undefined); use Cloud KMS keys for objects served by URL.
   */
  async signedDownloadUrl(
    key: string,
    options: SignedDownloadOptions,
  ): Promise<string | undefined> {
    if (this.#encryptionKey) return undefined;
    const seconds = options.expiresInSeconds ?? 300;
    if (!Number.isInteger(seconds) || seconds < 1 || seconds > 7 * 24 * 3600) {
      throw new RangeError(`expiresInSeconds must be 1..604800, got ${seconds}`);
    }
    const [url] = await this.#bucket.file(this.#objectName(key)).getSignedUrl({
      version: 'v4',
      action: 'read',
      expires: Date.now() + seconds * 1000,
      responseDisposition: attachmentDisposition(options.filename),
      ...(options.contentType ? { responseType: options.contentType } : {}),
    });
    return url;
  }

  /**
   * Staging objects created before `cutoff`: chunks and temporaries of sessions that ended
   * without cleanup (an instance killed mid-upload). The cleanup job removes them by session.
   */
  async listStagingOlderThan(cutoff: Date): Promise<StagingObject[]> {
    const [files] = await this.#bucket.getFiles({ prefix: this.#staging, autoPaginate: true });
    const stale: StagingObject[] = [];
    for (const file of files) {
      const created = new Date(String(file.metadata.timeCreated));
      const [sessionId, fileId] = file.name.slice(this.#staging.length).split('/');
      if (!sessionId || !fileId || !(created < cutoff)) continue;
      stale.push({
        name: file.name,
        sessionId,
        fileId,
        timeCreated: created,
        size: Number(file.metadata.size),
      });
    }
    return stale;
  }

  async close(): Promise<void> {
    // The client holds no connections that need closing.
  }
}
