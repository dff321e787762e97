import type { Logger } from 'pino';
import type { FileError, ScanOutcome } from '@file-uploader/protocol';
import { scanWithRetry } from '../scan/scan-with-retry.js';
import type { Scanner } from '../scan/scanner.js';
import { ObjectExistsError, type BlobStore } from '../stores/blob-store.js';
import type { Locker } from '../stores/locker.js';
import type { SessionStore, StoredFile } from '../stores/session-store.js';
import { fileEvent } from './file-events.js';

/** Infected files are moved under this prefix; user segments cannot start with a dot. */
export const QUARANTINE_PREFIX = '.quarantine/';

/**
 * A scan lock is held past the file's deadline by this much: the last attempt may start just
 * before the deadline and run up to the scanner's own bound on one scan (15 minutes).
 */
const LOCK_MARGIN_MS = 16 * 60_000;

/**
 * Scans assembled files (status `scanning`) and settles them: `ready` when clean; `rejected`
 * (`infected`, object moved to quarantine, never downloadable) when malware is found; `failed`
 * (`scan_failed`) when no scan succeeded by the deadline. Fails closed: nothing but a clean
 * verdict releases a file. A shutdown leaves files `scanning` for the next start to resume.
 *
 * Each scan holds the lock `scan:<fileId>`, so processes sharing a Locker (Redis) never scan one
 * file at once: a file whose lock is held elsewhere is skipped, and found again by whoever feeds
 * this runner once the holder settled it or died (its lease ran out).
 */
export class ScanRunner {
  readonly #queued = new Set<string>();
  readonly #running = new Map<string, Promise<void>>();
  readonly #stopping = new AbortController();

  constructor(
    private readonly deps: {
      sessions: SessionStore;
      blobs: BlobStore;
      scanner: Scanner;
      /** Takes the per-file scan lock. */
      locker: Locker;
      log: Logger;
      /** A file unscanned this long after it entered `scanning` fails. */
      deadlineMs: number;
      concurrency: number;
    },
  ) {}

  /** Files waiting or being scanned by this process. */
  get pending(): number {
    return this.#queued.size + this.#running.size;
  }

  /** Schedules a scan of the file unless this process already has it. */
  enqueue(fileId: string): void {
    if (this.#stopping.signal.aborted) return;
    if (this.#queued.has(fileId) || this.#running.has(fileId)) return;
    this.#queued.add(fileId);
    this.#pump();
  }

  /** Aborts running scans (their files stay `scanning`) and waits for them to wind down. */
  async stop(): Promise<void> {
    this.#stopping.abort();
    this.#queued.clear();
    await Promise.allSettled(this.#running.values());
  }

  #pump(): void {
    while (this.#running.size < this.deps.concurrency && this.#queued.size > 0) {
      const fileId = this.#queued.values().next().value as string;
      this.#queued.delete(fileId);
      const run = this.#scan(fileId)
        .catch((err: unknown) => this.deps.log.error({ err, fileId }, 'scan failed to settle'))
        .finally(() => {
          this.#running.delete(fileId);
          this.#pump();
        });
      this.#running.set(fileId, run);
    }
  }

  async #scan(fileId: string): Promise<void> {
    const { locker, log } = this.deps;
    const lock = await locker.tryAcquire(`scan:${fileId}`, this.deps.deadlineMs + LOCK_MARGIN_MS);
    if (!lock) {
      log.debug({ fileId }, 'scan skipped: another process holds the file');
      return;
    }
    try {
      await this.#scanLocked(fileId);
    } finally {
      await lock.release();
    }
  }

  async #scanLocked(fileId: string): Promise<void> {
    const { sessions, blobs, scanner, log } = this.deps;
    // Read under the lock: a holder that just finished has settled the file by now.
    const file = await sessions.getFile(fileId);
    if (!file || file.status !== 'scanning' || !file.objectKey) return;
    log.info({ fileId }, 'scan started');
    const key = file.objectKey;
    // A file deleted (or settled elsewhere) while its scan waits to retry stops being scanned.
    const gone = new AbortController();
    const signal = AbortSignal.any([this.#stopping.signal, gone.signal]);
    const outcome = await scanWithRetry(scanner, {
      open: async () => {
        if ((await sessions.getFile(fileId))?.status !== 'scanning') {
          gone.abort();
          throw new Error('The file is no longer waiting for a scan.');
        }
        return blobs.readObject(key);
      },
      deadline: file.updatedAt + this.deps.deadlineMs,
      signal,
      onRetry: ({ error, attempt, delayMs }) =>
        log.warn({ fileId, attempt, delayMs, kind: error.kind, err: error }, 'scan retry'),
    });
    if (!outcome.ok) {
      if (outcome.error.kind === 'aborted') return;
      const error: FileError = {
        code: 'scan_failed',
        message: `The file could not be scanned: ${outcome.error.message}`,
      };
      log.error({ fileId, kind: outcome.error.kind, attempts: outcome.attempts }, 'scan gave up');
      await sessions.transitionFile(fileId, ['scanning'], { status: 'failed', error });
      return;
    }
    if (outcome.result.verdict === 'clean') {
      const scan: ScanOutcome = { result: 'clean' };
      const ready: StoredFile = { ...file, status: 'ready', scan };
      await sessions.transitionFile(fileId, ['scanning'], { status: 'ready', scan }, [
        fileEvent('upload.scanned', ready, scan),
        fileEvent('upload.ready', ready),
      ]);
      log.info({ fileId }, 'file scanned clean');
      return;
    }
    await this.#quarantine(file, key, outcome.result.signature);
  }

  /** Copy to quarantine first, then settle, then drop the original: a crash repeats safely. */
  async #quarantine(file: StoredFile, key: string, signature: string): Promise<void> {
    const { sessions, blobs, log } = this.deps;
    try {
      await blobs.copyObject(key, QUARANTINE_PREFIX + key);
    } catch (err) {
      if (!(err instanceof ObjectExistsError)) throw err;
    }
    const scan: ScanOutcome = { result: 'infected', signature };
    const error: FileError = { code: 'infected', message: `Malware found: ${signature}.` };
    const rejected: StoredFile = { ...file, status: 'rejected', scan, error };
    delete rejected.objectKey;
    const settled = await sessions.transitionFile(
      file.id,
      ['scanning'],
      { status: 'rejected', scan, error, objectKey: undefined },
      [fileEvent('upload.scanned', rejected, scan), fileEvent('upload.rejected', rejected)],
    );
    if (settled) await blobs.deleteObject(key);
    log.warn({ fileId: file.id, signature, quarantined: QUARANTINE_PREFIX + key }, 'file infected');
  }
}
