/**
 * Browser harness: Debian's Chromium driven by playwright-core, for end-to-end tests of pages and
 * elements. playwright-core never downloads a browser; when /usr/bin/chromium is missing the
 * harness installs the Debian package once (apt-get, as root).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

import { CHROMIUM_ARGS, CHROMIUM_PATH } from './chromium-flags.mjs';

export { CHROMIUM_ARGS, CHROMIUM_PATH };

const INSTALL_TIMEOUT_MS = 15 * 60_000;
/** Test files run in parallel processes: only one of them may run apt-get at a time. */
const INSTALL_LOCK = path.join(os.tmpdir(), 'file-uploader-chromium-install.lock');

let installing: Promise<string> | undefined;

/**
 * Returns the path of Chromium, installing Debian's `chromium` package first when the binary is
 * missing (`apt-get update`, then `apt-get install -y chromium`). Safe to call from every test
 * file: the install happens once, guarded by a lock directory shared between processes.
 */
export function ensureChromium(): Promise<string> {
  if (existsSync(CHROMIUM_PATH)) return Promise.resolve(CHROMIUM_PATH);
  installing ??= installChromium().finally(() => {
    installing = undefined;
  });
  return installing;
}

async function installChromium(): Promise<string> {
  const deadline = Date.now() + INSTALL_TIMEOUT_MS;
  for (;;) {
    if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH;
    if (await takeLock()) break;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${INSTALL_LOCK}`);
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  try {
    if (existsSync(CHROMIUM_PATH)) return CHROMIUM_PATH; // another process just finished
    const started = Date.now();
    console.error(`# ${CHROMIUM_PATH} is missing: installing Debian's chromium package…`);
    await run('apt-get', ['update']);
    await run('apt-get', ['install', '-y', 'chromium']);
    if (!existsSync(CHROMIUM_PATH)) {
      throw new Error(`apt-get installed chromium, but ${CHROMIUM_PATH} does not exist`);
    }
    console.error(`# chromium installed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return CHROMIUM_PATH;
  } finally {
    await rm(INSTALL_LOCK, { recursive: true, force: true });
  }
}

/** Creates the lock directory (atomic); clears a lock whose owner process is gone. */
async function takeLock(): Promise<boolean> {
  try {
    await mkdir(INSTALL_LOCK);
    await writeFile(path.join(INSTALL_LOCK, 'pid'), String(process.pid));
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  const owner = Number(
    await readFile(path.join(INSTALL_LOCK, 'pid'), 'utf8').catch(() => Number.NaN),
  );
  if (Number.isInteger(owner) && owner > 0 && !alive(owner)) {
    await rm(INSTALL_LOCK, { recursive: true, force: true });
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

/** Runs a command to completion; rejects with its output when it fails. */
function run(command: string, args: string[]): Promise<void> {
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
        reject(
          new Error(
            `${command} ${args.join(' ')} failed (code ${code}, signal ${signal})\n${output.slice(-4000)}`,
          ),
        );
      }
    });
  });
}

/** Launches headless Chromium (installing it first if needed) with the project's flags. */
export async function launchBrowser(): Promise<Browser> {
  const executablePath = await ensureChromium();
  return chromium.launch({
    executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS],
    timeout: 60_000,
  });
}

/** Problems a page reported: console errors and uncaught exceptions. */
export interface PageProblems {
  /** Console messages of type "error" (CSP violations and failed loads land here too). */
  readonly consoleErrors: string[];
  /** Uncaught exceptions and unhandled rejections in the page. */
  readonly pageErrors: string[];
  /** Both, one line each, for an assertion message. */
  all(): string[];
}

/** Starts collecting a page's console errors and page errors (call before navigating). */
export function watchPage(page: Page): PageProblems {
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const { url, lineNumber } = message.location();
    consoleErrors.push(`${message.text()}${url ? ` (${url}:${lineNumber})` : ''}`);
  });
  page.on('pageerror', (error) => pageErrors.push(error.stack ?? error.message));
  return {
    consoleErrors,
    pageErrors,
    all: () => [
      ...consoleErrors.map((text) => `console: ${text}`),
      ...pageErrors.map((text) => `pageerror: ${text}`),
    ],
  };
}
