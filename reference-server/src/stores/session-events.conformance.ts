import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { UploadEventType } from '@file-uploader/protocol';
import {
  EVENT_SCHEMA_VERSION,
  fileEventId,
  sessionCompletedId,
  type FileStatus,
} from '@file-uploader/protocol';
import type { NewEvent } from './session-events.js';
import type { SessionStore, StoredFile, StoredSession } from './session-store.js';
import { makeFile, makeSession } from './session-records.fixture.js';

/** A file event as the server would write it. */
function fileEvent(
  type: (typeof UploadEventType)['received' | 'ready' | 'rejected' | 'deleted'],
  file: StoredFile,
  status: FileStatus = file.status,
  occurredAt = new Date().toISOString(),
): NewEvent {
  const data = { fileId: file.id, name: file.name, size: file.size, status };
  const base = {
    id: fileEventId(type, file.id),
    version: EVENT_SCHEMA_VERSION,
    occurredAt,
    sessionId: file.sessionId,
    userId: file.userId,
  } as const;
  switch (type) {
    case 'upload.ready':
      return { ...base, type, data: { ...data, contentHash: 'ab'.repeat(32) } };
    case 'upload.rejected':
      return { ...base, type, data: { ...data, error: { code: 'type_mismatch', message: 'no' } } };
    default:
      return { ...base, type, data };
  }
}

