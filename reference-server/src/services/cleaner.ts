import type { Logger } from 'pino';
import { FINAL_STATUSES } from '@file-uploader/protocol';
import type { BlobStore } from '../stores/blob-store.js';
import type { SessionStore } from '../stores/session-store.js';
import type { Assembler } from './assembler.js';
import type { ScanRunner } from './scan-runner.js';

/**
 * Background upkeep: removes the chunks of expired sessions (their unfinished files end
 * `failed` with `session_expired`), and, more often, finishes assemblies and scans that a
 * crashed process (this one before a restart, or another instance) left half-done.
 */
export class Cleaner {
  #stopped = true;
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #running = new Set<Promise<void>>();

  constructor(
    private readonly deps: {
      sessions: SessionStore;
      blobs: BlobStore;
      assembler: Assembler;
      /** Resumes scans that a restart interrupted; absent when worker processes scan. */
      scans?: ScanRunner;
      log: Logger;
      intervalMs: number;
      /**
       * Period of the recovery pass alone. An assembly or scan is only taken over once its
       * holder's lock is free (a dead instance's lease ran out), so this bounds how long a file
       * waits beyond that.
       */
      recoveryIntervalMs: number;
      /** Events older than this are pruned. */
      eventRetentionMs: number;
      /** Staging objects older than this belong to expired sessions. */
      sessionTtlMs: number;
    },
  ) {}

  /** Runs the whole job now and every `intervalMs`; the recovery pass every `recoveryIntervalMs`. */
  start(): void {
    this.#stopped = false;
    this.#every(0, this.deps.intervalMs, 'cleanup', () => this.runOnce());
    const recovery = this.deps.recoveryIntervalMs;
    this.#every(recovery, recovery, 'recovery', () => this.recover());
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.all(this.#running);
  }

  /** Runs `job` after `delay`, then `interval` after each run ends (runs never overlap). */
  #every(delay: number, interval: number, name: string, job: () => Promise<unknown>): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      const run = job()
        .then(() => undefined)
        .catch((err: unknown) => this.deps.log.error({ err }, `${name} failed`))
        .finally(() => {
          this.#running.delete(run);
          if (!this.#stopped) this.#every(interval, interval, name, job);
        });
      this.#running.add(run);
    }, delay);
    timer.unref();
    this.#timers.add(timer);
  }

  /**
   * Takes up files whose processing stopped half-way: `assembling` files are assembled (the
   * assembler takes the file's lock, so one still being assembled elsewhere is left alone) and
   * `scanning` files are queued for this process's scanner (which takes a per-file lock too).
   */
  async recover(): Promise<void> {
    const { sessions, assembler } = this.deps;
    for (const file of await sessions.listFilesByStatus(['assembling'], 100)) {
      await assembler.assembleIfComplete(file.id);
    }
    if (this.deps.scans) {
      for (const file of await sessions.listFilesByStatus(['scanning'], 1000)) {
        this.deps.scans.enqueue(file.id);
      }
    }
  }

  /**
   * Stores with a staging area (GCS) may keep objects no record points at: a crash between
   * staging and commit, or a delete racing an upload. Anything there older than a session can
   * live belongs to an expired session and goes.
   */
  async #sweepStaging(now: number): Promise<void> {
    const { blobs, log } = this.deps;
    if (!blobs.listStagingOlderThan) return;
    const stale = await blobs.listStagingOlderThan(new Date(now - this.deps.sessionTtlMs));
    const files = new Map(stale.map((item) => [`${item.sessionId}/${item.fileId}`, item]));
    for (const { sessionId, fileId } of files.values()) {
      await blobs.deleteChunks(sessionId, fileId);
    }
    if (files.size > 0) log.info({ files: files.size }, 'stale staging objects removed');
  }

  /** One pass; returns how many sessions were cleaned. */
  async runOnce(now = Date.now()): Promise<number> {
    const { sessions, blobs, log } = this.deps;
    await this.recover();
    const pruned = await sessions.pruneEvents(now - this.deps.eventRetentionMs);
    if (pruned > 0) log.info({ events: pruned }, 'old events pruned');
    let cleaned = 0;
    for (;;) {
      const expired = await sessions.listExpiredSessions(now, 100);
      if (expired.length === 0) break;
      for (const session of expired) {
        for (const file of await sessions.listFiles(session.id)) {
          await sessions.deleteChunkDigests(file.id);
          if (FINAL_STATUSES.includes(file.status)) continue;
          await sessions.transitionFile(file.id, [file.status], {
            status: 'failed',
            error: {
              code: 'session_expired',
              message: 'The session expired before the file was complete.',
            },
          });
        }
        await blobs.deleteSessionChunks(session.id);
        await sessions.markSessionCleaned(session.id, now);
        cleaned++;
      }
    }
    if (cleaned > 0) log.info({ sessions: cleaned }, 'expired sessions cleaned');
    await this.#sweepStaging(now);
    return cleaned;
  }
}
