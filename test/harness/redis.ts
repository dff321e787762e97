/**
 * A real redis-server for tests, on a free 127.0.0.1 port with its own temporary directory. The
 * append-only file is on (`--appendonly yes --appendfsync always`, no RDB snapshots), so a
 * restart on the same port and directory keeps the data, even after SIGKILL, as a production
 * Redis configured as docs/deployment.md says would. When redis-server is
 * missing, Debian's package is installed once (apt-get, as root). The machine's own Redis (port
 * 6379) is never used.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

import { ensureDebianPackages } from './debian-packages.js';

const REDIS_SERVER = '/usr/bin/redis-server';
const READY_TIMEOUT_MS = 15_000;
const STOP_TIMEOUT_MS = 10_000;

/** A running redis-server. Its process and directory are removed when the test file ends. */
export interface TestRedis {
  /** `redis://127.0.0.1:PORT` */
  readonly url: string;
  readonly port: number;
  /** Where the append-only file lives. */
  readonly dir: string;
  /** Stops Redis (SIGTERM: the AOF is flushed) and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
  /** SIGKILL: no chance to flush or say goodbye; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Stops Redis if running, starts it again on the same port and directory, waits for PING. */
  restart(): Promise<void>;
  /** Freezes Redis (SIGSTOP): connections stay open, but nothing is answered. */
  pause(): void;
  /** Thaws a paused Redis (SIGCONT). */
  resume(): void;
}

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();

after(async () => {
  await Promise.all([...running].map((child) => terminate(child, 'SIGTERM')));
  await Promise.all(
    [...tempDirs].map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)),
  );
});

function killAll(): void {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
}

process.on('exit', killAll);
// A test file stopped by a signal (a runner's timeout, Ctrl-C) runs no 'exit' handlers: take the
// servers down first, then let the signal do what it would have done.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
  process.once(signal, () => {
    killAll();
    process.kill(process.pid, signal);
  });
}

/** Installs Debian's redis-server unless the binary exists. */
export function ensureRedis(): Promise<void> {
  return ensureDebianPackages([REDIS_SERVER], ['redis-server']);
}

/** Starts redis-server on a free loopback port and waits until it answers PING. */
export async function startRedis(): Promise<TestRedis> {
  await ensureRedis();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fu-redis-'));
  tempDirs.add(dir);

  let child: ChildProcess | undefined;
  let port = 0;
  const launch = async (): Promise<void> => {
    let output = '';
    const started = spawn(
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        // Every write is on disk before Redis answers, so even SIGKILL loses nothing acknowledged.
        '--appendfsync',
        'always',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--logfile',
        '',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child = started;
    running.add(started);
    started.once('exit', () => running.delete(started));
    started.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
    started.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
    await waitForPing(started, port, () => output);
  };
  const stopWith = async (signal: NodeJS.Signals): Promise<void> => {
    if (child) await terminate(child, signal);
    child = undefined;
  };
  const signal = (name: NodeJS.Signals): void => {
    if (!child?.pid) throw new Error('redis-server is not running');
    process.kill(child.pid, name);
  };

  for (let attempt = 1; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (err) {
      // Another process may take the free port before Redis binds it: try another one.
      if (attempt >= 3 || !/Address already in use/i.test((err as Error).message)) throw err;
    }
  }

  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    stop: () => stopWith('SIGTERM'),
    kill: () => stopWith('SIGKILL'),
    restart: async () => {
      await stopWith('SIGTERM');
      await launch();
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
  };
}

/** Resolves once Redis answers PING with PONG (not while it loads its AOF); rejects on exit. */
async function waitForPing(child: ChildProcess, port: number, output: () => string) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitedEarly = false;
  child.once('exit', () => (exitedEarly = true));
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`redis-server exited during start:\n${output()}`);
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  await terminate(child, 'SIGKILL');
  throw new Error(`redis-server did not answer PING within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.setEncoding('latin1').on('data', (text: string) => {
      reply += text;
      if (reply.includes('\r\n')) socket.destroy();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply.startsWith('+PONG')));
  });
}

/** Sends `signal` (after SIGCONT, in case it is paused), SIGKILL after a bound; awaits exit. */
async function terminate(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGCONT');
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
  await exited;
  clearTimeout(timer);
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
