import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Locker } from './locker.js';

/** Short enough to keep the suite fast, long enough not to expire during a single step. */
const SHORT_TTL_MS = 50;
const LONG_TTL_MS = 10_000;

/**
 * The behaviour every Locker must have. `create` runs before each test and must return a
 * locker holding no locks; `cleanup` runs after it.
 */
export function lockerConformance(
  name: string,
  create: () => Promise<{ locker: Locker; cleanup: () => Promise<void> }>,
): void {
  describe(`Locker conformance: ${name}`, () => {
    let locker: Locker;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      ({ locker, cleanup } = await create());
    });

    afterEach(async () => {
      await cleanup();
    });

    it('a lock is held until released, or until its ttl passed without its holder', async () => {
      const lock = await locker.tryAcquire('file-1', LONG_TTL_MS);
      assert.ok(lock);
      assert.ok(lock.held());
      await lock.release();
      assert.equal(lock.held(), false, 'released');
      const short = await locker.tryAcquire('file-2', SHORT_TTL_MS);
      assert.ok(short);
      assert.ok(short.held());
      await sleep(SHORT_TTL_MS * 2);
      assert.equal(short.held(), false, 'past its ttl');
    });

    it('is exclusive per key', async () => {
      const first = await locker.tryAcquire('file-1', LONG_TTL_MS);
      assert.ok(first);
      assert.equal(await locker.tryAcquire('file-1', LONG_TTL_MS), null);
      await first.release();
    });

    it('lets another holder acquire after release, and release is idempotent', async () => {
      const first = await locker.tryAcquire('file-1', LONG_TTL_MS);
      assert.ok(first);
      await first.release();
      await first.release();
      const second = await locker.tryAcquire('file-1', LONG_TTL_MS);
      assert.ok(second);
      await second.release();
    });

    it('expires a lock never released after its ttl', async () => {
      const abandoned = await locker.tryAcquire('file-1', SHORT_TTL_MS);
      assert.ok(abandoned);
      assert.equal(await locker.tryAcquire('file-1', LONG_TTL_MS), null);
      await sleep(SHORT_TTL_MS * 2);
      const next = await locker.tryAcquire('file-1', LONG_TTL_MS);
      assert.ok(next);
      await next.release();
    });

    it("does not let a stale holder release the new holder's lock", async () => {
      const stale = await locker.tryAcquire('file-1', SHORT_TTL_MS);
      assert.ok(stale);
      await sleep(SHORT_TTL_MS * 2);
      const current = await locker.tryAcquire('file-1', LONG_TTL_MS);
      assert.ok(current);

      await stale.release();
      assert.equal(await locker.tryAcquire('file-1', LONG_TTL_MS), null);
      await current.release();
    });

    it('keeps keys independent', async () => {
      const one = await locker.tryAcquire('file-1', LONG_TTL_MS);
      const two = await locker.tryAcquire('file-2', LONG_TTL_MS);
      assert.ok(one);
      assert.ok(two);
      await one.release();
      assert.equal(await locker.tryAcquire('file-2', LONG_TTL_MS), null);
      await two.release();
    });

    it('lets exactly one of many concurrent attempts win', async () => {
      const locks = await Promise.all(
        Array.from({ length: 10 }, () => locker.tryAcquire('file-1', LONG_TTL_MS)),
      );
      const held = locks.filter((lock) => lock !== null);
      assert.equal(held.length, 1);
      await held[0]?.release();
    });
  });
}