/** The outbox part of SessionStore conformance (see session-store.ts). */
export function sessionEventsConformance(
  name: string,
  create: () => Promise<{ store: SessionStore; cleanup: () => Promise<void> }>,
): void {
  describe(`SessionStore events conformance: ${name}`, () => {
    let store: SessionStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await create());
    });

    afterEach(async () => {
      await cleanup();
    });

    async function seed(count: number): Promise<{ session: StoredSession; files: StoredFile[] }> {
      const session = makeSession();
      const files = Array.from({ length: count }, (_, i) => makeFile(session, { name: `f${i}` }));
      await store.createSession(session, files);
      return { session, files };
    }

    const types = async (sessionId: string) =>
      (await store.readEvents({ sessionId, limit: 100 })).map((event) => event.type);

    it('appends events with the transition that applies, and none when it does not', async () => {
      const { session, files } = await seed(2);
      const [a] = files as [StoredFile];
      const received = fileEvent('upload.received', a, 'assembling');
      assert.ok(
        await store.transitionFile(a.id, ['pending'], { status: 'assembling' }, [received]),
      );
      const lost = fileEvent('upload.ready', a, 'ready');
      assert.equal(
        await store.transitionFile(a.id, ['pending'], { status: 'ready' }, [lost]),
        undefined,
      );
      const events = await store.readEvents({ sessionId: session.id, limit: 10 });
      assert.equal(events.length, 1);
      const { seq, ...stored } = events[0]!;
      assert.equal(typeof seq, 'string');
      assert.deepEqual(stored, received);
    });

    it('drops an event whose id is already in the log', async () => {
      const { session, files } = await seed(2);
      const [a] = files as [StoredFile];
      const received = fileEvent('upload.received', a, 'uploading');
      await store.transitionFile(a.id, ['pending'], { status: 'uploading' }, [received]);
      await store.transitionFile(a.id, ['uploading'], { status: 'assembling' }, [received]);
      assert.deepEqual(await types(session.id), ['upload.received']);
    });

    it('completes a session once, when its last file ends, with every outcome', async () => {
      const { session, files } = await seed(3);
      const [a, b, c] = files as [StoredFile, StoredFile, StoredFile];
      await store.transitionFile(
        a.id,
        ['pending'],
        { status: 'ready', contentHash: 'cd'.repeat(32) },
        [fileEvent('upload.ready', a, 'ready')],
      );
      const error = { code: 'type_mismatch', message: 'The content is text.' } as const;
      await store.transitionFile(b.id, ['pending'], { status: 'rejected', error }, [
        fileEvent('upload.rejected', b, 'rejected'),
      ]);
      assert.deepEqual(await types(session.id), ['upload.ready', 'upload.rejected']);
      await store.transitionFile(c.id, ['pending'], { status: 'uploading' });
      assert.deepEqual(await types(session.id), ['upload.ready', 'upload.rejected']);
      await store.transitionFile(c.id, ['uploading'], { status: 'failed', error });
      await store.transitionFile(c.id, ['failed'], { status: 'failed' });
      const events = await store.readEvents({ sessionId: session.id, limit: 10 });
      assert.deepEqual(
        events.map((event) => event.type),
        ['upload.ready', 'upload.rejected', 'session.completed'],
      );
      const completed = events[2]!;
      assert.equal(completed.id, sessionCompletedId(session.id));
      assert.equal(completed.userId, session.userId);
      assert.ok(completed.type === 'session.completed');
      assert.deepEqual(
        completed.data.files.map((file) => [file.fileId, file.status, file.error?.code]),
        [
          [a.id, 'ready', undefined],
          [b.id, 'rejected', 'type_mismatch'],
          [c.id, 'failed', 'type_mismatch'],
        ],
      );
      assert.equal(completed.data.files[0]!.contentHash, 'cd'.repeat(32));
    });

    it('completes a session exactly once when its files end concurrently', async () => {
      const { session, files } = await seed(8);
      await Promise.all(
        files.map((file) =>
          store.transitionFile(file.id, ['pending'], { status: 'ready' }, [
            fileEvent('upload.ready', file, 'ready'),
          ]),
        ),
      );
      const all = await types(session.id);
      assert.equal(all.filter((type) => type === 'session.completed').length, 1);
      assert.equal(all.at(-1), 'session.completed');
      assert.equal(all.length, 9);
    });

    it('completes at creation when every file is already ready (duplicates)', async () => {
      const session = makeSession();
      const file = makeFile(session, { status: 'ready', duplicateOf: 'earlier' });
      await store.createSession(session, [file], [fileEvent('upload.ready', file)]);
      assert.deepEqual(await types(session.id), ['upload.ready', 'session.completed']);
    });

    it('deleting the last open file completes the session; a missing file appends nothing', async () => {
      const { session, files } = await seed(2);
      const [a, b] = files as [StoredFile, StoredFile];
      await store.transitionFile(a.id, ['pending'], { status: 'ready' });
      assert.equal(await store.deleteFile(b.id, [fileEvent('upload.deleted', b)]), true);
      assert.equal(await store.deleteFile(b.id, [fileEvent('upload.deleted', a)]), false);
      const events = await store.readEvents({ sessionId: session.id, limit: 10 });
      assert.deepEqual(
        events.map((event) => event.type),
        ['upload.deleted', 'session.completed'],
      );
      assert.equal(events[0]!.id, fileEventId('upload.deleted', b.id));
      const completed = events[1]!;
      assert.ok(completed.type === 'session.completed');
      assert.deepEqual(
        completed.data.files.map((file) => file.fileId),
        [a.id],
      );
    });

    it('reads in order, per session or across sessions, after a seq, up to a limit', async () => {
      const one = await seed(3);
      const two = await seed(1);
      for (const file of [...one.files, ...two.files]) {
        await store.transitionFile(file.id, ['pending'], { status: 'uploading' }, [
          fileEvent('upload.received', file, 'uploading'),
        ]);
      }
      const ofOne = await store.readEvents({ sessionId: one.session.id, limit: 10 });
      assert.deepEqual(
        ofOne.map((event) => event.type === 'upload.received' && event.data.fileId),
        one.files.map((file) => file.id),
      );
      const after = await store.readEvents({
        sessionId: one.session.id,
        after: ofOne[0]!.seq,
        limit: 1,
      });
      assert.deepEqual(
        after.map((event) => event.seq),
        [ofOne[1]!.seq],
      );
      const everything = await store.readEvents({ limit: 100 });
      const seqs = everything.map((event) => event.seq);
      assert.ok(seqs.length >= 4);
      assert.equal(new Set(seqs).size, seqs.length);
      const tail = await store.readEvents({ after: ofOne[2]!.seq, limit: 100 });
      assert.deepEqual(
        tail.map((event) => event.sessionId),
        [two.session.id],
      );
      assert.deepEqual(await store.readEvents({ after: tail[0]!.seq, limit: 100 }), []);
    });

    it('wakes a waiter when its session gets an event, and at the timeout otherwise', async () => {
      const { files } = await seed(1);
      const file = files[0]!;
      const other = await seed(1);
      let woken = false;
      const waiting = store.waitForEvents(file.sessionId, 60_000).then(() => (woken = true));
      await store.transitionFile(other.files[0]!.id, ['pending'], { status: 'uploading' }, [
        fileEvent('upload.received', other.files[0]!, 'uploading'),
      ]);
      await new Promise((resolve) => setImmediate(resolve));
      await store.transitionFile(file.id, ['pending'], { status: 'uploading' }, [
        fileEvent('upload.received', file, 'uploading'),
      ]);
      await waiting;
      assert.equal(woken, true);
      await store.waitForEvents(file.sessionId, 1); // resolves by itself
      const controller = new AbortController();
      const aborted = store.waitForEvents(undefined, 60_000, controller.signal);
      controller.abort();
      await aborted;
    });

    it('prunes events older than a time', async () => {
      const { session, files } = await seed(2);
      const [a, b] = files as [StoredFile, StoredFile];
      const old = new Date(Date.now() - 10 * 86_400_000).toISOString();
      await store.transitionFile(a.id, ['pending'], { status: 'uploading' }, [
        fileEvent('upload.received', a, 'uploading', old),
      ]);
      await store.transitionFile(b.id, ['pending'], { status: 'uploading' }, [
        fileEvent('upload.received', b, 'uploading'),
      ]);
      assert.equal(await store.pruneEvents(Date.now() - 86_400_000), 1);
      const left = await store.readEvents({ sessionId: session.id, limit: 10 });
      assert.deepEqual(
        left.map((event) => event.type === 'upload.received' && event.data.fileId),
        [b.id],
      );
    });
  });
}
