/**
 * The real reference server for end-to-end tests across the repo. Process handling lives in
 * reference-server/test/harness.ts (spawns its CLI from sources on a free 127.0.0.1 port and
 * stops it when the test file ends); this module re-exports it and adds what browser tests need.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  REPO_ROOT,
  startTestServer,
  type StartOptions,
  type TestServer,
} from '../../reference-server/test/harness.js';

export {
  REPO_ROOT,
  eventually,
  listFilesDeep,
  objectsDir,
  request,
  sha256,
  startTestServer,
  storedObject,
} from '../../reference-server/test/harness.js';
export type { ApiResponse, StartOptions, TestServer } from '../../reference-server/test/harness.js';

/** The example page served by `npm start`. */
export const VANILLA_DIR = path.join(REPO_ROOT, 'examples', 'vanilla');
/** The element's one-file bundle the page loads as `/file-uploader.js`, copied there by `rollup -c`. */
export const VANILLA_BUNDLE = path.join(VANILLA_DIR, 'file-uploader.js');
/** The user the dev token (`GET /dev/token`) is for. */
export const DEV_USER = 'demo-user';

/**
 * Runs `npx rollup -c` from the repo root when any of `outputs` is missing, so a test file also
 * works before `npm run build`. Builds nothing when they exist.
 */
export async function ensureBuilt(outputs: readonly string[] = [VANILLA_BUNDLE]): Promise<void> {
  if (outputs.every((file) => existsSync(file))) return;
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npx', ['rollup', '-c', '--silent'], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(new Error(`npx rollup -c failed (code ${code}, signal ${signal})\n${output}`)),
    );
  });
  const missing = outputs.filter((file) => !existsSync(file));
  if (missing.length > 0) throw new Error(`rollup -c did not build ${missing.join(', ')}`);
}

/**
 * Starts the server like `npm start` does: dev mode (GET /dev/token for {@link DEV_USER}),
 * serving `staticDir` (default: the vanilla example) at `/`. `env` overrides anything.
 */
export function startDemoServer(
  env: Record<string, string> = {},
  opts: StartOptions & { staticDir?: string } = {},
): Promise<TestServer> {
  const { staticDir = VANILLA_DIR, ...startOpts } = opts;
  return startTestServer({ DEV_MODE: '1', STATIC_DIR: staticDir, ...env }, startOpts);
}
