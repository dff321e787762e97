/**
 * Chromium (Debian's, driven by playwright-core with the project's flags) on a page served from
 * the benchmark process, its own origin: both upload targets are cross-origin to it.
 */
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium, type Browser, type Page } from 'playwright-core';
import { CHROMIUM_ARGS, ensureChromium } from '../../test/harness/chromium.js';
import type { BenchPage } from '../browser/page.js';
import { buildPage } from './build.js';
import { removeScratch, scratchDir } from './processes.js';

const HTML = `<!doctype html><meta charset="utf-8"><title>bench</title>
<script type="module" src="/page.js"></script>
<input type="file" id="payload" hidden>`;

export interface BenchBrowser {
  /** Origin of the page, for the reference server's CORS_ORIGINS. */
  readonly origin: string;
  readonly version: string;
  /** Calls `bench[name](...args)` in the page. */
  call<K extends keyof BenchPage>(
    name: K,
    ...args: Parameters<BenchPage[K]>
  ): Promise<Awaited<ReturnType<BenchPage[K]>>>;
  /** Picks `file` in the page's file input and makes it the payload (a disk-backed File). */
  pickPayload(file: string): Promise<number>;
  close(): Promise<void>;
}

export async function startBrowser(): Promise<BenchBrowser> {
  const dir = await scratchDir('page');
  const script = await readFile(await buildPage(dir));
  const server = http.createServer((req, res) => {
    if (req.url === '/page.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' }).end(script);
    } else if (req.url === '/') {
      res.writeHead(200, { 'Content-Type': 'text/html' }).end(HTML);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  let browser: Browser | undefined;
  try {
    // Installed from Debian's packages when missing, as the tests do.
    const executablePath = await ensureChromium();
    browser = await chromium.launch({
      executablePath,
      headless: true,
      args: [...CHROMIUM_ARGS],
      timeout: 60_000,
    });
    const page: Page = await browser.newPage();
    const problems: string[] = [];
    page.on('pageerror', (err) => problems.push(err.message));
    // Why a request failed (net::ERR_...), for the error message of the call it failed in.
    page.on('requestfailed', (request) =>
      problems.push(`${request.method()} ${request.url()}: ${request.failure()?.errorText}`),
    );
    await page.goto(`${origin}/`);
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached', timeout: 30_000 });
    const open = browser;
    return {
      origin,
      version: open.version(),
      call: (name, ...args) =>
        page
          .evaluate(
            ([n, a]) =>
              (
                (globalThis as unknown as { bench: Record<string, (...x: unknown[]) => unknown> })
                  .bench[n] as (...x: unknown[]) => unknown
              )(...a),
            [name, args] as [string, unknown[]],
          )
          .catch((err: unknown) => {
            throw new Error(
              `${String(name)} failed in the page: ${(err as Error).message}\n${problems.join('\n')}`,
            );
          }) as never,
      async pickPayload(file) {
        await page.setInputFiles('input#payload', file);
        return page.evaluate(() =>
          (globalThis as unknown as { bench: BenchPage }).bench.usePickedFile(),
        );
      },
      async close() {
        await open.close();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await removeScratch(dir);
      },
    };
  } catch (err) {
    await browser?.close();
    server.close();
    await removeScratch(dir);
    throw err;
  }
}
