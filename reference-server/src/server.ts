import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { ServerDeps } from './deps.js';
import { createApp } from './app.js';
import { createLogger } from './request-context.js';
import { createTokenVerifier } from './middleware/auth.js';
import { memoryRateLimiters } from './middleware/rate-limit.js';
import { FileCursorStore } from './events/file-cursor-store.js';
import type { InProcessEventBus } from './events/in-process-bus.js';
import { startRelays } from './events/start-relays.js';
import { Cleaner } from './services/cleaner.js';
import { createBlobStore } from './stores/create-blob-store.js';
import { MemoryLocker } from './stores/memory-locker.js';
import { MemorySessionStore } from './stores/memory-session-store.js';
import { SqliteSessionStore } from './stores/sqlite-session-store.js';

/** A listening server. */
export interface RunningServer {
  server: Server;
  /** e.g. http://127.0.0.1:8080 */
  url: string;
  deps: ServerDeps;
  /** Every event from now on, for code in this process: `events.subscribe(event => ...)`. */
  events: InProcessEventBus;
  /** Stops accepting, lets in-flight requests finish within the shutdown bound, closes stores. */
  close(): Promise<void>;
}

/** The embedded backends: an SQLite session store (or memory), bytes on disk (or in GCS). */
export async function embeddedDeps(config: Config, log: Logger): Promise<ServerDeps> {
  await mkdir(config.dataDir, { recursive: true });
  // Embedded: one process per data directory, so chunks may be written in place.
  const blobs = await createBlobStore(config, { soleWriter: true });
  const sessions =
    config.sessionStore === 'memory'
      ? new MemorySessionStore()
      : SqliteSessionStore.open({ path: path.join(config.dataDir, 'sessions.db') });
  return {
    config,
    log,
    blobs,
    sessions,
    locker: new MemoryLocker(),
    cursors: new FileCursorStore({ dir: path.join(config.dataDir, 'relay-cursors') }),
    rateLimiters: memoryRateLimiters(config.rateLimit),
    verifyToken: createTokenVerifier(config.jwt),
  };
}

/** The configured backends: Redis with `REDIS_URL`, else the embedded ones. */
export async function configuredDeps(config: Config, log: Logger): Promise<ServerDeps> {
  const { redis } = config;
  // Loaded only when used: the Redis client library adds to every embedded start otherwise.
  return redis
    ? (await import('./redis-deps.js')).redisDeps({ ...config, redis }, log)
    : embeddedDeps(config, log);
}

/** Starts the server: stores, app, background upkeep, and the HTTP listener. */
export async function startServer(
  config: Config,
  options: { log?: Logger; deps?: ServerDeps } = {},
): Promise<RunningServer> {
  const log = options.log ?? createLogger(config.logLevel);
  const deps = options.deps ?? (await configuredDeps(config, log));
  const { app, assembler, state, streams, scans } = createApp(deps);
  const cleaner = new Cleaner({
    sessions: deps.sessions,
    blobs: deps.blobs,
    assembler,
    ...(scans ? { scans } : {}),
    log,
    intervalMs: config.cleanupIntervalMs,
    recoveryIntervalMs: config.recoveryIntervalMs,
    eventRetentionMs: config.eventRetentionMs,
    sessionTtlMs: config.sessionTtlMs,
  });

  const server = createServer(app.callback());
  server.keepAliveTimeout = 5_000;
  const active = new Set<Socket>();
  server.on('connection', (socket) => {
    active.add(socket);
    socket.on('close', () => active.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => resolve());
  });
  cleaner.start();
  const relays = startRelays({ ...deps, config });
  const { port } = server.address() as AddressInfo;
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `http://${host}:${port}`;
  log.info({ url, devMode: config.devMode, dataDir: config.dataDir }, 'listening');

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      state.ready = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      streams.closeAll(); // event streams never end by themselves
      server.closeIdleConnections();
      const timeout = new Promise<'timeout'>((resolve) =>
        setTimeout(resolve, config.shutdownTimeoutMs, 'timeout').unref(),
      );
      if ((await Promise.race([closed, timeout])) === 'timeout') {
        log.warn({ connections: active.size }, 'shutdown timeout: closing open connections');
        server.closeAllConnections();
        await closed;
      }
      await cleaner.stop();
      await scans?.stop(); // unfinished scans resume at the next start
      await relays.stop(); // unsent events go out from the cursor at the next start
      await deps.sessions.close();
      await deps.blobs.close();
      await deps.closeShared?.();
      log.info('stopped');
    })());
  return { server, url, deps, events: relays.local, close };
}
