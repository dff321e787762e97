import type { Config } from '../config.js';
import { ClamdScanner } from './clamd-scanner.js';
import type { Scanner } from './scanner.js';

/** The configured scanner, or undefined when scanning is off (no `CLAMD_URL`). */
export function createScanner(config: Pick<Config, 'scan'>): Scanner | undefined {
  const { scan } = config;
  if (!scan) return undefined;
  return new ClamdScanner({
    url: scan.clamdUrl,
    connectTimeoutMs: Math.min(5_000, scan.timeoutMs),
    // clamd silent this long, while taking the stream or before its verdict, fails the attempt.
    idleTimeoutMs: scan.timeoutMs,
    verdictTimeoutMs: scan.timeoutMs,
    ...(scan.streamMaxLength !== undefined ? { streamMaxLength: scan.streamMaxLength } : {}),
  });
}
