/**
 * RedisLocker against a real redis-server: the shared conformance suite, then renewal, holders
 * on separate connections (as separate server instances are), and a Redis outage.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { useTestRedis } from '../../test/redis-kit.js';
import { lockerConformance } from './locker.conformance.js';
import { RedisLocker } from './redis-locker.js';
import { StoreUnavailableError } from './store-unavailable-error.js';

const kit = useTestRedis();
const connect = (commandTimeoutMs?: number) => kit.connect(commandTimeoutMs);

lockerConformance('RedisLocker', async () => {
  const client = await connect();
  return {
    locker: new RedisLocker({ client, keyPrefix: `t-${randomUUID()}:` }),
    cleanup: async () => client.destroy(),
  };
});

describe('RedisLocker across connections', () => {
  it('is exclusive between holders on different connections', async () => {
    const keyPrefix = `t-${randomUUID()}:`;
    const lockers = await Promise.all(
      Array.from(
        { length: 5 },
        async () => new RedisLocker({ client: await connect(), keyPrefix }),
      ),
    );
    const locks = await Promise.all(
      lockers.flatMap((locker) => [1, 2].map(() => locker.tryAcquire('file-1', 10_000))),
    );
    const held = locks.filter((lock) => lock !== null);
    assert.equal(held.length, 1);
    await held[0]!.release();
    assert.ok(await lockers[4]!.tryAcquire('file-1', 10_000));
  });

  it('renews a held lock past its lease, up to the ttl the holder asked for', async () => {
    const keyPrefix = `t-${randomUUID()}:`;
    // A lease long enough that a busy test machine still renews in time (every 400 ms).
    const holder = new RedisLocker({ client: await connect(), keyPrefix, leaseMs: 1_200 });
    const other = new RedisLocker({ client: await connect(), keyPrefix });
    const lock = await holder.tryAcquire('file-1', 60_000);
    assert.ok(lock);
    await sleep(3_000); // two and a half leases
    assert.equal(await other.tryAcquire('file-1', 10_000), null, 'still held: renewed');
    await lock.release();
    const next = await other.tryAcquire('file-1', 10_000);
    assert.ok(next, 'free once released');
    await next.release();
  });

  it('frees the lock within a lease when its holder dies', async () => {
    const keyPrefix = `t-${randomUUID()}:`;
    const doomed = await connect();
    const holder = new RedisLocker({ client: doomed, keyPrefix, leaseMs: 200 });
    const other = new RedisLocker({ client: await connect(), keyPrefix });
    const lock = await holder.tryAcquire('file-1', 60_000);
    assert.ok(lock);
    doomed.destroy(); // renewal can no longer reach Redis, as when the process dies
    assert.equal(await other.tryAcquire('file-1', 10_000), null);
    let next = null;
    for (let attempt = 0; attempt < 200 && !next; attempt++) {
      next = await other.tryAcquire('file-1', 10_000);
      if (!next) await sleep(50);
    }
    assert.ok(next, 'taken over after the lease ran out');
    // The dead holder's release must not free the new holder's lock.
    await lock.release();
    assert.equal(await other.tryAcquire('file-1', 10_000), null);
    await next.release();
  });

  it('answers StoreUnavailableError while Redis is frozen', async () => {
    const locker = new RedisLocker({
      client: await connect(300),
      keyPrefix: `t-${randomUUID()}:`,
      commandTimeoutMs: 300,
    });
    kit.server.pause();
    try {
      await assert.rejects(locker.tryAcquire('file-1', 10_000), StoreUnavailableError);
    } finally {
      kit.server.resume();
    }
    // A timed-out SET may have run after the thaw; its lease (15 s) would hold the key, so use
    // another one to show the locker works again.
    const lock = await locker.tryAcquire('file-2', 10_000);
    assert.ok(lock);
    await lock.release();
  });
});
