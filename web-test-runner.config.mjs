// Browser tests (`packages/*/test/**/*.browser.test.ts`) in Debian's headless Chromium.
// TypeScript runs from source: the `source` export condition maps workspace packages to src/.
// `npm run test:browser` installs Chromium first when it is missing (scripts/ensure-chromium.mjs).
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { createRequire } from 'node:module';
import { esbuildPlugin } from '@web/dev-server-esbuild';
import { chromeLauncher } from '@web/test-runner-chrome';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './test/harness/chromium-flags.mjs';

/** msw's service worker, straight from the installed package: no generated file to commit. */
const mswWorker = createRequire(import.meta.url).resolve('msw/mockServiceWorker.js');

/**
 * A slow chunk route on a real connection, for the XHR progress test: behind msw's service
 * worker Chromium reports no XHR upload progress, so that test sends its chunks here. It takes
 * a body POSTed to `/__slow-sink/<bytes per second>/.../chunk` at that rate, checks its
 * Content-Range length and Content-Digest, and answers like protocol v1's chunk route.
 */
async function slowSink(context, next) {
  if (context.method !== 'POST' || !context.path.startsWith('/__slow-sink/')) return next();
  const rate = Number(context.path.split('/')[2]) || 1024 * 1024;
  const started = Date.now();
  const hash = createHash('sha256');
  let received = 0;
  for await (const chunk of context.req) {
    received += chunk.length;
    hash.update(chunk);
    const due = (received / rate) * 1000 - (Date.now() - started);
    if (due > 0) await new Promise((resolve) => setTimeout(resolve, due));
  }
  const [, start = '0', end = '-1'] =
    /^bytes (\d+)-(\d+)\//.exec(context.get('Content-Range')) ?? [];
  const digest = context.get('Content-Digest');
  const error =
    received !== Number(end) - Number(start) + 1
      ? 'body_length_mismatch'
      : digest && digest !== `sha-256=:${hash.digest('base64')}:`
        ? 'digest_mismatch'
        : undefined;
  context.type = 'application/json';
  context.status = error ? 400 : 200;
  context.body = JSON.stringify(
    error
      ? { error: { code: error, message: error } }
      : {
          fileId: context.get('Upload-File'),
          chunkIndex: -1,
          receivedBytes: received,
          status: 'uploading',
        },
  );
}

/** @type {import('@web/test-runner').TestRunnerConfig} */
export default {
  files: ['packages/*/test/**/*.browser.test.ts'],
  nodeResolve: { exportConditions: ['source', 'browser', 'development'] },
  plugins: [esbuildPlugin({ ts: true, target: 'es2022', tsconfig: 'tsconfig.base.json' })],
  middleware: [
    slowSink,
    function mockServiceWorker(context, next) {
      if (context.path !== '/mockServiceWorker.js') return next();
      context.type = 'text/javascript';
      context.set('Cache-Control', 'no-store');
      context.body = createReadStream(mswWorker);
    },
  ],
  browsers: [
    chromeLauncher({
      launchOptions: {
        executablePath: CHROMIUM_PATH,
        headless: true,
        // `gc()` for tests of what must survive a garbage collection (the content hash's reads).
        args: [...CHROMIUM_ARGS, '--js-flags=--expose-gc'],
      },
    }),
  ],
  concurrency: 1,
  hostname: '127.0.0.1',
  testFramework: { config: { timeout: 30_000 } },
  testsFinishTimeout: 5 * 60_000,
};
