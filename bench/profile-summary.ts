/**
 * Prints where a CPU profile's time went: busy vs idle, the top frames by self time, and with
 * `--callers=NAME` who called the frames named NAME.
 *   node --import tsx bench/profile-summary.ts FILE.cpuprofile [--top=25] [--callers=NAME]
 */
import { busyIdle, callers, selfTimes } from './src/cpu-profile.js';

const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'));
const option = (name: string) =>
  args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
if (!file) {
  console.error('usage: profile-summary.ts FILE.cpuprofile [--top=25] [--callers=NAME]');
  process.exit(2);
}
const { busyMs, idleMs } = await busyIdle(file);
console.log(`busy ${(busyMs / 1000).toFixed(2)} s, idle ${(idleMs / 1000).toFixed(2)} s`);
for (const line of await selfTimes(file, Number(option('top') ?? 25))) {
  console.log(
    `${(line.share * 100).toFixed(1).padStart(5)} %  ${line.ms.toFixed(0).padStart(6)} ms  ${line.frame}`,
  );
}
const name = option('callers');
if (name) {
  console.log(`\ncallers of ${name}:`);
  for (const { chain, ms } of await callers(file, name)) {
    console.log(`${ms.toFixed(0).padStart(6)} ms  ${chain}`);
  }
}
