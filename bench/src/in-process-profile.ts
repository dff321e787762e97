/** A CPU profile of this process around one piece of work (node:inspector), for `--profile`. */
import { Session } from 'node:inspector/promises';
import { writeFile, mkdir } from 'node:fs/promises';
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
