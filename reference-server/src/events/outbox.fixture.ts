import { UploadEventType, type UploadEvent } from '@file-uploader/protocol';
import { fileEvent } from '../services/file-events.js';
import type { SessionStore, StoredFile } from '../stores/session-store.js';
import { makeFile, makeSession } from '../stores/session-records.fixture.js';

/**
 * Writes real events to a store's outbox the way the server does: a session of `files` files,
 * each taken `pending -> assembling` (upload.received) and `assembling -> ready` (upload.ready)
 * by transitionFile; the last one also ends the session (session.completed). Returns the
 * events of the session as stored, in `seq` order (2 * files + 1 of them).
 */
export async function writeSessionEvents(
  store: SessionStore,
  files: number,
): Promise<UploadEvent[]> {
  const session = makeSession();
  const records = Array.from({ length: files }, (_, i) =>
    makeFile(session, { name: `file-${i}.pdf` }),
  );
  await store.createSession(session, records);
  for (const file of records) {
    const assembling: StoredFile = { ...file, status: 'assembling' };
    await store.transitionFile(file.id, ['pending'], { status: 'assembling' }, [
      fileEvent(UploadEventType.received, assembling),
    ]);
    const ready: StoredFile = { ...assembling, status: 'ready', contentHash: 'ab'.repeat(32) };
    const done = await store.transitionFile(
      file.id,
      ['assembling'],
      { status: 'ready', contentHash: ready.contentHash },
      [fileEvent(UploadEventType.ready, ready)],
    );
    if (!done) throw new Error(`transition of ${file.id} did not apply`);
  }
  const events = await store.readEvents({ sessionId: session.id, limit: 10_000 });
  if (events.length !== 2 * files + 1) throw new Error(`expected ${2 * files + 1} events`);
  return events;
}

/** Polls `check` until it is true. The test's own timeout bounds the wait. */
export async function until(check: () => boolean | Promise<boolean>, everyMs = 10): Promise<void> {
  while (!(await check())) await new Promise((resolve) => setTimeout(resolve, everyMs));
}
