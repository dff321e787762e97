/** Small statistics for alternated runs: medians and same-run ratios. */

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

/**
 * Median of the pairwise ratios `candidate[i] / baseline[i]`. Pairs are runs taken next to each
 * other, so drift on a shared machine (other load coming and going) cancels within a pair.
 */
export function pairedRatio(candidate: readonly number[], baseline: readonly number[]): number {
  if (candidate.length !== baseline.length) {
    throw new RangeError(`unpaired runs: ${candidate.length} vs ${baseline.length}`);
  }
  return median(candidate.map((value, i) => value / (baseline[i] as number)));
}

/** Smallest and largest value, for a spread column. */
export function range(values: readonly number[]): { min: number; max: number } {
  return { min: Math.min(...values), max: Math.max(...values) };
}

/** Mebibytes per second of `bytes` moved in `ms` milliseconds. */
export function mibPerSecond(bytes: number, ms: number): number {
  return bytes / (1024 * 1024) / (ms / 1000);
}
