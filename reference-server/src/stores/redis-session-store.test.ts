/**
 * RedisSessionStore against a real redis-server (test/harness/redis.ts): the shared conformance
 * suite, then what only a shared store must do: compare-and-set across connections, the key
 * expiry of docs/decisions/0008, and 503-style failures while Redis is away.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestRedis } from '../../test/redis-kit.js';
import type { RedisClient } from './redis-client.js';
import { RedisSessionStore } from './redis-session-store.js';
import type { StoredFile, StoredSession } from './session-store.js';
import { sessionStoreConformance } from './session-store.conformance.js';
import { StoreUnavailableError } from './store-unavailable-error.js';

const kit = useTestRedis();
const connect = (commandTimeoutMs?: number) => kit.connect(commandTimeoutMs);

/** A store on its own connection and key prefix: empty, and invisible to other tests. */
async function openStore(
  options: { prefix?: string; retentionMs?: number; commandTimeoutMs?: number } = {},
) {
  const client = await connect(options.commandTimeoutMs);
  const keyPrefix = options.prefix ?? `t-${randomUUID()}:`;
  const store = new RedisSessionStore({
    client,
    keyPrefix,
    retentionMs: options.retentionMs,
    ownsClient: true,
    commandTimeoutMs: options.commandTimeoutMs,
  });
  return { store, client, keyPrefix };
}

sessionStoreConformance('RedisSessionStore', async () => {
  const { store } = await openStore();
  return { store, cleanup: () => store.close() };
});

function makeSession(overrides: Partial<StoredSession> = {}): StoredSession {
  const now = Date.now();
  return {
    id: randomUUID(),
    userId: 'user-1',
    createdAt: now,
    expiresAt: now + 86_400_000,
    chunkSize: 262_144,
    metadata: { purpose: 'redis test' },
    ...overrides,
  };
}

function makeFile(session: StoredSession, overrides: Partial<StoredFile> = {}): StoredFile {
  return {
    id: randomUUID(),
    sessionId: session.id,
    userId: session.userId,
    name: 'scan.png',
    size: 100,
    clientType: 'image/png',
    claimedType: 'png',
    totalChunks: 1,
    status: 'pending',
    createdAt: session.createdAt,
    updatedAt: session.createdAt,
    ...overrides,
  };
}

