import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { FULL_SIZES } from './context.js';
import { MiB } from './data.js';
import { reducedSizeNote } from './reduced.js';

test('a full-size run gets no note; a smaller one names what changed and the full size', () => {
  assert.equal(reducedSizeNote('browser', FULL_SIZES), undefined);
  assert.equal(reducedSizeNote('bundle', { ...FULL_SIZES, browserBytes: 1 }), undefined);
  assert.equal(
    reducedSizeNote('browser', { ...FULL_SIZES, browserBytes: 50_000_000 }),
    'Not the full-size scenario: this run used file size 50 MB instead of 100 MB (set on the command line above).',
  );
  const note = reducedSizeNote('concurrency', { ...FULL_SIZES, concurrencyFiles: 20 });
  assert.match(note ?? '', /uploads at once 20 instead of 50/);
  assert.doesNotMatch(note ?? '', /file size/);
  assert.match(
    reducedSizeNote('throughput', { ...FULL_SIZES, throughputBytes: 256 * MiB }) ?? '',
    /file size 256\.0 MiB instead of 512\.0 MiB/,
  );
});
