import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The bench workspace (this file is bench/src/paths.ts). */
export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Root of the monorepo. */
export const REPO_ROOT = path.resolve(BENCH_DIR, '..');
/** Built server programs (gitignored). */
export const BUILD_DIR = path.join(BENCH_DIR, 'dist');
/** Last results of each scenario, from which docs/benchmarks.md is written. */
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');
export const DOCS_FILE = path.join(REPO_ROOT, 'docs', 'benchmarks.md');
export const CHART_FILE = path.join(REPO_ROOT, 'docs', 'benchmarks.svg');
/** The element's entry; its rows appear once it exists. */
export const ELEMENT_ENTRY = path.join(REPO_ROOT, 'packages', 'element', 'src', 'define.ts');
