#!/usr/bin/env node
import { ConfigError, loadConfig } from './config.js';
import { startServer } from './server.js';
import { startWorker } from './worker.js';

const USAGE = `Usage: file-uploader-server [worker]
  (no argument)  the upload server
  worker         a scan worker for PROCESSING=worker (docs/scanning.md)
Configured by environment variables only (docs/configuration.md).`;

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
