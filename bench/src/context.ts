import type { ServerPrograms } from './build.js';
import { MiB } from './data.js';

/** Sizes and counts of one run; every one can be set on the command line. */
export interface Sizes {
  throughputBytes: number;
  concurrencyFiles: number;
  concurrencyBytes: number;
  resumeBytes: number;
  browserBytes: number;
  hashingBytes: number;
}

export const FULL_SIZES: Sizes = {
  throughputBytes: 512 * MiB,
  concurrencyFiles: 50,
  concurrencyBytes: 20 * MiB,
  resumeBytes: 256 * MiB,
  browserBytes: 100_000_000,
  hashingBytes: 256 * MiB,
};

/** `--quick`: enough to see that everything works, never written to the docs. */
export const QUICK_SIZES: Sizes = {
  throughputBytes: 64 * MiB,
  concurrencyFiles: 10,
  concurrencyBytes: 4 * MiB,
  resumeBytes: 64 * MiB,
  browserBytes: 16 * MiB,
  hashingBytes: 32 * MiB,
};

/** What every scenario gets. */
export interface BenchContext {
  quick: boolean;
  sizes: Sizes;
  /** Measured runs of each contender (each paired with a baseline run). */
  rounds: number;
  /** Unmeasured runs of each contender first. */
  warmup: number;
  programs: ServerPrograms;
  /** Where to write a CPU profile of the reference server (throughput), when asked. */
  profileDir?: string;
  log(message: string): void;
}
