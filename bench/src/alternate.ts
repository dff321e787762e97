/** Runs a baseline and its candidates alternated, so every candidate run has a baseline beside it. */

/** One measured run. */
export interface Sample {
  /** Wall time of the measured part, in milliseconds. */
  ms: number;
  /** Bytes moved in that time (the payload). */
  bytes: number;
  /** Other figures of the run (peak RSS, bytes re-sent ...). */
  extra?: Record<string, number>;
}

/** Something that can be measured, once per call. */
export interface Contender {
  /** Row label. */
  name: string;
  run(): Promise<Sample>;
}

/** Every candidate's runs and, index for index, the baseline runs paired with them. */
export interface AlternatedRuns {
  baseline: Contender;
  pairs: Array<{ candidate: Contender; runs: Sample[]; baselineRuns: Sample[] }>;
}

export interface AlternateOptions {
  rounds: number;
  /** Unmeasured runs of each contender first (JIT, page cache, lazy loading). */
  warmup: number;
  /** Called after each run, for a progress line. */
  onRun?: (name: string, sample: Sample) => void;
}

/**
 * Runs `baseline` next to every candidate, `rounds` times: A B per pair, and B A in odd rounds
 * so neither side always runs second (on a warmer cache, or right after the other's writes).
 */
export async function alternate(
  baseline: Contender,
  candidates: readonly Contender[],
  options: AlternateOptions,
): Promise<AlternatedRuns> {
  for (let i = 0; i < options.warmup; i++) {
    for (const contender of [baseline, ...candidates]) await contender.run();
  }
  const pairs = candidates.map((candidate) => ({
    candidate,
    runs: [] as Sample[],
    baselineRuns: [] as Sample[],
  }));
  const measure = async (contender: Contender, into: Sample[]) => {
    const sample = await contender.run();
    into.push(sample);
    options.onRun?.(contender.name, sample);
  };
  for (let round = 0; round < options.rounds; round++) {
    for (const pair of pairs) {
      if (round % 2 === 0) {
        await measure(baseline, pair.baselineRuns);
        await measure(pair.candidate, pair.runs);
      } else {
        await measure(pair.candidate, pair.runs);
        await measure(baseline, pair.baselineRuns);
      }
    }
  }
  return { baseline, pairs };
}
