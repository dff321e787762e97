import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { cpuNote, type CpuSample } from './cpu-usage.js';

const sample = (wall: number, server: [number, number], client: [number, number]): CpuSample => ({
  wall,
  used: {
    client: { user: client[0], system: client[1] },
    'reference server': { user: server[0], system: server[1] },
  },
});

test('the note gives the median total, share of a core and kernel time of each process', () => {
  const note = cpuNote('ours', [
    sample(2, [1.5, 0.5], [0.6, 0.4]),
    sample(4, [3.0, 1.5], [0.8, 0.2]),
    sample(3, [2.0, 0.9], [0.5, 0.3]),
  ]);
  assert.equal(
    note,
    'CPU time per run of ours (medians over 3 runs, warm-up included; 3.0 s of wall time): ' +
      'client 1.0 s (33 % of a core; 0.3 s in the kernel), ' +
      'reference server 2.9 s (97 % of a core; 0.9 s in the kernel).',
  );
  assert.equal(cpuNote('nobody', []), 'nobody: no runs.');
});
