import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { FileStatus } from '@file-uploader/protocol';
import type { SessionStore, StoredFile, StoredSession } from './session-store.js';
import { sessionEventsConformance } from './session-events.conformance.js';
import { makeFile, makeSession } from './session-records.fixture.js';

/**
 * The behaviour every SessionStore must have. `create` must return an empty store; it runs
 * before each test and `cleanup` after it.
 */
export function sessionStoreConformance(
  name: string,
  create: () => Promise<{ store: SessionStore; cleanup: () => Promise<void> }>,
): void {
  describe(`SessionStore conformance: ${name}`, () => {
    let store: SessionStore;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ store, cleanup } = await create());
    });

    afterEach(async () => {
      await cleanup();
    });

    /** Stores a session with `count` minimal pending files. */
    async function seed(
      count: number,
      overrides: Partial<StoredSession> = {},
    ): Promise<{ session: StoredSession; files: StoredFile[] }> {
      const session = makeSession(overrides);
      const files = Array.from({ length: count }, (_, i) => makeFile(session, { name: `f${i}` }));
      await store.createSession(session, files);
      return { session, files };
    }

    it('round-trips a session and its files, optional fields absent or present', async () => {
      const session = makeSession({ metadata: { project: 'apollo', 'naïve key': 'välue' } });
      const minimal = makeFile(session);
      const full = makeFile(session, {
        lastModified: 1_700_000_000_000,
        status: 'rejected',
        duplicateOf: randomUUID(),
        contentHash: 'ab'.repeat(32),
        detectedType: 'application/pdf',
        fileType: 'pdf',
        objectKey: 'objects/some/key',
        error: { code: 'type_mismatch', message: 'Not a PDF.' },
        scan: { result: 'infected', signature: 'Test.Sig' },
        contentMetadata: {
          metadata: { fileType: 'pdf', pages: 3, title: 'Q3' },
          partial: true,
          warnings: [{ code: 'limit', message: 'Read limit reached.' }],
        },
      });
      await store.createSession(session, [minimal, full]);

      assert.deepEqual(await store.getSession(session.id), session);
      assert.deepEqual(await store.getFile(minimal.id), minimal);
      assert.deepEqual(await store.getFile(full.id), full);

      const stored = await store.getFile(minimal.id);
      const optional = [
        ...['lastModified', 'duplicateOf', 'contentHash', 'error', 'objectKey', 'scan'],
        'contentMetadata',
      ];
      for (const key of optional) {
        assert.equal(Object.hasOwn(stored ?? {}, key), false, `${key} should be absent`);
      }
      assert.equal(Object.hasOwn((await store.getSession(session.id)) ?? {}, 'cleanedAt'), false);
    });

    it('keeps cleanedAt when given at creation', async () => {
      const { session } = await seed(0, { cleanedAt: Date.now() });
      assert.deepEqual(await store.getSession(session.id), session);
    });

    it('returns undefined or empty for unknown ids', async () => {
      assert.equal(await store.getSession(randomUUID()), undefined);
      assert.equal(await store.getFile(randomUUID()), undefined);
      assert.deepEqual(await store.listFiles(randomUUID()), []);
      assert.equal(await store.transitionFile(randomUUID(), ['pending'], {}), undefined);
    });

    it('does not let callers mutate stored records', async () => {
      const { session, files } = await seed(1);
      const file = files[0]!;
      const expected = structuredClone(file);
      file.name = 'changed after create';

      const read = await store.getFile(file.id);
      assert.ok(read);
      read.name = 'changed after read';
      const readSession = await store.getSession(session.id);
      assert.ok(readSession);
      readSession.metadata.injected = 'x';

      assert.deepEqual(await store.getFile(file.id), expected);
      assert.deepEqual((await store.getSession(session.id))?.metadata, {});
    });

    it('creates atomically: a failing createSession stores nothing', async () => {
      const { files } = await seed(1);
      const existing = files[0]!;
      const session = makeSession();
      const fresh = makeFile(session);
      const clash = { ...makeFile(session), id: existing.id };

      await assert.rejects(store.createSession(session, [fresh, clash]));
      assert.equal(await store.getSession(session.id), undefined);
      assert.equal(await store.getFile(fresh.id), undefined);
      assert.deepEqual(await store.getFile(existing.id), existing);
    });

    it('rejects a second session with the same id', async () => {
      const { session } = await seed(0);
      await assert.rejects(store.createSession({ ...session, userId: 'someone-else' }, []));
      assert.deepEqual(await store.getSession(session.id), session);
    });

    it('lists files in the order given at creation', async () => {
      const session = makeSession();
      // Ids and timestamps sort differently from the given order, so neither can stand in for it.
      const files = ['m', 'z', 'a', 'q'].map((prefix, i) =>
        makeFile(session, { id: `${prefix}-${randomUUID()}`, createdAt: 1000 - i, name: prefix }),
      );
      await store.createSession(session, files);
      assert.deepEqual(await store.listFiles(session.id), files);

      await store.deleteFile(files[1]!.id);
      assert.deepEqual(
        (await store.listFiles(session.id)).map((f) => f.name),
        ['m', 'a', 'q'],
      );
    });

    describe('transitionFile', () => {
      it('applies the patch from an allowed status', async () => {
        const { files } = await seed(1);
        const file = files[0]!;
        const updated = await store.transitionFile(file.id, ['uploading', 'pending'], {
          status: 'ready',
          contentHash: 'cd'.repeat(32),
          detectedType: 'image/png',
          fileType: 'png',
          objectKey: 'objects/x',
          scan: { result: 'clean' },
        });
        assert.ok(updated);
        assert.deepEqual(updated, {
          ...file,
          status: 'ready',
          contentHash: 'cd'.repeat(32),
          detectedType: 'image/png',
          fileType: 'png',
          objectKey: 'objects/x',
          scan: { result: 'clean' },
          updatedAt: updated.updatedAt,
        });
        assert.deepEqual(await store.getFile(file.id), updated);
      });

      it('returns undefined from another status and leaves the record untouched', async () => {
        const { files } = await seed(1);
        const file = files[0]!;
        const result = await store.transitionFile(file.id, ['uploading', 'assembling'], {
          status: 'failed',
          error: { code: 'internal', message: 'boom' },
        });
        assert.equal(result, undefined);
        assert.equal(await store.transitionFile(file.id, [], { status: 'failed' }), undefined);
        assert.deepEqual(await store.getFile(file.id), file);
      });

      it('lets exactly one of many concurrent transitions win', async () => {
        const { files } = await seed(1);
        const file = files[0]!;
        const results = await Promise.all(
          Array.from({ length: 10 }, () =>
            store.transitionFile(file.id, ['pending'], { status: 'assembling' }),
          ),
        );
        assert.equal(results.filter((r) => r !== undefined).length, 1);
        assert.equal((await store.getFile(file.id))?.status, 'assembling');
      });

      it('clears a field set to undefined and keeps fields absent from the patch', async () => {
        const session = makeSession();
        const file = makeFile(session, {
          status: 'failed',
          contentHash: 'ef'.repeat(32),
          error: { code: 'internal', message: 'disk full' },
        });
        await store.createSession(session, [file]);

        const updated = await store.transitionFile(file.id, ['failed'], {
          status: 'pending',
          error: undefined,
        });
        assert.ok(updated);
        assert.equal(Object.hasOwn(updated, 'error'), false);
        assert.equal(updated.contentHash, file.contentHash);
        assert.equal(Object.hasOwn((await store.getFile(file.id)) ?? {}, 'error'), false);
      });

      it('bumps updatedAt and keeps createdAt', async () => {
        const longAgo = Date.now() - 60_000;
        const session = makeSession();
        const file = makeFile(session, { createdAt: longAgo, updatedAt: longAgo });
        await store.createSession(session, [file]);

        const before = Date.now();
        const updated = await store.transitionFile(file.id, ['pending'], { status: 'uploading' });
        assert.ok(updated);
        assert.ok(updated.updatedAt > longAgo);
        assert.ok(updated.updatedAt >= before);
        assert.equal(updated.createdAt, longAgo);
      });
    });

    it('deletes a file once', async () => {
      const { files } = await seed(2);
      assert.equal(await store.deleteFile(files[0]!.id), true);
      assert.equal(await store.deleteFile(files[0]!.id), false);
      assert.equal(await store.getFile(files[0]!.id), undefined);
      assert.deepEqual(await store.getFile(files[1]!.id), files[1]);
    });

    describe('chunk digests', () => {
      const digest = (byte: number) => new Uint8Array(32).fill(byte);

      it('records digests by index, the latest record of an index winning', async () => {
        const { files } = await seed(2);
        const [a, b] = [files[0]!.id, files[1]!.id];
        await store.recordChunkDigest(a, 0, digest(1));
        await store.recordChunkDigest(a, 2, digest(2));
        await store.recordChunkDigest(a, 0, digest(3));
        await store.recordChunkDigest(b, 0, digest(4));
        assert.deepEqual(
          await store.chunkDigests(a),
          new Map([
            [0, digest(3)],
            [2, digest(2)],
          ]),
        );
        assert.deepEqual(await store.chunkDigests(b), new Map([[0, digest(4)]]));
        assert.deepEqual(await store.chunkDigests('missing'), new Map());
      });

      it('does not let callers mutate recorded digests', async () => {
        const { files } = await seed(1);
        const mine = digest(5);
        await store.recordChunkDigest(files[0]!.id, 0, mine);
        mine.fill(6);
        const read = await store.chunkDigests(files[0]!.id);
        read.get(0)!.fill(7);
        assert.deepEqual((await store.chunkDigests(files[0]!.id)).get(0), digest(5));
      });

      it('forgets digests on request and with the file; none for a file that is gone', async () => {
        const { files } = await seed(2);
        const [a, b] = [files[0]!.id, files[1]!.id];
        await store.recordChunkDigest(a, 0, digest(1));
        await store.recordChunkDigest(b, 0, digest(1));
        await store.deleteChunkDigests(a);
        await store.deleteChunkDigests(a);
        assert.equal((await store.chunkDigests(a)).size, 0);
        await store.deleteFile(b);
        assert.equal((await store.chunkDigests(b)).size, 0);
        await store.recordChunkDigest(b, 1, digest(2));
        assert.equal((await store.chunkDigests(b)).size, 0);
      });
    });

    it('finds a ready file only for the same user, hash, size and status', async () => {
      const hash = '12'.repeat(32);
      const mine = makeSession({ userId: 'alice' });
      const theirs = makeSession({ userId: 'bob' });
      const ready = makeFile(mine, { size: 10, contentHash: hash, status: 'ready' });
      const otherSize = makeFile(mine, { size: 11, contentHash: hash, status: 'ready' });
      const scanning = makeFile(mine, { size: 12, contentHash: hash, status: 'scanning' });
      const bobs = makeFile(theirs, { size: 13, contentHash: hash, status: 'ready' });
      await store.createSession(mine, [ready, otherSize, scanning]);
      await store.createSession(theirs, [bobs]);

      assert.deepEqual(await store.findReadyFile('alice', hash, 10), ready);
      assert.deepEqual(await store.findReadyFile('alice', hash, 11), otherSize);
      assert.equal(await store.findReadyFile('alice', hash, 12), undefined);
      assert.equal(await store.findReadyFile('alice', hash, 13), undefined);
      assert.equal(await store.findReadyFile('bob', hash, 10), undefined);
      assert.deepEqual(await store.findReadyFile('bob', hash, 13), bobs);
      assert.equal(await store.findReadyFile('alice', '34'.repeat(32), 10), undefined);

      await store.transitionFile(ready.id, ['ready'], { status: 'failed' });
      assert.equal(await store.findReadyFile('alice', hash, 10), undefined);
    });

    it('lists expired, uncleaned sessions oldest first, up to limit', async () => {
      const now = Date.now();
      const expiredAt = async (offset: number, extra: Partial<StoredSession> = {}) =>
        (await seed(1, { expiresAt: now + offset, ...extra })).session.id;
      const middle = await expiredAt(-2_000);
      const newest = await expiredAt(0);
      await expiredAt(60_000);
      const oldest = await expiredAt(-3_000);
      await expiredAt(-5_000, { cleanedAt: now - 1_000 });
      const recent = await expiredAt(-1_000);

      const ids = async (limit: number) =>
        (await store.listExpiredSessions(now, limit)).map((s) => s.id);
      assert.deepEqual(await ids(10), [oldest, middle, recent, newest]);
      assert.deepEqual(await ids(2), [oldest, middle]);

      await store.markSessionCleaned(oldest, now);
      assert.equal((await store.getSession(oldest))?.cleanedAt, now);
      assert.deepEqual(await ids(10), [middle, recent, newest]);
      await store.markSessionCleaned(randomUUID(), now);
    });

    it('lists files by status across sessions, up to limit', async () => {
      const a = await seed(3);
      const b = await seed(2);
      await store.transitionFile(a.files[0]!.id, ['pending'], { status: 'assembling' });
      await store.transitionFile(a.files[2]!.id, ['pending'], { status: 'scanning' });
      await store.transitionFile(b.files[1]!.id, ['pending'], { status: 'assembling' });
      await store.transitionFile(b.files[0]!.id, ['pending'], { status: 'ready' });

      const wanted: FileStatus[] = ['assembling', 'scanning'];
      const expected = [a.files[0]!.id, a.files[2]!.id, b.files[1]!.id].sort();
      const all = await store.listFilesByStatus(wanted, 100);
      assert.deepEqual(all.map((f) => f.id).sort(), expected);
      assert.ok(all.every((f) => wanted.includes(f.status)));

      const limited = await store.listFilesByStatus(wanted, 2);
      assert.equal(limited.length, 2);
      assert.ok(limited.every((f) => expected.includes(f.id)));
      assert.deepEqual(await store.listFilesByStatus([], 100), []);
    });

    it('answers ping', async () => {
      await store.ping();
    });
  });

  sessionEventsConformance(name, create);
}
