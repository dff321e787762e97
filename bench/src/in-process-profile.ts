/** A CPU profile of this process around one piece of work (node:inspector), for `--profile`. */
import { Session } from 'node:inspector/promises';
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Runs `work` while profiling this process and writes the profile to `file`. */
export async function profiled<T>(file: string, work: () => Promise<T>): Promise<T> {
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    try {
      return await work();
    } finally {
      const { profile } = await session.post('Profiler.stop');
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(file, JSON.stringify(profile));
    }
  } finally {
    session.disconnect();
  }
}

/**
 * Node's `--cpu-prof` writes one profile per thread, each named
 * `CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile` (thread 0: the main thread). A fixed
 * `--cpu-prof-name` would have every thread write the same file, the last one to exit winning;
 * so a process profiles into a folder of its own (`scratch`), and once it has exited this moves
 * its main thread's profile to `<dir>/<base>.cpuprofile` and each other thread's to
 * `<dir>/<base>-thread-<n>.cpuprofile`. Returns the names written.
 */
export async function collectThreadProfiles(
  scratch: string,
  dir: string,
  base: string,
): Promise<string[]> {
  const written: string[] = [];
  for (const name of (await readdir(scratch).catch(() => [])).sort()) {
    const thread = /^CPU\.\d+\.\d+\.\d+\.(\d+)\.\d+\.cpuprofile$/.exec(name)?.[1];
    if (thread === undefined) continue;
    const target = thread === '0' ? `${base}.cpuprofile` : `${base}-thread-${thread}.cpuprofile`;
    await rename(path.join(scratch, name), path.join(dir, target));
    written.push(target);
  }
  await rm(scratch, { recursive: true, force: true });
  return written;
}
