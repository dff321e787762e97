import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import type { StoredFile, StoredSession } from './session-store.js';
import { sessionStoreConformance } from './session-store.conformance.js';
import { SqliteSessionStore } from './sqlite-session-store.js';

async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sqlite-session-store-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

sessionStoreConformance('SqliteSessionStore', async () => {
  const { dir, remove } = await tempDir();
  const store = SqliteSessionStore.open({ path: join(dir, 'sessions.db') });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await remove();
    },
  };
});

describe('SqliteSessionStore on a file', () => {
  let dir: string;
  let path: string;
  let remove: () => Promise<void>;
  const opened: SqliteSessionStore[] = [];

  const open = () => {
    const store = SqliteSessionStore.open({ path });
    opened.push(store);
    return store;
  };

  beforeEach(async () => {
    ({ dir, remove } = await tempDir());
    // A nested path also checks that open creates missing directories.
    path = join(dir, 'nested', 'sessions.db');
  });

  afterEach(async () => {
    for (const store of opened.splice(0)) await store.close();
    await remove();
  });

  const session: StoredSession = {
    id: 'session-1',
    userId: 'user-1',
    createdAt: 1_000,
    expiresAt: 2_000,
    chunkSize: 1024,
    metadata: { purpose: 'restart test' },
  };
  const file: StoredFile = {
    id: 'file-1',
    sessionId: 'session-1',
    userId: 'user-1',
    name: 'a.png',
    size: 10,
    clientType: 'image/png',
    claimedType: 'png',
    totalChunks: 1,
    status: 'pending',
    createdAt: 1_000,
    updatedAt: 1_000,
  };

  it('keeps data across close and reopen', async () => {
    const first = open();
    await first.createSession(session, [file]);
    const ready = await first.transitionFile(file.id, ['pending'], {
      status: 'ready',
      contentHash: 'ab'.repeat(32),
    });
    await first.close();

    const second = open();
    assert.deepEqual(await second.getSession(session.id), session);
    assert.deepEqual(await second.listFiles(session.id), [ready]);
    assert.deepEqual(await second.findReadyFile('user-1', 'ab'.repeat(32), 10), ready);
  });

  it("lets two instances on one file see each other's writes", async () => {
    const a = open();
    const b = open();
    await a.createSession(session, [file]);
    assert.deepEqual(await b.getFile(file.id), file);

    assert.ok(await b.transitionFile(file.id, ['pending'], { status: 'assembling' }));
    // The compare-and-set in `a` sees `b`'s transition, so it loses.
    assert.equal(await a.transitionFile(file.id, ['pending'], { status: 'assembling' }), undefined);
    assert.equal((await a.getFile(file.id))?.status, 'assembling');

    assert.equal(await a.deleteFile(file.id), true);
    assert.equal(await b.getFile(file.id), undefined);
  });

  it('records its schema version and refuses a newer one', async () => {
    await open().close();
    const db = new Database(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), 5);
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      db.pragma('user_version = 99');
    } finally {
      db.close();
    }
    assert.throws(() => open(), /newer than this server supports/);
  });

  it('upgrades a database of an earlier schema version in place', async () => {
    await open().close();
    const db = new Database(path);
    try {
      db.exec(
        'DROP TABLE chunk_digests; DROP TABLE events; ALTER TABLE files DROP COLUMN scan; ALTER TABLE files DROP COLUMN content_metadata',
      );
      db.pragma('user_version = 1');
    } finally {
      db.close();
    }
    const store = open();
    try {
      const session = {
        id: 's1',
        userId: 'u',
        createdAt: 1,
        expiresAt: 2,
        chunkSize: 4,
        metadata: {},
      };
      await store.createSession(session, [
        {
          id: 'f1',
          sessionId: 's1',
          userId: 'u',
          name: 'a.pdf',
          size: 4,
          clientType: '',
          claimedType: 'pdf',
          totalChunks: 1,
          status: 'pending',
          createdAt: 1,
          updatedAt: 1,
        },
      ]);
      await store.recordChunkDigest('f1', 0, new Uint8Array(32).fill(9));
      assert.deepEqual(await store.chunkDigests('f1'), new Map([[0, new Uint8Array(32).fill(9)]]));
    } finally {
      await store.close();
    }
  });

  it('rejects ping after close', async () => {
    const store = open();
    await store.ping();
    await store.close();
    await assert.rejects(store.ping());
  });
});
