import { median } from './stats.js';

/**
 * "hashing 0.80 s (20 %), uploading …": the median time an upload spent in each SDK state, over
 * the runs given, to tell where the time goes.
 */
export function phaseNote(who: string, phases: Array<Record<string, number>>): string {
  const states = [...new Set(phases.flatMap((p) => Object.keys(p)))];
  const medians = states.map((state) => [state, median(phases.map((p) => p[state] ?? 0))] as const);
  const total = medians.reduce((sum, [, ms]) => sum + ms, 0);
  const parts = medians
    .filter(([, ms]) => ms >= 10)
    .map(
      ([state, ms]) =>
        `${state} ${(ms / 1000).toFixed(2)} s (${((ms / total) * 100).toFixed(0)} %)`,
    );
  return `Where ${who} spends an upload (median time in each state, warm-up included; \`uploading\` ends with the server's answer to the last chunk, which waits for assembly): ${parts.join(', ')}.`;
}
