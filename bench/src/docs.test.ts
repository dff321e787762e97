import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { renderDocs, type SavedResult } from './docs.js';

const result: SavedResult = {
  id: 'bundle',
  title: '5. Bundle sizes',
  method: 'One esbuild config.',
  columns: ['bundle', 'gzip'],
  rows: [['ours: SDK', '9.5 KB']],
  budgets: [
    { name: 'SDK', target: '≤ 10.0 KB', actual: '9.5 KB', pass: true },
    { name: 'element', target: '≤ 30.0 KB', actual: '31.0 KB', pass: false },
    { name: 'later', target: '≥ 1', actual: 'not measured' },
  ],
  notes: ['A note.'],
  settings: { rounds: 5 },
  command: 'npm run bench -- bundle',
  startedAt: '2026-01-02T03:04:05.000Z',
  durationSeconds: 2,
  machine: {
    cpu: 'CPU',
    cores: 2,
    memoryGiB: 4,
    os: 'Linux',
    node: 'v20',
    load: 1,
    loadEnd: 2.5,
    curl: '8',
  },
};

test('the docs list every budget with its verdict, and the scenarios not run yet', () => {
  const doc = renderDocs([result]);
  assert.match(doc, /\| 5\. Bundle sizes \| SDK \| ≤ 10\.0 KB \| 9\.5 KB \| pass \|/);
  assert.match(doc, /\| element \| ≤ 30\.0 KB \| 31\.0 KB \| \*\*missed\*\* \|/);
  assert.match(doc, /\| later \| ≥ 1 \| not measured \| not measured \|/);
  assert.match(
    doc,
    /Not yet run in full on this machine: throughput, concurrency, resume, browser, hashing/,
  );
  assert.match(
    doc,
    /## 5\. Bundle sizes\n\nRun 2026-01-02 03:04 UTC in 2 s with `npm run bench -- bundle`/,
  );
  assert.match(doc, /; load 1 at start, 2\.5 at end \(1-minute average\)\./);
  assert.ok(doc.includes('| ours: SDK | 9.5 KB |'));
  assert.ok(!doc.includes('benchmarks.svg'), 'no chart without throughput results');
});
