/**
 * `@file-uploader/sdk/node`: the SDK plus what Node needs to feed it — files from paths,
 * buffers and streams (read lazily from disk, never whole into memory), and resume records
 * kept in a directory.
 */
import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream, openAsBlob, rmSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, rename, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FILE_TYPES, extensionOf } from '@file-uploader/protocol';
import type { ChunkSender } from './chunk-sender.js';
import { FileHasher, type OpenedFile } from './file-hasher.js';
import { fromFile, readBlobWith, type BlobReader } from './hashing.js';
import { httpChunkSender } from './http-chunk-sender.js';
import type { ResumeRecord, ResumeStore } from './resume-store.js';
import type { UploadSource } from './upload.js';
import {
  createUploader as createBaseUploader,
  type Uploader,
  type UploaderOptions,
} from './uploader.js';

export * from './index.js';
// Where the routes live, for commands that take a server's address.
export { API_PREFIX, SERVICE_ROUTES } from '@file-uploader/protocol';
export { httpChunkSender } from './http-chunk-sender.js';
export type { HttpChunkSenderOptions } from './http-chunk-sender.js';

let defaultSender: ChunkSender | undefined;

/**
 * Creates an uploader whose chunks go out on node:http(s) (keep-alive connections, upload
 * progress, a stall timer that restarts whenever bytes move). Given its own `fetch` (and no
 * `sendChunk`), the uploader sends chunks with that fetch instead.
 */
export function createUploader(options: UploaderOptions): Uploader {
  if (options.sendChunk || options.fetch) return createBaseUploader(options);
  defaultSender ??= httpChunkSender();
  return createBaseUploader({ ...options, sendChunk: defaultSender });
}

/** Buffers a reader keeps for reuse: enough for the chunks in flight and the hashing ahead. */
const SPARE_BUFFERS = 8;

/**
 * Files larger than this are hashed on the hashing thread; smaller ones on the event loop with
 * Web Crypto, which is sooner than a thread's start for a few blocks.
 */
const THREAD_HASHING_FROM = 16 * 1024 * 1024;

let fileHasher: FileHasher | undefined;

/**
 * Reads ranges of a file with one positioned read each: several times less CPU than reading
 * slices of `fs.openAsBlob`'s Blob, which copies through small pieces. Like that Blob, it
 * refuses a file whose size or modification time changed since it was opened. Buffers handed
 * back are read into again: a fresh 4 MiB buffer per chunk costs page faults and garbage
 * collections that took about a fifth of the client's CPU time.
 */
function fileReader(filePath: string, opened: { size: bigint; mtimeNs: bigint }): BlobReader {
  const spare: Buffer[] = [];
  const file: OpenedFile = { path: filePath, size: opened.size, mtimeNs: opened.mtimeNs };
  const threaded =
    opened.size > THREAD_HASHING_FROM
      ? {
          sha256: (start: number, end: number) =>
            fromFile(() => (fileHasher ??= new FileHasher()).sha256(file, start, end)),
        }
      : {};
  return {
    ...threaded,
    async read(start, end) {
      const handle = await open(filePath, 'r');
      try {
        const now = await handle.stat({ bigint: true });
        if (now.size !== opened.size || now.mtimeNs !== opened.mtimeNs) {
          throw new Error(`${filePath} changed since it was opened`);
        }
        const length = end - start;
        const at = spare.findIndex((buffer) => buffer.length === length);
        const bytes = at >= 0 ? spare.splice(at, 1)[0]! : Buffer.allocUnsafe(length);
        let done = 0;
        while (done < bytes.length) {
          const { bytesRead } = await handle.read(bytes, done, bytes.length - done, start + done);
          if (bytesRead === 0) throw new Error(`${filePath} ended before byte ${start + done}`);
          done += bytesRead;
        }
        return bytes;
      } finally {
        await handle.close();
      }
    },
    release(bytes) {
      // Only whole buffers of this reader's making; a view into a shared pool stays put.
      if (
        !Buffer.isBuffer(bytes) ||
        bytes.byteOffset !== 0 ||
        bytes.buffer.byteLength !== bytes.length
      )
        return;
      if (spare.length < SPARE_BUFFERS && !spare.includes(bytes)) spare.push(bytes);
    },
  };
}

