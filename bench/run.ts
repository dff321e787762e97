/**
 * `npm run bench`: runs the scenarios, prints their tables, checks the budgets (`--check`), and
 * (full runs only) saves each scenario's results and writes docs/benchmarks.md with its chart.
 */
import { parseArgs, USAGE } from './src/args.js';
import { buildServers } from './src/build.js';
import type { BenchContext } from './src/context.js';
import { saveResult, writeDocs } from './src/docs.js';
import { loadNow, machineInfo } from './src/machine.js';
import { reducedSizeNote } from './src/reduced.js';
import type { ScenarioId, ScenarioResult } from './src/results.js';
import { textTable } from './src/table.js';
import { bundle } from './scenarios/bundle.js';
import { browser } from './scenarios/browser.js';
import { concurrency } from './scenarios/concurrency.js';
import { hashing } from './scenarios/hashing.js';
import { resume } from './scenarios/resume.js';
import { throughput } from './scenarios/throughput.js';

const RUNNERS: Record<ScenarioId, (ctx: BenchContext) => Promise<ScenarioResult>> = {
  throughput,
  concurrency,
  resume,
  browser,
  bundle,
  hashing,
};

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(USAGE);
    return 0;
  }
  let args;
  try {
    args = parseArgs(argv);
  } catch (err) {
    console.error(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const programs = await buildServers();
  const ctx: BenchContext = {
    quick: args.quick,
    sizes: args.sizes,
    rounds: args.rounds,
    warmup: args.warmup,
    programs,
    ...(args.profileDir ? { profileDir: args.profileDir } : {}),
    log: (message) => console.error(message),
  };
  const command = `npm run bench -- ${argv.join(' ')}`.trim();
  const results: ScenarioResult[] = [];
  const failed: ScenarioId[] = [];
  for (const id of args.scenarios) {
    console.error(`# ${id}${args.quick ? ' (quick)' : ''}`);
    const machine = machineInfo();
    let result: ScenarioResult;
    try {
      result = { ...(await RUNNERS[id](ctx)), command };
    } catch (err) {
      // One broken scenario does not hide the others' results; the run still fails.
      console.error(`${id} failed:`, err);
      failed.push(id);
      continue;
    }
    const reduced = args.quick ? undefined : reducedSizeNote(id, args.sizes);
    if (reduced) result.notes.push(reduced);
    results.push(result);
    print(result);
    if (!args.quick) await saveResult({ ...result, machine: { ...machine, loadEnd: loadNow() } });
  }
  if (failed.length > 0) console.log(`\nFailed: ${failed.join(', ')}`);
  if (!args.quick && results.length > 0) {
    const written = await writeDocs();
    console.log(`\nWrote ${written.join(', ')}`);
  } else {
    console.log('\n(--quick: nothing written to docs)');
  }
  const missed = results.flatMap((r) => r.budgets.filter((b) => b.pass === false));
  if (missed.length > 0) console.log(`\n${missed.length} budget(s) missed.`);
  if (failed.length > 0) return 1;
  return args.check && missed.length > 0 ? 1 : 0;
}

function print(result: ScenarioResult): void {
  console.log(`\n## ${result.title}\n`);
  console.log(textTable(result.columns, result.rows));
  if (result.budgets.length > 0) {
    console.log('');
    console.log(
      textTable(
        ['budget', 'target', 'measured', 'result'],
        result.budgets.map((b) => [b.name, b.target, b.actual, verdict(b.pass)]),
      ),
    );
  }
  for (const note of result.notes) console.log(`\n${note}`);
}

function verdict(pass: boolean | undefined): string {
  return pass === undefined ? 'n/a' : pass ? 'pass' : 'MISSED';
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
