import { FULL_SIZES, type Sizes } from './context.js';
import { mib, type ScenarioId } from './results.js';

/** The sizes each scenario uses, as the docs name them. */
const USED: Partial<Record<ScenarioId, Array<[keyof Sizes, string, (n: number) => string]>>> = {
  throughput: [['throughputBytes', 'file size', mib]],
  concurrency: [
    ['concurrencyFiles', 'uploads at once', String],
    ['concurrencyBytes', 'file size', mib],
  ],
  resume: [['resumeBytes', 'file size', mib]],
  browser: [['browserBytes', 'file size', (n) => `${(n / 1e6).toFixed(0)} MB`]],
  hashing: [['hashingBytes', 'bytes hashed', mib]],
};

/**
 * A note for the docs when a full run used other sizes than the benchmark's own (say, a smaller
 * file to fit a busy machine's time): the figures are then not those of the full scenario.
 */
export function reducedSizeNote(id: ScenarioId, sizes: Sizes): string | undefined {
  const changed = (USED[id] ?? []).filter(([key]) => sizes[key] !== FULL_SIZES[key]);
  if (changed.length === 0) return undefined;
  const parts = changed.map(
    ([key, what, show]) => `${what} ${show(sizes[key])} instead of ${show(FULL_SIZES[key])}`,
  );
  return `Not the full-size scenario: this run used ${parts.join(', ')} (set on the command line above).`;
}