/** MIME type of a file name from the protocol's known types; `application/octet-stream` else. */
export function guessType(name: string): string {
  const ext = extensionOf(name);
  if (!ext) return 'application/octet-stream';
  for (const known of Object.values(FILE_TYPES)) {
    if ((known.extensions as readonly string[]).includes(ext)) return known.mime;
  }
  return 'application/octet-stream';
}

/**
 * A file on disk as an upload source. The bytes are read from disk when sent (`fs.openAsBlob`);
 * a file that changes meanwhile fails to read, and the upload fails with `file_changed`.
 */
export async function fileFromPath(
  filePath: string,
  opts: { name?: string; type?: string } = {},
): Promise<UploadSource> {
  const name = opts.name ?? path.basename(filePath);
  const type = opts.type ?? guessType(name);
  const info = await stat(filePath, { bigint: true }); // exact ms; mtimeMs is a rounded float
  if (!info.isFile()) throw new TypeError(`Not a file: ${filePath}`);
  const blob = await openAsBlob(filePath, { type });
  readBlobWith(blob, fileReader(filePath, info));
  return { blob, name, type, lastModified: Number(info.mtimeNs / 1_000_000n) };
}

/** Bytes in memory as an upload source. */
export function fileFromBuffer(
  buf: Uint8Array | ArrayBuffer,
  name: string,
  type?: string,
): UploadSource {
  const mime = type ?? guessType(name);
  const bytes = buf instanceof Uint8Array ? buf : new Uint8Array(buf);
  return { blob: new Blob([bytes as Uint8Array<ArrayBuffer>], { type: mime }), name, type: mime };
}

/** An upload source spooled from a stream; `dispose()` removes its temporary file. */
export interface DisposableUploadSource extends UploadSource {
  /** Removes the temporary file (else it goes when the process exits). */
  dispose(): Promise<void>;
}

const spooled = new Set<string>();
let exitHookInstalled = false;

function removeSpooledSync(): void {
  for (const dir of spooled) rmSync(dir, { recursive: true, force: true });
  spooled.clear();
}

/**
 * A stream as an upload source: it is written to a temporary file in `os.tmpdir()` first (an
 * upload needs a size up front and reads chunks again on retries), then read from there.
 */
export async function fileFromStream(
  readable: Readable | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>,
  name: string,
  type?: string,
): Promise<DisposableUploadSource> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', removeSpooledSync);
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'file-uploader-'));
  spooled.add(dir);
  const dispose = async () => {
    spooled.delete(dir);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const file = path.join(dir, 'spool');
    await pipeline(readable as AsyncIterable<Uint8Array>, createWriteStream(file, { flags: 'wx' }));
    const mime = type ?? guessType(name);
    const blob = await openAsBlob(file, { type: mime });
    readBlobWith(blob, fileReader(file, await stat(file, { bigint: true })));
    return { blob, name, type: mime, dispose };
  } catch (err) {
    await dispose();
    throw err;
  }
}

function isNotFound(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * Resume records as JSON files in a directory (one per record, written atomically), so a
 * process that restarts continues its uploads. Bytes are not kept: resume with the same file.
 */
export class FileResumeStore implements ResumeStore {
  constructor(readonly directory: string) {}

  #file(key: string): string {
    return path.join(this.directory, `${createHash('sha256').update(key).digest('hex')}.json`);
  }

  async #read(file: string): Promise<ResumeRecord | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
    try {
      const record = JSON.parse(text) as ResumeRecord;
      return typeof record?.key === 'string' ? record : undefined;
    } catch {
      return undefined; // Not ours, or damaged: as good as absent.
    }
  }

  async get(key: string): Promise<ResumeRecord | undefined> {
    const record = await this.#read(this.#file(key));
    return record?.key === key ? record : undefined;
  }

  /** Writes to a temporary file, flushes it, then renames it over the record. */
  async set(record: ResumeRecord): Promise<void> {
    await mkdir(this.directory, { recursive: true });
    const file = this.#file(record.key);
    const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    try {
      const handle = await open(temp, 'wx');
      try {
        await handle.writeFile(JSON.stringify(record), 'utf8');
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, file);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.#file(key), { force: true });
  }

  async list(): Promise<ResumeRecord[]> {
    let names: string[];
    try {
      names = await readdir(this.directory);
    } catch (err) {
      if (isNotFound(err)) return [];
      throw err;
    }
    const records = await Promise.all(
      names.filter((n) => n.endsWith('.json')).map((n) => this.#read(path.join(this.directory, n))),
    );
    return records.filter((r): r is ResumeRecord => r !== undefined);
  }
}
