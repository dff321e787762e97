/**
 * A real clamd for tests, with a signature database generated at start by `sigtool`: a body
 * signature for the EICAR test string (found anywhere in a stream, also inside archives) and a
 * hash signature for ClamAV's own harmless test program (`clam.exe` from clamav-testfiles, which
 * the package also ships inside zip, 7z, tar.gz and more). When clamd or sigtool is missing, the
 * Debian packages are installed once (apt-get, as root).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';

import { ensureDebianPackages } from './debian-packages.js';

/** Where Debian's clamav-testfiles puts its samples (`clam.exe`, `clam.zip`, `clam.7z`, ...). */
export const CLAMAV_TESTFILES_DIR = '/usr/share/clamav-testfiles';

/** Signature names in the generated database. */
const NAMES = { eicar: 'FileUploader.Test.Eicar', clamTestExe: 'FileUploader.Test.ClamExe' };

/**
 * The names clamd reports for the generated database: it appends `.UNOFFICIAL` to signatures
 * that do not come from ClamAV's own signed databases.
 */
export const SIGNATURES = {
  /** Body signature (`.ndb`): the EICAR test string anywhere in the scanned data. */
  eicar: `${NAMES.eicar}.UNOFFICIAL`,
  /** Hash signature (`.hdb`): the exact bytes of clamav-testfiles' `clam.exe`. */
  clamTestExe: `${NAMES.clamTestExe}.UNOFFICIAL`,
} as const;

/**
 * The EICAR anti-virus test file (68 bytes, harmless by definition). Assembled from parts at
 * run time so that no file in the repository contains it and scanners on developer machines do
 * not flag the checkout.
 */
export function eicar(): Buffer {
  const parts = ['X5O!P%@AP[4\\PZX54(P^)7CC)7}$', 'EICAR-STANDARD-', 'ANTIVIRUS-TEST-FILE!$H+H*'];
  return Buffer.from(parts.join(''), 'latin1');
}

export interface ClamdOptions {
  /** `StreamMaxLength`: the largest INSTREAM clamd accepts, e.g. `'100M'` (the default). */
  streamMaxLength?: string;
  /** Further clamd.conf lines (`MaxFileSize: '2M'`, ...), written after the defaults. */
  config?: Record<string, string>;
}

/** A running clamd. Its temporary directory and process are removed when the test file ends. */
export interface TestClamd {
  /** `tcp://127.0.0.1:PORT`. */
  readonly url: string;
  /** `unix:///tmp/.../clamd.sock`. */
  readonly socketUrl: string;
  /** The generated clamd.conf. */
  readonly configPath: string;
  /** Stops clamd (SIGTERM, then SIGKILL) and waits until it has exited. Idempotent. */
  stop(): Promise<void>;
  /** Crashes clamd (SIGKILL): open connections drop at once. Waits until it has exited. */
  kill(): Promise<void>;
  /** Freezes clamd (SIGSTOP): connections are still accepted by the kernel but never answered. */
  pause(): void;
  /** Thaws a paused clamd (SIGCONT). */
  resume(): void;
  /** Stops clamd if running, starts it again on the same port and socket, and waits for PING. */
  restart(): Promise<void>;
  /** clamd's log file so far, for assertion messages. */
  log(): Promise<string>;
}

const CLAMD = '/usr/sbin/clamd';
const SIGTOOL = '/usr/bin/sigtool';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;

const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();

after(async () => {
  await Promise.all([...running].map((child) => terminate(child)));
  await Promise.all(
    [...tempDirs].map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)),
  );
});

