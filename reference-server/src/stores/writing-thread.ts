import { Worker } from 'node:worker_threads';

/**
 * The thread's code, inline so that every build (tsc, bundled, run from source) has it. Each
 * message writes one buffer at a place of an open file descriptor (threads of a process share
 * their descriptors) and adds it to its job's SHA-256; the buffer goes back to the sender for
 * reuse. Messages are handled in the order they were sent, so a job's bytes are hashed in order.
 * After a failed write, the job writes nothing more and reports that failure at its end.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const { writeSync } = require('node:fs');
const { createHash } = require('node:crypto');
const jobs = new Map();
const failure = (error) => ({ message: String((error && error.message) || error), code: error && error.code });
parentPort.on('message', (message) => {
  const { op, job: id } = message;
  let job = jobs.get(id);
  if (op === 'write') {
    if (!job) jobs.set(id, (job = { hash: createHash('sha256'), error: undefined }));
    const { buffer, length, fd, position } = message;
    if (!job.error) {
      try {
        const bytes = new Uint8Array(buffer, 0, length);
        for (let at = 0; at < length; ) {
          at += writeSync(fd, bytes, at, length - at, position + at);
        }
        job.hash.update(bytes);
      } catch (error) {
        job.error = failure(error);
      }
    }
    parentPort.postMessage({ op, id: message.id, buffer, error: job.error }, [buffer]);
  } else if (op === 'end') {
    jobs.delete(id);
    // A job this thread never wrote for (it was started again since) cannot have a digest here.
    const error = job ? job.error : { message: 'The writing thread lost this job' };
    const digest = error ? undefined : job.hash.digest();
    parentPort.postMessage({ op, id: message.id, digest, error });
  } else if (op === 'drop') {
    jobs.delete(id);
  }
});
`;

interface Pending {
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

interface Answer {
  id: number;
  buffer?: ArrayBuffer;
  digest?: Uint8Array;
  error?: { message: string; code?: string };
}

/** A failure reported by the thread, with the errno code of the write that failed. */
function threadError(error: { message: string; code?: string }): Error {
  return Object.assign(new Error(error.message), error.code ? { code: error.code } : {});
}

/**
 * Writes and hashes chunk bodies on a thread of their own. The event loop, which reads every
 * connection, only copies each body into reused buffers and hands them over: the writes into the
 * page cache, their wake-ups of the thread pool, and the SHA-256 all happen here, and the digest
 * comes from the bytes in memory instead of reading them back from the file.
 */
export class WritingThread {
  #worker: Worker | undefined;
  #pending = new Map<number, Pending>();
  #nextMessage = 0;
  #nextJob = 0;

  /** A new job: the writes of one body, hashed together. */
  job(): number {
    return this.#nextJob++;
  }

  /**
   * Writes `length` bytes of `buffer` at `position` of `fd` and adds them to the job's hash.
   * `buffer` must own its whole ArrayBuffer: it is moved to the thread and comes back once
   * written (also when the write failed), to be used again.
   */
  async write(
    job: number,
    fd: number,
    buffer: Buffer,
    length: number,
    position: number,
  ): Promise<{ buffer: Buffer; error?: Error }> {
    const answer = await this.#ask(
      { op: 'write', job, fd, position, length, buffer: buffer.buffer },
      [buffer.buffer as ArrayBuffer],
    );
    const back = Buffer.from(answer.buffer as ArrayBuffer);
    return answer.error ? { buffer: back, error: threadError(answer.error) } : { buffer: back };
  }

  /**
   * SHA-256 of everything the job wrote, once all its writes are done; rejects if one failed, or
   * if the job wrote nothing (there is nothing to hash on the thread).
   */
  async end(job: number): Promise<Buffer> {
    const answer = await this.#ask({ op: 'end', job });
    if (answer.error) throw threadError(answer.error);
    return Buffer.from(answer.digest as Uint8Array);
  }

  /** Forgets a job that will not be ended (its writer failed). */
  drop(job: number): void {
    this.#worker?.postMessage({ op: 'drop', job });
  }

  #ask(message: object, transfer: ArrayBuffer[] = []): Promise<Answer> {
    const id = this.#nextMessage++;
    return new Promise((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      const worker = this.#start();
      worker.ref(); // writes in progress keep the process up, like any other I/O
      worker.postMessage({ ...message, id }, transfer);
    });
  }

  #start(): Worker {
    if (this.#worker) return this.#worker;
    const worker = new Worker(WORKER_SOURCE, { eval: true });
    worker.unref();
    worker.on('message', (answer: Answer) => {
      const pending = this.#pending.get(answer.id);
      this.#pending.delete(answer.id);
      if (this.#pending.size === 0) worker.unref();
      pending?.resolve(answer);
    });
    const fail = (error: Error) => {
      if (this.#worker === worker) this.#worker = undefined;
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`The writing thread exited (code ${code})`)));
    this.#worker = worker;
    return worker;
  }
}

/** One writing thread per process, started on first use. */
export const writingThread = new WritingThread();
