/**
 * Child processes and scratch space of a benchmark run. Servers run as their own processes so
 * their peak memory can be read from /proc, and everything started here is killed on exit.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
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
  /** CPU time (user + system) the process has used so far, in seconds. */
  cpuSeconds(): Promise<number>;
  /** The same, split into user and system (kernel) time. */
  cpuTimes(): Promise<CpuTimes>;
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

interface Launched {
  child: ChildProcess;
  gone: Promise<void>;
  output(): string;
}

/** Starts `node <args>` with `env`, keeping its last output for error messages. */
function launch(args: string[], env: Record<string, string>): Launched {
  const child = spawn(process.execPath, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
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
  return { child, gone: exited(child), output: () => output };
}

/** Waits for `ready`, or fails (killing the child) when the child exits first. */
async function readyOrKill<T>(name: string, run: Launched, ready: Promise<T>): Promise<T> {
  const { child, gone } = run;
  ready.catch(() => undefined); // settled after an early exit: nobody waits for it then
  const failed = gone.then(() => {
    throw new Error(`${name} exited early (code ${child.exitCode})\n${run.output()}`);
  });
  try {
    return await Promise.race([ready, failed]);
  } catch (err) {
    child.kill('SIGKILL');
    await gone;
    throw err;
  } finally {
    failed.catch(() => undefined);
  }
}

function serverProcess(name: string, port: number, url: string, run: Launched): ServerProcess {
  const { child, gone } = run;
  return {
    name,
    port,
    url,
    pid: child.pid as number,
    peakRss: () => vmHwm(child.pid as number),
    cpuSeconds: () => cpuSeconds(child.pid as number),
    cpuTimes: () => cpuTimes(child.pid as number),
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
    output: run.output,
  };
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on Linux unless told otherwise). */
let userHz: number | undefined;

/** CPU time of a process, in seconds. */
export interface CpuTimes {
  user: number;
  system: number;
}

/** CPU time (user + system) of a live process, in seconds, from /proc. */
export async function cpuSeconds(pid: number): Promise<number> {
  const { user, system } = await cpuTimes(pid);
  return user + system;
}

/** User and system CPU time of a live process, in seconds, from /proc. */
export async function cpuTimes(pid: number): Promise<CpuTimes> {
  if (userHz === undefined) {
    try {
      userHz = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      userHz = 100;
    }
  }
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start at field 3; utime, stime: 14, 15.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) / userHz, system: Number(fields[12]) / userHz };
}

/** Starts `node <args>` with `env` and waits until `ready` resolves. */
export async function spawnServer(options: SpawnOptions): Promise<ServerProcess> {
  const run = launch(options.args, options.env);
  const url = `http://127.0.0.1:${options.port}`;
  await readyOrKill(options.name, run, options.ready(url));
  return serverProcess(options.name, options.port, url, run);
}

/**
 * Starts a server that picks its own port and announces itself with one JSON line on stdout
 * holding at least its `url`; resolves with the process and that line, parsed.
 */
export async function spawnAnnouncing<T extends { url: string }>(options: {
  name: string;
  args: string[];
  env: Record<string, string>;
  timeoutMs?: number;
}): Promise<{ server: ServerProcess; announced: T }> {
  const run = launch(options.args, options.env);
  const timeoutMs = options.timeoutMs ?? 20_000;
  const announced = new Promise<T>((resolve, reject) => {
    let line = '';
    const timer = setTimeout(
      () => reject(new Error(`${options.name} did not announce itself within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onData = (text: string) => {
      line += text;
      const end = line.indexOf('\n');
      if (end < 0) return;
      clearTimeout(timer);
      run.child.stdout?.off('data', onData);
      try {
        resolve(JSON.parse(line.slice(0, end)) as T);
      } catch {
        reject(new Error(`${options.name} announced something else: ${line.slice(0, end)}`));
      }
    };
    run.child.stdout?.on('data', onData);
  });
  const parsed = await readyOrKill(options.name, run, announced);
  const port = Number(new URL(parsed.url).port);
  return { server: serverProcess(options.name, port, parsed.url, run), announced: parsed };
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
