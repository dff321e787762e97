/** CPU time of the processes in a run, to tell which one an upload waits for. */
import type { ServerProcess } from './processes.js';
import { median } from './stats.js';

/** CPU seconds each process used during one run, and the run's wall time in seconds. */
export type CpuSample = Record<string, number> & { wall: number };

/**
 * Runs `work`, reading the CPU time of `servers` (from /proc) and of this process (the client)
 * before and after it.
 */
export async function cpuDuring<T>(
  servers: Record<string, ServerProcess>,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuSample }> {
  const entries = Object.entries(servers);
  const read = () => Promise.all(entries.map(([, server]) => server.cpuSeconds()));
  const before = await read();
  const client = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const wall = (performance.now() - started) / 1000;
  const used = process.cpuUsage(client);
  const after = await read();
  const cpu: CpuSample = { wall, client: (used.user + used.system) / 1e6 };
  entries.forEach(([name], i) => (cpu[name] = (after[i] as number) - (before[i] as number)));
  return { result, cpu };
}

/** "reference server 12.1 s, emulator 30.2 s, client 8.0 s of 40.3 s": medians over the runs. */
export function cpuNote(who: string, samples: CpuSample[]): string {
  if (samples.length === 0) return `${who}: no runs.`;
  const names = Object.keys(samples[0] as CpuSample).filter((k) => k !== 'wall');
  const wall = median(samples.map((s) => s.wall));
  const parts = names.map((name) => {
    const seconds = median(samples.map((s) => s[name] ?? 0));
    return `${name} ${seconds.toFixed(1)} s (${((seconds / wall) * 100).toFixed(0)} % of a core)`;
  });
  return `CPU time per run of ${who} (medians over ${samples.length} runs, warm-up included; ${wall.toFixed(1)} s of wall time): ${parts.join(', ')}.`;
}
