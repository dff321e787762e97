import { runCommand } from '../src/processes.js';

/** `curl -T`: the fastest client there is, sending the file in one PUT. */
export async function curlPut(file: string, url: string): Promise<void> {
  await runCommand('curl', ['-sS', '--fail', '-T', file, '-o', '/dev/null', url]);
}
