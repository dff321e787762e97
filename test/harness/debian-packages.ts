/**
 * Installs Debian packages that a test service needs (clamd, ...) when their files are missing.
 * Test files run in parallel processes, so one lock directory per package set makes sure only
 * one of them runs apt-get; apt-get itself waits for dpkg's lock when another install (say,
 * Chromium's) is running.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

const INSTALL_TIMEOUT_MS = 15 * 60_000;

const installing = new Map<string, Promise<void>>();

/**
 * Resolves when every path in `files` exists, running `apt-get update` and
 * `apt-get install -y <packages>` first when one is missing. Safe to call from every test file.
 */
export function ensureDebianPackages(
  files: readonly string[],
  packages: readonly string[],
): Promise<void> {
  if (files.every((file) => existsSync(file))) return Promise.resolve();
  const key = packages.join(' ');
  let pending = installing.get(key);
  if (!pending) {
    pending = install(files, packages).finally(() => installing.delete(key));
    installing.set(key, pending);
  }
  return pending;
}

async function install(files: readonly string[], packages: readonly string[]): Promise<void> {
  const lock = path.join(os.tmpdir(), `file-uploader-apt-${packages.join('+')}.lock`);
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  const present = () => files.every((file) => existsSync(file));
  for (;;) {
    if (present()) return;
    if (await takeLock(lock)) break;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${lock}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  try {
    if (present()) return; // another process just finished
    const started = Date.now();
    console.error(`# installing Debian packages ${packages.join(', ')}…`);
    const wait = ['-o', 'DPkg::Lock::Timeout=600'];
    await run('apt-get', [...wait, 'update']);
    // With recommended packages: Chromium needs its fonts to render pages as users see them.
    await run('apt-get', [...wait, 'install', '-y', ...packages]);
    const missing = files.filter((file) => !existsSync(file));
    if (missing.length > 0) {
      throw new Error(
        `apt-get installed ${packages.join(' ')}, but ${missing.join(', ')} is missing`,
      );
    }
    console.error(`# installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

/** Creates the lock directory (atomic); clears a lock whose owner process is gone. */
async function takeLock(lock: string): Promise<boolean> {
  try {
    await mkdir(lock);
    await writeFile(path.join(lock, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number(await readFile(path.join(lock, 'pid'), 'utf8').catch(() => Number.NaN));
  if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
    await rm(lock, { recursive: true, force: true });
  }
  return false;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Runs a command to completion; rejects with the end of its output when it fails. */
function run(command: string, args: readonly string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), INSTALL_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else {
        const line = `${command} ${args.join(' ')}`;
        reject(
          new Error(`${line} failed (code ${code}, signal ${signal})\n${output.slice(-4000)}`),
        );
      }
    });
  });
}
