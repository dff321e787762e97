import type { Logger } from 'pino';
import { FINAL_STATUSES } from '@file-uploader/protocol';
import type { BlobStore } from '../stores/blob-store.js';
import type { SessionStore } from '../stores/session-store.js';
import type { Assembler } from './assembler.js';
import type { ScanRunner } from './scan-runner.js';

/**
 * Background upkeep: removes the chunks of expired sessions (their unfinished files end
 * `failed` with `session_expired`), and finishes assemblies a crash interrupted.
 */
export class Cleaner {
  #timer?: NodeJS.Timeout;
  #running?: Promise<void>;

  constructor(
    private readonly deps: {
      sessions: SessionStore;
      blobs: BlobStore;
      assembler: Assembler;
      /** Resumes scans that a restart interrupted; absent when worker processes scan. */
      scans?: ScanRunner;
      log: Logger;
      intervalMs: number;
      /** Events older than this are pruned. */
      eventRetentionMs: number;
      /** Staging objects older than this belong to expired sessions. */
      sessionTtlMs: number;
    },
  ) {}

  /** Runs once now, then every interval. */
  start(): void {
    this.#schedule(0);
  }

  async stop(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  #schedule(delay: number): void {
    this.#timer = setTimeout(() => {
      this.#running = this.runOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.deps.log.error({ err }, 'cleanup failed'))
        .finally(() => {
          if (this.#timer) this.#schedule(this.deps.intervalMs);
        });
    }, delay);
    this.#timer.unref();
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
    const { sessions, blobs, assembler, log } = this.deps;
    for (const file of await sessions.listFilesByStatus(['assembling'], 100)) {
      await assembler.assembleIfComplete(file.id);
    }
    if (this.deps.scans) {
      for (const file of await sessions.listFilesByStatus(['scanning'], 1000)) {
        this.deps.scans.enqueue(file.id);
      }
    }
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
