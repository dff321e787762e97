import path from 'node:path';
import { SCENARIOS, type ScenarioId } from './results.js';
import { FULL_SIZES, QUICK_SIZES, type Sizes } from './context.js';

export interface BenchArgs {
  scenarios: ScenarioId[];
  quick: boolean;
  check: boolean;
  rounds: number;
  warmup: number;
  sizes: Sizes;
  /** Directory for a CPU profile of the reference server during the throughput runs. */
  profileDir?: string;
}

export const USAGE = `npm run bench -- [scenario ...] [options]

Scenarios (default: all): ${SCENARIOS.join(', ')}

Options:
  --check                 exit 1 when a budget is missed
  --quick                 small sizes and 3 rounds, for development (docs are not written)
  --rounds=N              measured runs per contender (default 5; at least 5 unless --quick)
  --warmup=N              unmeasured runs per contender first (default 1)
  --throughput-size=SIZE  file size of scenario 1 (default 512MiB)
  --concurrency-files=N   uploads at once in scenario 2 (default 50)
  --concurrency-size=SIZE size of each of them (default 20MiB)
  --resume-size=SIZE      file size of scenario 3 (default 256MiB)
  --browser-size=SIZE     file size of scenario 4 (default 100MB)
  --hashing-size=SIZE     bytes hashed in scenario 6 (default 256MiB)
  --profile=DIR           write a CPU profile of the reference server (throughput) into DIR
SIZE: a number of bytes, or with KiB/MiB/GiB/KB/MB/GB.`;

const UNITS: Record<string, number> = {
  '': 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

export function parseSize(value: string): number {
  const match = /^(\d+(?:\.\d+)?)([a-z]*)$/i.exec(value.trim());
  const unit = UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  if (!match?.[1] || unit === undefined) throw new Error(`not a size: ${value}`);
  return Math.round(Number(match[1]) * unit);
}

function count(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be a whole number ≥ ${min}`);
  return n;
}

/** Parses the command line; throws with a message on anything it does not know. */
export function parseArgs(argv: readonly string[]): BenchArgs {
  const quick = argv.includes('--quick');
  const sizes: Sizes = { ...(quick ? QUICK_SIZES : FULL_SIZES) };
  const args: BenchArgs = {
    scenarios: [],
    quick,
    check: false,
    rounds: quick ? 3 : 5,
    warmup: 1,
    sizes,
  };
  for (const arg of argv) {
    const [flag, value = ''] = arg.split(/=(.*)/s) as [string, string?];
    switch (flag) {
      case '--quick':
        break;
      case '--check':
        args.check = true;
        break;
      case '--rounds':
        args.rounds = count(value, '--rounds', quick ? 1 : 5);
        break;
      case '--warmup':
        args.warmup = count(value, '--warmup', 0);
        break;
      case '--throughput-size':
        sizes.throughputBytes = parseSize(value);
        break;
      case '--concurrency-files':
        sizes.concurrencyFiles = count(value, '--concurrency-files', 1);
        break;
      case '--concurrency-size':
        sizes.concurrencyBytes = parseSize(value);
        break;
      case '--resume-size':
        sizes.resumeBytes = parseSize(value);
        break;
      case '--browser-size':
        sizes.browserBytes = parseSize(value);
        break;
      case '--hashing-size':
        sizes.hashingBytes = parseSize(value);
        break;
      case '--profile':
        if (!value) throw new Error('--profile needs a directory');
        args.profileDir = path.resolve(value);
        break;
      default:
        if (arg.startsWith('-')) throw new Error(`unknown option ${arg}`);
        if (!(SCENARIOS as readonly string[]).includes(arg)) {
          throw new Error(`unknown scenario ${arg} (known: ${SCENARIOS.join(', ')})`);
        }
        args.scenarios.push(arg as ScenarioId);
    }
  }
  if (args.scenarios.length === 0) args.scenarios = [...SCENARIOS];
  return args;
}
