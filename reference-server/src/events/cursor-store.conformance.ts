import { strict as assert } from 'node:assert';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { CursorStore } from './cursor-store.js';

/** What a conformance run is given for each test. */
export interface CursorStoreFixture {
  /** A store holding no cursors. */
  store: CursorStore;
  /**
   * A second handle on the same storage, as another process would open it (for memory, the
   * same store), so the suite can check what a new relay instance reads.
   */
  another: () => Promise<CursorStore>;
  cleanup: () => Promise<void>;
}

/** The behaviour every CursorStore must have. */
export function cursorStoreConformance(
  name: string,
  create: () => Promise<CursorStoreFixture>,
): void {
  describe(`CursorStore conformance: ${name}`, () => {
    let fixture: CursorStoreFixture;

    beforeEach(async () => {
      fixture = await create();
    });

    afterEach(async () => {
      await fixture.store.close();
      await fixture.cleanup();
    });

    it('has no cursor before the first write', async () => {
      assert.equal(await fixture.store.get('webhooks'), undefined);
    });

    it('returns the latest cursor written, in both seq forms', async () => {
      await fixture.store.set('webhooks', '41');
      await fixture.store.set('webhooks', '42');
      assert.equal(await fixture.store.get('webhooks'), '42');
      await fixture.store.set('webhooks', '1764417600000-3');
      assert.equal(await fixture.store.get('webhooks'), '1764417600000-3');
    });

    it('keeps relays apart', async () => {
      await fixture.store.set('webhooks', '7');
      await fixture.store.set('rabbitmq', '3');
      assert.equal(await fixture.store.get('webhooks'), '7');
      assert.equal(await fixture.store.get('rabbitmq'), '3');
    });

    it('is seen by another handle on the same storage', async () => {
      await fixture.store.set('webhooks', '99');
      const other = await fixture.another();
      try {
        assert.equal(await other.get('webhooks'), '99');
        await other.set('webhooks', '100');
        assert.equal(await fixture.store.get('webhooks'), '100');
      } finally {
        if (other !== fixture.store) await other.close();
      }
    });

    it('ends with one of the written values after concurrent writes', async () => {
      const values = Array.from({ length: 20 }, (_, i) => String(i + 1));
      await Promise.all(values.map((seq) => fixture.store.set('webhooks', seq)));
      const last = await fixture.store.get('webhooks');
      assert.ok(last !== undefined && values.includes(last), `got ${last}`);
    });

    it('refuses names that are not plain', async () => {
      await assert.rejects(fixture.store.get('../escape'), RangeError);
      await assert.rejects(fixture.store.set('', '1'), RangeError);
      await assert.rejects(fixture.store.set('a/b', '1'), RangeError);
    });
  });
}