describe('RedisSessionStore shared by several connections', () => {
  it('lets exactly one of many concurrent transitions win across connections', async () => {
    const prefix = `t-${randomUUID()}:`;
    const stores = await Promise.all(
      Array.from({ length: 6 }, () => openStore({ prefix }).then((s) => s.store)),
    );
    try {
      for (let round = 0; round < 5; round++) {
        const session = makeSession();
        const file = makeFile(session);
        await stores[0]!.createSession(session, [file]);
        const results = await Promise.all(
          stores.flatMap((store) =>
            [1, 2, 3].map(() =>
              store.transitionFile(file.id, ['pending', 'uploading'], { status: 'assembling' }),
            ),
          ),
        );
        assert.equal(results.filter((r) => r !== undefined).length, 1, `round ${round}`);
        const listed = await stores[3]!.listFilesByStatus(['assembling'], 100);
        assert.ok(listed.some((f) => f.id === file.id));
      }
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('keeps data across a Redis restart (AOF)', async () => {
    const { store, keyPrefix } = await openStore();
    const session = makeSession();
    const file = makeFile(session);
    await store.createSession(session, [file]);
    await store.transitionFile(file.id, ['pending'], {
      status: 'ready',
      contentHash: 'ab'.repeat(32),
    });
    await store.close();

    await kit.server.restart();
    const { store: reopened } = await openStore({ prefix: keyPrefix });
    try {
      assert.deepEqual(await reopened.getSession(session.id), session);
      assert.equal((await reopened.findReadyFile('user-1', 'ab'.repeat(32), 100))?.id, file.id);
    } finally {
      await reopened.close();
    }
  });
});

describe('RedisSessionStore key expiry', () => {
  const ttl = async (client: RedisClient, key: string) => client.pTTL(key);

  it('gives chunk digests the session expiry and keeps live records without one', async () => {
    const { store, client, keyPrefix } = await openStore();
    const session = makeSession({ expiresAt: Date.now() + 3_600_000 });
    const file = makeFile(session);
    await store.createSession(session, [file]);
    await store.recordChunkDigest(file.id, 0, new Uint8Array(32).fill(1));

    const digestTtl = await ttl(client, `${keyPrefix}digests:${file.id}`);
    assert.ok(digestTtl > 3_500_000 && digestTtl <= 3_600_000, `digest ttl ${digestTtl}`);
    assert.equal(await ttl(client, `${keyPrefix}file:${file.id}`), -1);
    assert.equal(await ttl(client, `${keyPrefix}session:${session.id}`), -1);
    await store.close();
  });

  it('after cleanup keeps ready files and their session, retains the others for a while', async () => {
    const retentionMs = 3_600_000;
    const { store, client, keyPrefix } = await openStore({ retentionMs });
    const session = makeSession({ expiresAt: Date.now() - 1 });
    const ready = makeFile(session, { name: 'kept.png' });
    const failed = makeFile(session, { name: 'dropped.png' });
    await store.createSession(session, [ready, failed]);
    await store.transitionFile(ready.id, ['pending'], {
      status: 'ready',
      contentHash: 'cd'.repeat(32),
    });
    await store.transitionFile(failed.id, ['pending'], { status: 'failed' });

    const now = Date.now();
    await store.markSessionCleaned(session.id, now);
    assert.deepEqual(await store.listExpiredSessions(now, 10), []);
    assert.equal(await ttl(client, `${keyPrefix}file:${ready.id}`), -1);
    assert.equal(await ttl(client, `${keyPrefix}session:${session.id}`), -1);
    const failedTtl = await ttl(client, `${keyPrefix}file:${failed.id}`);
    assert.ok(failedTtl > 0 && failedTtl <= retentionMs, `failed file ttl ${failedTtl}`);
    // Still readable (and listed) while retained.
    assert.equal((await store.listFilesByStatus(['failed'], 10))[0]?.id, failed.id);

    // Once the last ready file is deleted, the session is retained for a while, then goes.
    assert.equal(await store.deleteFile(ready.id), true);
    const sessionTtl = await ttl(client, `${keyPrefix}session:${session.id}`);
    assert.ok(sessionTtl > 0 && sessionTtl <= retentionMs, `session ttl ${sessionTtl}`);
    await store.close();
  });

  it('leaves no key behind once records are deleted or their retention has passed', async () => {
    const { store, client, keyPrefix } = await openStore({ retentionMs: 50 });
    const session = makeSession({ expiresAt: Date.now() - 1 });
    const files = [makeFile(session), makeFile(session), makeFile(session)];
    await store.createSession(session, files);
    await store.recordChunkDigest(files[0]!.id, 0, new Uint8Array(32));
    await store.transitionFile(files[0]!.id, ['pending'], {
      status: 'ready',
      contentHash: 'ef'.repeat(32),
    });
    await store.transitionFile(files[1]!.id, ['pending'], { status: 'rejected' });
    await store.markSessionCleaned(session.id, Date.now());
    await store.deleteFile(files[0]!.id);

    await sleep(120);
    assert.equal(await store.getFile(files[1]!.id), undefined);
    assert.equal(await store.getSession(session.id), undefined);
    // Reading the indexes drops the entries of expired records.
    assert.deepEqual(await store.listFilesByStatus(['pending', 'rejected', 'ready'], 10), []);
    assert.equal(await store.findReadyFile('user-1', 'ef'.repeat(32), 100), undefined);
    const left = await client.keys(`${keyPrefix}*`);
    assert.deepEqual(left, []);
    await store.close();
  });
});

describe('RedisSessionStore while Redis is away', () => {
  it('fails with StoreUnavailableError while Redis is frozen, and works once it is back', async () => {
    const { store } = await openStore({ commandTimeoutMs: 300 });
    const session = makeSession();
    const file = makeFile(session);
    await store.createSession(session, [file]);

    kit.server.pause();
    try {
      await assert.rejects(store.getFile(file.id), StoreUnavailableError);
      await assert.rejects(store.ping(), StoreUnavailableError);
      await assert.rejects(
        store.transitionFile(file.id, ['pending'], { status: 'uploading' }),
        StoreUnavailableError,
      );
    } finally {
      kit.server.resume();
    }
    // The timed-out transition may still have run once Redis thawed; either way it ran once.
    const current = await store.getFile(file.id);
    assert.ok(current && ['pending', 'uploading'].includes(current.status));
    await store.ping();
    await store.close();
  });

  it('fails fast while Redis is down and reconnects after a restart', async () => {
    const { store } = await openStore({ commandTimeoutMs: 2_000 });
    const session = makeSession();
    await store.createSession(session, [makeFile(session)]);

    await kit.server.kill();
    try {
      await assert.rejects(store.getSession(session.id), StoreUnavailableError);
      await assert.rejects(store.ping(), StoreUnavailableError);
    } finally {
      await kit.server.restart();
    }
    let session2: StoredSession | undefined;
    for (let attempt = 0; attempt < 100 && !session2; attempt++) {
      session2 = await store.getSession(session.id).catch(async (err: unknown) => {
        assert.ok(err instanceof StoreUnavailableError, String(err));
        await sleep(50);
        return undefined;
      });
    }
    assert.deepEqual(session2, session, 'the session survived the restart (AOF)');
    await store.close();
  });
});