process.on('exit', () => {
  for (const child of running) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

/** Installs clamav-daemon, clamav (for sigtool) and clamav-testfiles unless their files exist. */
export function ensureClamav(): Promise<void> {
  return ensureDebianPackages(
    [CLAMD, SIGTOOL, path.join(CLAMAV_TESTFILES_DIR, 'clam.exe')],
    ['clamav-daemon', 'clamav', 'clamav-testfiles'],
  );
}

/** Starts clamd on a free loopback port and a unix socket, with a freshly generated database. */
export async function startClamd(options: ClamdOptions = {}): Promise<TestClamd> {
  await ensureClamav();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'fu-clamd-'));
  tempDirs.add(dir);
  const dbDir = path.join(dir, 'db');
  await mkdir(dbDir);
  await writeDatabase(dir, dbDir);

  const port = await freePort();
  const socketPath = path.join(dir, 'clamd.sock');
  const logPath = path.join(dir, 'clamd.log');
  const configPath = path.join(dir, 'clamd.conf');
  const settings: Record<string, string> = {
    Foreground: 'yes',
    DatabaseDirectory: dbDir,
    TCPSocket: String(port),
    TCPAddr: '127.0.0.1',
    LocalSocket: socketPath,
    PidFile: path.join(dir, 'clamd.pid'),
    LogFile: logPath,
    LogVerbose: 'yes',
    StreamMaxLength: options.streamMaxLength ?? '100M',
    MaxThreads: '4',
    SelfCheck: '0',
    ScanArchive: 'yes',
    AlertExceedsMax: 'yes',
    ...options.config,
  };
  const conf = Object.entries(settings)
    .map(([key, value]) => `${key} ${value}`)
    .join('\n');
  await writeFile(configPath, `${conf}\n`);

  let child: ChildProcess | undefined;
  let output = '';
  const launch = async (): Promise<void> => {
    output = '';
    // A crashed clamd leaves its socket file behind; the directory is ours alone.
    await rm(socketPath, { force: true });
    const started = spawn(CLAMD, ['-c', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    child = started;
    running.add(started);
    started.once('exit', () => running.delete(started));
    started.stdout?.setEncoding('utf8').on('data', (text: string) => (output += text));
    started.stderr?.setEncoding('utf8').on('data', (text: string) => (output += text));
    await waitForPing(started, port, () => output);
  };
  const stop = async (): Promise<void> => {
    if (child) await terminate(child);
    child = undefined;
  };
  const signal = (name: NodeJS.Signals): void => {
    if (!child?.pid) throw new Error('clamd is not running');
    process.kill(child.pid, name);
  };

  await launch();
  return {
    url: `tcp://127.0.0.1:${port}`,
    socketUrl: `unix://${socketPath}`,
    configPath,
    stop,
    kill: async () => {
      if (child) await terminate(child, 'SIGKILL');
      child = undefined;
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    restart: async () => {
      await stop();
      await launch();
    },
    log: () => readFile(logPath, 'utf8').catch(() => ''),
  };
}

/** Generates `test.ndb` (EICAR body) and `test.hdb` (clam.exe hash) with sigtool. */
async function writeDatabase(dir: string, dbDir: string): Promise<void> {
  const hex = (await capture(SIGTOOL, ['--hex-dump'], eicar())).trim();
  if (!/^[0-9a-f]+$/.test(hex)) throw new Error(`sigtool --hex-dump printed ${hex}`);
  await writeFile(path.join(dbDir, 'test.ndb'), `${NAMES.eicar}:0:*:${hex}\n`);

  const sample = path.join(dir, 'clam.exe');
  await writeFile(sample, await readFile(path.join(CLAMAV_TESTFILES_DIR, 'clam.exe')));
  // sigtool prints `md5:size:filename`; the last field becomes the signature's name.
  const [md5, size] = (await capture(SIGTOOL, ['--md5', sample])).trim().split(':');
  if (!md5 || !size) throw new Error('sigtool --md5 printed nothing usable');
  await writeFile(path.join(dbDir, 'test.hdb'), `${md5}:${size}:${NAMES.clamTestExe}\n`);
}

/** Resolves once clamd answers `zPING` with PONG; rejects when it exits or takes too long. */
async function waitForPing(child: ChildProcess, port: number, output: () => string) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitedEarly = false;
  child.once('exit', () => (exitedEarly = true));
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(`clamd exited during start:\n${output()}`);
    if (await ping(port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await terminate(child);
  throw new Error(`clamd did not answer PING within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write('zPING\0'));
    socket.setEncoding('latin1').on('data', (text: string) => (reply += text));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(reply === 'PONG\0'));
  });
}

/** SIGTERM (after SIGCONT, in case it is paused), then SIGKILL; resolves when it has exited. */
async function terminate(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
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

/** Runs a command with `input` on stdin and resolves with its stdout. */
function capture(command: string, args: string[], input?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    child.once('error', reject);
    child.once('exit', (code) =>
      code === 0
        ? resolve(stdout)
        : reject(new Error(`${command} ${args.join(' ')} failed (code ${code}): ${stderr}`)),
    );
    child.stdin.end(input);
  });
}
