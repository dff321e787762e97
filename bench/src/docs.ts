/**
 * docs/benchmarks.md is written from the last full result of each scenario (bench/results/*.json),
 * so running one scenario alone updates its section and keeps the others.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as prettier from 'prettier';
import { ratioChart } from './chart.js';
import { describeMachine, type MachineInfo } from './machine.js';
import { CHART_FILE, DOCS_FILE, RESULTS_DIR } from './paths.js';
import { SCENARIOS, type ScenarioResult } from './results.js';
import { markdownTable } from './table.js';

export type SavedResult = ScenarioResult & { machine: MachineInfo };

/** Saves a scenario's result, formatted as the repository's Prettier settings want it. */
export async function saveResult(result: SavedResult): Promise<void> {
  await mkdir(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${result.id}.json`);
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(
    file,
    await prettier.format(JSON.stringify(result), { ...options, filepath: file }),
  );
}

async function loadResults(): Promise<SavedResult[]> {
  const found: SavedResult[] = [];
  for (const id of SCENARIOS) {
    try {
      found.push(JSON.parse(await readFile(path.join(RESULTS_DIR, `${id}.json`), 'utf8')));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
  }
  return found;
}

const verdict = (pass: boolean | undefined) =>
  pass === undefined ? 'not measured' : pass ? 'pass' : '**missed**';

function section(r: SavedResult): string {
  const lines = [
    `## ${r.title}`,
    '',
    `Run ${r.startedAt.slice(0, 16).replace('T', ' ')} UTC in ${r.durationSeconds.toFixed(0)} s with \`${r.command}\`;`,
    `${describeMachine(r.machine)}.`,
    `Settings: ${Object.entries(r.settings)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
    '',
    r.method,
    '',
    markdownTable(r.columns, r.rows),
  ];
  if (r.id === 'throughput' && r.chart)
    lines.push('', '![Throughput against curl](benchmarks.svg)');
  if (r.budgets.length > 0) {
    lines.push(
      '',
      markdownTable(
        ['budget', 'target', 'measured', 'result'],
        r.budgets.map((b) => [b.name, b.target, b.actual, verdict(b.pass)]),
      ),
    );
  }
  for (const note of r.notes) lines.push('', note);
  return lines.join('\n');
}

/** A line naming the scenarios that have no full result yet. */
function missing(results: SavedResult[]): string[] {
  const absent = SCENARIOS.filter((id) => !results.some((r) => r.id === id));
  return absent.length === 0
    ? []
    : [
        `Not yet run in full on this machine: ${absent.join(', ')} (\`npm run bench -- ${absent.join(' ')}\`).`,
        '',
      ];
}

/** The Markdown of docs/benchmarks.md for these results. */
export function renderDocs(results: SavedResult[]): string {
  const budgets = results.flatMap((r) => r.budgets.map((b) => ({ ...b, scenario: r.title })));
  return [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (bench/); do not edit by hand. Every figure is a ratio against a',
    'baseline measured in the same run, the two alternated (A B, then B A, ...), medians of at',
    'least 5 pairs, so a shared or busy machine moves both sides alike. Absolute MiB/s are shown',
    'to orient only. Every upload is checked by the SHA-256 of what the server stored.',
    '',
    '- `npm run bench` runs every scenario; `npm run bench -- throughput` runs one (its section',
    '  here is replaced, the others kept).',
    '- `npm run bench -- --check` exits non-zero when a budget below is missed.',
    '- `npm run bench -- --quick` runs small sizes for development; it never writes this file.',
    '- `npm run bench -- --help` lists the size options.',
    '',
    'Servers run as their own `node` processes, built from source by esbuild into bench/dist',
    '(no TypeScript loader in a measured process); clients run in the benchmark process, the SDK',
    'from its sources; the browser is Debian’s Chromium driven by playwright-core.',
    '',
    '## Budgets',
    '',
    markdownTable(
      ['scenario', 'budget', 'target', 'measured', 'result'],
      budgets.map((b) => [b.scenario, b.name, b.target, b.actual, verdict(b.pass)]),
    ),
    '',
    ...missing(results),
    ...results.map((r) => `${section(r)}\n`),
  ].join('\n');
}

/** Writes docs/benchmarks.md (and the chart when scenario 1 has results); returns the files. */
export async function writeDocs(): Promise<string[]> {
  const results = await loadResults();
  await writeFile(DOCS_FILE, renderDocs(results));
  const written = [DOCS_FILE];
  const throughput = results.find((r) => r.id === 'throughput');
  if (throughput?.chart) {
    await writeFile(
      CHART_FILE,
      ratioChart('Upload throughput against curl -T to a bare Node server', throughput.chart, 0.5),
    );
    written.push(CHART_FILE);
  }
  return written;
}
