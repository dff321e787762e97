import { strict as assert } from 'node:assert';
import { it } from 'node:test';
import { lockerConformance } from './locker.conformance.js';
import { MemoryLocker } from './memory-locker.js';

lockerConformance('MemoryLocker', async () => ({
  locker: new MemoryLocker(),
  cleanup: async () => {},
}));

it('MemoryLocker rejects a ttl that is not positive', async () => {
  const locker = new MemoryLocker();
  await assert.rejects(locker.tryAcquire('file-1', 0), RangeError);
  await assert.rejects(locker.tryAcquire('file-1', Number.NaN), RangeError);
});
