/**
 * The demo page (`npm start`) end to end: the real reference server in dev mode serving
 * examples/vanilla, driven by a real Chromium. The page is the one-minute drop-in: one script
 * tag (`/file-uploader.js`, the element's one-file bundle), one `<file-uploader>`, and a few lines
 * that set the token provider (the dev token route) and log the element's events. A file chosen
 * through the browse button's real file chooser is uploaded and stored byte for byte; the page
 * logs no errors (a CSP violation would show up as one).
 */
import { strict as assert } from 'node:assert';
import { readFile } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { HEADERS, SERVICE_ROUTES, routePath } from '@file-uploader/protocol';
import { pdf } from '../reference-server/test/fixtures.js';
import { launchBrowser } from './harness/chromium.js';
import {
  ensureBuilt,
  request,
  sha256,
  startDemoServer,
  VANILLA_BUNDLE,
  type TestServer,
} from './harness/server.js';
import {
  entry,
  eventLog,
  expectStored,
  openUploaderPage,
  waitForEntry,
  waitForLogged,
} from './harness/uploader-page.js';

const CHUNK_SIZE = 256 * 1024;

describe('demo page (examples/vanilla)', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    await ensureBuilt([VANILLA_BUNDLE]);
    [server, browser] = await Promise.all([
      startDemoServer({ CHUNK_SIZE: String(CHUNK_SIZE) }),
      launchBrowser(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('serves the element bundle at /file-uploader.js', async () => {
    const res = await request(`${server.url}/file-uploader.js`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /javascript/);
    assert.equal(sha256(res.raw), sha256(await readFile(VANILLA_BUNDLE)));
  });

  test('one script tag and one element: a file picked with the browse button is uploaded', async () => {
    const { page, problems, context } = await openUploaderPage(browser, server);
    assert.equal(await page.title(), 'file-uploader demo');
    const scripts = await page
      .locator('script[type="module"]')
      .evaluateAll((els) => els.map((el) => el.getAttribute('src')));
    assert.deepEqual(scripts, ['/file-uploader.js', '/main.js']);
    const attributes = await page.locator('file-uploader').evaluate((el) => ({
      endpoint: el.getAttribute('endpoint'),
      accept: el.getAttribute('accept'),
      maxTotalSize: el.getAttribute('max-total-size'),
    }));
    assert.deepEqual(attributes, {
      endpoint: routePath('initiate').replace(/\/initiate$/, ''),
      accept: '.pdf,.docx,.xlsx,.doc,.xls,image/*',
      maxTotalSize: '100MB',
    });

    // The token provider fetches the dev token, and the chunks carry it.
    const tokenFetched = page.waitForResponse(
      (res) => new URL(res.url()).pathname === SERVICE_ROUTES.devToken,
    );
    const firstChunk = page.waitForRequest(
      (req) => new URL(req.url()).pathname === routePath('chunk'),
    );
    const report = pdf({ size: 700 * 1024 });
    const chooser = page.waitForEvent('filechooser');
    await page.locator('file-uploader [part~="browse-button"]').click();
    await (
      await chooser
    ).setFiles({ name: 'report.pdf', mimeType: 'application/pdf', buffer: report });
    const token = (await (await tokenFetched).json()) as { token: string };
    const chunk = await firstChunk;
    assert.equal(
      await chunk.headerValue(HEADERS.authorization),
      `Bearer ${token.token}`,
      'chunks carry the dev token',
    );

    await waitForEntry(page, 'report.pdf', { states: ['ready'] });
    const view = await entry(page, 'report.pdf');
    await expectStored(server, view, report);
    await waitForLogged(page, 'batch-done');
    const log = await eventLog(page);
    assert.deepEqual(log, [
      'batch-done: 1 uploaded, 0 failed',
      `upload-success: report.pdf → ${view.fileId}`,
      'upload-start: report.pdf',
      'files-added: 1',
    ]);
    assert.deepEqual(problems.all(), [], 'the page logged no errors');
    await context.close();
  });
});
