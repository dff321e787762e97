import { Worker } from 'node:worker_threads';

/**
 * The thread's code, inline so that every build (tsc, bundled, run from source) has it. It opens
 * the file itself, refuses one whose size or modification time changed, reads the range through
 * one 1 MiB buffer and answers with its SHA-256.
 */
const THREAD_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { closeSync, fstatSync, openSync, readSync } = require('node:fs');
const { createHash } = require('node:crypto');
const buffer = Buffer.allocUnsafe(1024 * 1024);
parentPort.on('message', ({ id, path, size, mtimeNs, start, end }) => {
  let fd;
  try {
    fd = openSync(path, 'r');
    const now = fstatSync(fd, { bigint: true });
    if (now.size !== size || now.mtimeNs !== mtimeNs) throw new Error(path + ' changed since it was opened');
    const hash = createHash('sha256');
    for (let at = start; at < end; ) {
      const read = readSync(fd, buffer, 0, Math.min(buffer.length, end - at), at);
      if (read === 0) throw new Error(path + ' ended before byte ' + at);
      hash.update(buffer.subarray(0, read));
      at += read;
    }
    parentPort.postMessage({ id, digest: hash.digest() });
  } catch (error) {
    parentPort.postMessage({ id, error: String((error && error.message) || error) });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
});
`;

/** A file as it was when opened: a hash of it fails if it changed since. */
export interface OpenedFile {
  path: string;
  size: bigint;
  mtimeNs: bigint;
}

interface Pending {
  resolve: (digest: Uint8Array) => void;
  reject: (error: Error) => void;
}

/**
 * SHA-256 of ranges of files on disk, read and hashed on a thread of its own. Hashing where the
 * bytes are read saves the event loop, per 4 MiB block, the calls that open, check, read and
 * close the file and the copy Web Crypto makes of what it hashes: together more of an upload's
 * main-thread time than sending the chunks. The thread starts on first use and does not keep the
 * process alive while idle.
 */
export class FileHasher {
  #thread: Worker | undefined;
  #pending = new Map<number, Pending>();
  #next = 0;

  /** SHA-256 of bytes `[start, end)` of `file`; fails if the file changed since it was opened. */
  sha256(file: OpenedFile, start: number, end: number): Promise<Uint8Array> {
    const id = this.#next++;
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const thread = this.#start();
      thread.ref(); // a hash under way keeps the process up, like any other I/O
      thread.postMessage({ id, ...file, start, end });
    });
  }

  #start(): Worker {
    if (this.#thread) return this.#thread;
    const thread = new Worker(THREAD_SOURCE, { eval: true });
    thread.unref();
    thread.on('message', (message: { id: number; digest?: Uint8Array; error?: string }) => {
      const pending = this.#pending.get(message.id);
      this.#pending.delete(message.id);
      if (this.#pending.size === 0) thread.unref();
      if (!pending) return;
      if (message.digest) pending.resolve(new Uint8Array(message.digest));
      else pending.reject(new Error(message.error));
    });
    const fail = (error: Error) => {
      if (this.#thread === thread) this.#thread = undefined;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    thread.on('error', fail);
    thread.on('exit', (code) => fail(new Error(`The hashing thread exited (code ${code})`)));
    this.#thread = thread;
    return thread;
  }
}
