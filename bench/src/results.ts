/** What a scenario reports: a table, budgets, notes; saved as JSON and written into the docs. */

export const SCENARIOS = [
  'throughput',
  'concurrency',
  'resume',
  'browser',
  'bundle',
  'hashing',
] as const;
export type ScenarioId = (typeof SCENARIOS)[number];

/** A budget from the benchmarks issue, checked against this run. */
export interface BudgetResult {
  name: string;
  /** What is required, in words ("≥ 0.50 × curl"). */
  target: string;
  /** What this run measured, in the same words. */
  actual: string;
  /** undefined: the row it needs is not measurable yet (its component does not exist). */
  pass?: boolean;
}

/** One bar of the throughput chart. */
export interface ChartBar {
  label: string;
  /** Throughput as a fraction of the baseline's. */
  ratio: number;
  baseline?: boolean;
}

export interface ScenarioResult {
  id: ScenarioId;
  title: string;
  /** Markdown: what is measured and how. */
  method: string;
  columns: string[];
  rows: string[][];
  budgets: BudgetResult[];
  notes: string[];
  chart?: ChartBar[];
  /** The settings of this run (sizes, rounds). */
  settings: Record<string, string | number>;
  /** The command that produced it. */
  command: string;
  startedAt: string;
  durationSeconds: number;
}

/** Formats a ratio for tables: `0.52×`. */
export const times = (ratio: number) => `${ratio.toFixed(2)}×`;
/** Formats bytes as MiB with one decimal. */
export const mib = (bytes: number) => `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
