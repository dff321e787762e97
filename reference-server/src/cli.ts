#!/usr/bin/env node
import v8 from 'node:v8';
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';
import { startWorker } from './worker.js';

const USAGE = `Usage: file-uploader-server [worker]
  (no argument)  the upload server
  worker         a scan worker for PROCESSING=worker (docs/scanning.md)
Configured by environment variables only (docs/configuration.md).`;

/**
 * Each body piece the HTTP parser hands over is memory outside the V8 heap, and V8 counts it
 * against a limit set from the live heap (about 17 MB here) times a growing factor it tunes
 * for heap allocations, not for these: at upload speed that limit is met every 10-20 MB, and a
 * full collection follows (40 per 512 MiB uploaded in the benchmark, a second of CPU). A fixed
 * factor of 4 leaves room for the pieces between collections. Not when the operator chose one.
 */
const HEAP_GROWING = '--heap-growing-percent=300';
if (![...process.execArgv, process.env.NODE_OPTIONS ?? ''].join(' ').includes('heap-growing')) {
  v8.setFlagsFromString(HEAP_GROWING);
}

/** `file-uploader-server [worker]`: configured only by environment variables. */
async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const command = args[0];
  if (args.length > 1 || (command !== undefined && command !== 'worker')) {
    console.error(USAGE);
    process.exit(2);
  }
  let running;
  try {
    const config = loadConfig(process.env);
    running = command === 'worker' ? await startWorker(config) : await startServer(config);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(2);
    }
    throw err;
  }
  let signals = 0;
  const stop = (signal: NodeJS.Signals) => {
    if (++signals > 1) process.exit(1); // A second signal means: now.
    running.deps.log.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        running.deps.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
