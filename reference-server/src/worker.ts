import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { SERVICE_ROUTES, statusOf, type ErrorCode } from '@file-uploader/protocol';
import { ConfigError, type Config } from './config.js';
import type { ServerDeps } from './deps.js';
import { createLogger } from './request-context.js';
import { createScanner } from './scan/create-scanner.js';
import { configuredDeps } from './server.js';
import { ScanFeed } from './services/scan-feed.js';
import { ScanRunner } from './services/scan-runner.js';

/** A running worker process. */
export interface RunningWorker {
  /** Its health endpoint, e.g. http://127.0.0.1:8081 (`/healthz`, `/readyz` only). */
  url: string;
  deps: ServerDeps;
  /** Aborts running scans (their files stay `scanning`), stops feeding, closes the stores. */
  close(): Promise<void>;
}

/** Why this configuration cannot run a worker; empty when it can. */
export function workerProblems(config: Config): string[] {
  const problems: string[] = [];
  if (!config.scan) problems.push('The worker scans files: CLAMD_URL is required');
  if (!config.redis && config.sessionStore === 'memory') {
    problems.push(
      'The worker shares the server store: use SQLite (SESSION_STORE=embedded) or REDIS_URL',
    );
  }
  return problems;
}

/**
 * Starts a worker (`file-uploader-server worker`): the same configuration and backends as the
 * server, no API, and a ScanRunner that scans the files the servers left `scanning`
 * (PROCESSING=worker), fed by a ScanFeed. Workers on one Redis share the work through per-file
 * scan locks; with the embedded store, locks are in-process, so run one worker per DATA_DIR.
 * It listens on HOST:PORT for health probes only.
 */
export async function startWorker(
  config: Config,
  options: { log?: Logger; deps?: ServerDeps } = {},
): Promise<RunningWorker> {
  const problems = workerProblems(config);
  const scanConfig = config.scan;
  if (problems.length > 0 || !scanConfig) throw new ConfigError(problems);
  const log = (options.log ?? createLogger(config.logLevel)).child({ role: 'worker' });
  const deps = options.deps ?? (await configuredDeps(config, log));
  const scanner = deps.scanner ?? createScanner(config);
  if (!scanner) throw new ConfigError(['The worker scans files: CLAMD_URL is required']);
  if (config.processing === 'inline') {
    log.warn('PROCESSING=inline: the servers scan too; set PROCESSING=worker on them');
  }
  const scans = new ScanRunner({
    sessions: deps.sessions,
    blobs: deps.blobs,
    scanner,
    locker: deps.locker,
    log,
    deadlineMs: scanConfig.deadlineMs,
    concurrency: scanConfig.concurrency,
  });
  const feed = new ScanFeed({
    sessions: deps.sessions,
    scans,
    log,
    pollIntervalMs: config.workerPollIntervalMs,
  });

  const state = { ready: true };
  const health = createServer((req, res) => void answerProbe(req, res, deps, state));
  await new Promise<void>((resolve, reject) => {
    health.once('error', reject);
    health.listen(config.port, config.host, () => resolve());
  });
  feed.start();
  const { port } = health.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info(
    { url, concurrency: scanConfig.concurrency, sharedLocks: Boolean(config.redis) },
    'worker started',
  );

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      state.ready = false;
      await feed.stop();
      await scans.stop(); // aborted scans leave their files `scanning` for the next worker
      const closed = new Promise<void>((resolve) => health.close(() => resolve()));
      health.closeAllConnections(); // probes hold nothing worth waiting for
      await closed;
      await deps.sessions.close();
      await deps.blobs.close();
      await deps.closeShared?.();
      log.info('stopped');
    })());
  return { url, deps, close };
}

/** `/healthz` (alive) and `/readyz` (the store answers, not stopping), as the server has them. */
async function answerProbe(
  req: IncomingMessage,
  res: ServerResponse,
  deps: ServerDeps,
  state: { ready: boolean },
): Promise<void> {
  const path = (req.url ?? '/').split('?')[0];
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8' });
    res.end(JSON.stringify(body));
  };
  const fail = (code: ErrorCode, message: string) =>
    send(statusOf(code), { error: { code, message } });
  if (path !== SERVICE_ROUTES.health && path !== SERVICE_ROUTES.ready) {
    return fail('not_found', 'A worker answers health probes only.');
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    return fail('method_not_allowed', 'Health probes take GET.');
  }
  if (path === SERVICE_ROUTES.health) return send(200, { status: 'ok' });
  if (!state.ready) return fail('unavailable', 'The worker is shutting down.');
  try {
    await deps.sessions.ping();
  } catch {
    return fail('unavailable', 'The session store does not answer.');
  }
  send(200, { status: 'ready' });
}
