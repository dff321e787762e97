import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { alternate, type Contender } from './alternate.js';
import { median, mibPerSecond, pairedRatio } from './stats.js';

test('median of odd and even counts, unsorted input', () => {
  assert.equal(median([5, 1, 3]), 3);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

test('pairedRatio is the median of per-pair ratios, so drift between pairs cancels', () => {
  // The machine gets twice as slow for the second pair: both sides move together.
  assert.equal(pairedRatio([50, 25, 50], [100, 50, 100]), 0.5);
  assert.throws(() => pairedRatio([1, 2], [1]), RangeError);
});

test('mibPerSecond', () => {
  assert.equal(mibPerSecond(512 * 1024 * 1024, 1000), 512);
});

test('alternate pairs every candidate run with a baseline run and flips the order each round', async () => {
  const order: string[] = [];
  const contender = (name: string): Contender => ({
    name,
    run: async () => {
      order.push(name);
      return { ms: 1, bytes: 1 };
    },
  });
  const runs = await alternate(contender('A'), [contender('B'), contender('C')], {
    rounds: 2,
    warmup: 1,
  });
  assert.deepEqual(order, ['A', 'B', 'C', 'A', 'B', 'A', 'C', 'B', 'A', 'C', 'A']);
  assert.deepEqual(
    runs.pairs.map((p) => [p.runs.length, p.baselineRuns.length]),
    [
      [2, 2],
      [2, 2],
    ],
  );
});
