/** CPU time of the processes in a run, to tell which one an upload waits for. */
import type { CpuTimes, ServerProcess } from './processes.js';
import { median } from './stats.js';

/** CPU time each process used during one run, and the run's wall time, in seconds. */
export interface CpuSample {
  wall: number;
  /** By process: `client` (this process) and each server by its given name. */
  used: Record<string, CpuTimes>;
}

/**
 * Runs `work`, reading the CPU time of `servers` (from /proc) and of this process (the client)
 * before and after it.
 */
export async function cpuDuring<T>(
  servers: Record<string, ServerProcess>,
  work: () => Promise<T>,
): Promise<{ result: T; cpu: CpuSample }> {
  const entries = Object.entries(servers);
  const read = () => Promise.all(entries.map(([, server]) => server.cpuTimes()));
  const before = await read();
  const client = process.cpuUsage();
  const started = performance.now();
  const result = await work();
  const wall = (performance.now() - started) / 1000;
  const own = process.cpuUsage(client);
  const after = await read();
  const used: Record<string, CpuTimes> = {
    client: { user: own.user / 1e6, system: own.system / 1e6 },
  };
  entries.forEach(([name], i) => {
    const [was, is] = [before[i] as CpuTimes, after[i] as CpuTimes];
    used[name] = { user: is.user - was.user, system: is.system - was.system };
  });
  return { result, cpu: { wall, used } };
}

/**
 * "client 1.0 s (50 % of a core; 0.3 s in the kernel), reference server ...": medians over the
 * runs. Kernel time shows what writing to sockets and into the page cache cost.
 */
export function cpuNote(who: string, samples: CpuSample[]): string {
  if (samples.length === 0) return `${who}: no runs.`;
  const names = Object.keys((samples[0] as CpuSample).used);
  const wall = median(samples.map((s) => s.wall));
  const parts = names.map((name) => {
    const times = samples.map((s) => s.used[name] ?? { user: 0, system: 0 });
    const seconds = median(times.map((t) => t.user + t.system));
    const kernel = median(times.map((t) => t.system));
    const share = ((seconds / wall) * 100).toFixed(0);
    return `${name} ${seconds.toFixed(1)} s (${share} % of a core; ${kernel.toFixed(1)} s in the kernel)`;
  });
  return `CPU time per run of ${who} (medians over ${samples.length} runs, warm-up included; ${wall.toFixed(1)} s of wall time): ${parts.join(', ')}.`;
}
