/**
 * Child processes and scratch space of a benchmark run. Servers run as their own processes so
 * their peak memory can be read from /proc, and everything started here is killed on exit.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const live = new Set<ChildProcess>();
const scratch = new Set<string>();

function killAllSync(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
}

process.once('exit', killAllSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    killAllSync();
    process.exit(130);
  });
}

/** A fresh directory under os.tmpdir(), removed at exit at the latest. */
export async function scratchDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `fu-bench-${prefix}-`));
  scratch.add(dir);
  return dir;
}

/** Removes a scratch directory now. */
export async function removeScratch(dir: string): Promise<void> {
  scratch.delete(dir);
  await rm(dir, { recursive: true, force: true });
}

/** A TCP port on 127.0.0.1 that was free a moment ago. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server running as a child process. */
export interface ServerProcess {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  readonly pid: number;
  /** Peak resident set size so far (VmHWM), in bytes. */
  peakRss(): Promise<number>;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves when the process is gone. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL; resolves when the process is gone. */
  kill(): Promise<void>;
  /** What the process wrote, for error messages. */
  output(): string;
}

export interface SpawnOptions {
  name: string;
  args: string[];
  env: Record<string, string>;
  port: number;
  /** Resolves once the server answers; rejects on a timeout. */
  ready: (url: string) => Promise<void>;
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Reads VmHWM of a live process from /proc. */
export async function vmHwm(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(status);
  if (!match?.[1]) throw new Error(`no VmHWM in /proc/${pid}/status`);
  return Number(match[1]) * 1024;
}

/** Starts `node <args>` with `env` and waits until `ready` resolves. */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const child = spawn(process.execPath, options.args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  child.once('exit', () => live.delete(child));
  let output = '';
  const keep = (text: string) => {
    output = (output + text).slice(-20_000);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  const url = `http://127.0.0.1:${options.port}`;
  const gone = exited(child);
  const failed = gone.then(() => {
    throw new Error(`${options.name} exited early (code ${child.exitCode})\n${output}`);
  });
  try {
    await Promise.race([options.ready(url), failed]);
  } catch (err) {
    child.kill('SIGKILL');
    await gone;
    throw err;
  }
  failed.catch(() => undefined);
  return {
    name: options.name,
    port: options.port,
    url,
    pid: child.pid as number,
    peakRss: () => vmHwm(child.pid as number),
    async stop(graceMs = 10_000) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await gone;
      clearTimeout(timer);
    },
    async kill() {
      child.kill('SIGKILL');
      await gone;
    },
    output: () => output,
  };
}

/** Polls `url` until it answers 2xx, for at most `timeoutMs`. */
export async function waitHttp(url: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.ok) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms (${last})`);
}

/** Runs a command to completion; rejects with its output when it fails. */
export function runCommand(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (out += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (err += text));
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      live.delete(child);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')}: code ${code} ${signal ?? ''}\n${err}`));
    });
  });
}
