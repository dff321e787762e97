import { EventEmitter } from 'node:events';
import {
  EVENT_SCHEMA_VERSION,
  FINAL_STATUSES,
  UploadEventType,
  sessionCompletedId,
  type SessionFileOutcome,
  type UploadEvent,
} from '@file-uploader/protocol';
import type { StoredFile, StoredSession } from './session-store.js';

/** An event before the store has given it its place in the stream (`seq`). */
export type NewEvent = UploadEvent extends infer E
  ? E extends UploadEvent
    ? Omit<E, 'seq'>
    : never
  : never;

/** What `session.completed` reports of one file. */
export function fileOutcome(file: StoredFile): SessionFileOutcome {
  return {
    fileId: file.id,
    name: file.name,
    size: file.size,
    status: file.status,
    ...(file.error ? { error: file.error } : {}),
    ...(file.contentHash ? { contentHash: file.contentHash } : {}),
    ...(file.fileType ? { fileType: file.fileType } : {}),
  };
}

/**
 * `session.completed` when every remaining file of the session has ended, else undefined.
 * Stores call it inside the write that ended the last file; its fixed id makes it appear once.
 */
export function sessionCompletedEvent(
  session: Pick<StoredSession, 'id' | 'userId'>,
  files: readonly StoredFile[],
  now = Date.now(),
): NewEvent | undefined {
  if (!files.every((file) => FINAL_STATUSES.includes(file.status))) return undefined;
  return {
    id: sessionCompletedId(session.id),
    type: UploadEventType.sessionCompleted,
    version: EVENT_SCHEMA_VERSION,
    occurredAt: new Date(now).toISOString(),
    sessionId: session.id,
    userId: session.userId,
    data: { files: files.map(fileOutcome) },
  };
}

/**
 * Wakes readers waiting for events of a session when this process appends some. Stores that
 * other processes also write (SQLite in WAL mode) are polled as well, by the timeout.
 */
export class EventWaiters {
  readonly #emitter = new EventEmitter().setMaxListeners(0);

  notify(sessionIds: Iterable<string>): void {
    for (const id of new Set(sessionIds)) this.#emitter.emit(id);
    this.#emitter.emit('*');
  }

  wait(sessionId: string | undefined, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const channel = sessionId ?? '*';
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#emitter.off(channel, done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#emitter.on(channel, done);
      signal?.addEventListener('abort', done, { once: true });
      if (signal?.aborted) done();
    });
  }
}
