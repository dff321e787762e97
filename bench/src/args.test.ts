import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { parseArgs, parseSize } from './args.js';
import { FULL_SIZES, QUICK_SIZES } from './context.js';
import { SCENARIOS } from './results.js';

test('no arguments: every scenario, full sizes, 5 rounds', () => {
  const args = parseArgs([]);
  assert.deepEqual(args.scenarios, [...SCENARIOS]);
  assert.deepEqual(args.sizes, FULL_SIZES);
  assert.equal(args.rounds, 5);
  assert.equal(args.check, false);
});

test('one scenario with --check and --quick', () => {
  const args = parseArgs(['throughput', '--check', '--quick']);
  assert.deepEqual(args.scenarios, ['throughput']);
  assert.equal(args.check, true);
  assert.equal(args.quick, true);
  assert.deepEqual(args.sizes, QUICK_SIZES);
  assert.ok(args.rounds < 5);
});

test('sizes and counts from the command line', () => {
  const args = parseArgs(['--throughput-size=1GiB', '--concurrency-files=8', '--rounds=7']);
  assert.equal(args.sizes.throughputBytes, 1024 ** 3);
  assert.equal(args.sizes.concurrencyFiles, 8);
  assert.equal(args.rounds, 7);
  assert.equal(parseSize('100MB'), 100_000_000);
  assert.equal(parseSize('8388608'), 8 * 1024 * 1024);
});

test('full runs take at least 5 rounds; unknown input is refused', () => {
  assert.throws(() => parseArgs(['--rounds=3']), /≥ 5/);
  assert.equal(parseArgs(['--quick', '--rounds=1']).rounds, 1);
  assert.throws(() => parseArgs(['speed']), /unknown scenario/);
  assert.throws(() => parseArgs(['--fast']), /unknown option/);
  assert.throws(() => parseArgs(['--resume-size=lots']), /not a size/);
});
