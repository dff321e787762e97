/**
 * The demo page (`npm start`) end to end: the real reference server in dev mode serving
 * examples/vanilla, driven by a real Chromium. A multi-chunk PDF becomes ready, is stored
 * byte-for-byte, downloads through the page's link and is deleted by its button; a text file
 * named .png is rejected and leaves nothing behind. The page must log no errors (a CSP
 * violation would show up as one).
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { HEADERS, routePath, type InitiateResponse } from '@file-uploader/protocol';
import { pdf, text } from '../reference-server/test/fixtures.js';
import { ensureChromium, launchBrowser, watchPage, type PageProblems } from './harness/chromium.js';
import {
  DEV_USER,
  ensureBuilt,
  listFilesDeep,
  objectsDir,
  request,
  sha256,
  startDemoServer,
  storedObject,
  type TestServer,
} from './harness/server.js';

const CHUNK_SIZE = 256 * 1024;
const UPLOAD_TIMEOUT_MS = 30_000;

describe('demo page (examples/vanilla)', () => {
  let server: TestServer | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let problems: PageProblems;
  const timings: string[] = [];

  before(async () => {
    const started = Date.now();
    await ensureBuilt();
    const [running] = await Promise.all([
      startDemoServer({ CHUNK_SIZE: String(CHUNK_SIZE) }),
      ensureChromium().then(() => timings.push(`chromium ready: ${Date.now() - started} ms`)),
    ]);
    server = running;
    browser = await launchBrowser();
    page = await browser.newPage();
    problems = watchPage(page);
    timings.push(`server + browser up: ${Date.now() - started} ms`);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('uploads a PDF in chunks, rejects a disguised text file, downloads and deletes', async (t) => {
    assert.ok(server);
    const started = Date.now();
    const report = pdf({ size: 700 * 1024 });
    const notes = text();
    assert.equal(Math.ceil(report.length / CHUNK_SIZE), 3, 'the PDF takes 3 chunks');

    // Which chunks the page sends for which file, from the browser's own requests.
    const chunksSent = new Map<string, number>();
    page.on('request', (req) => {
      if (req.method() !== 'POST' || new URL(req.url()).pathname !== routePath('chunk')) return;
      const fileId = req.headers()[HEADERS.file.toLowerCase()] ?? '?';
      chunksSent.set(fileId, (chunksSent.get(fileId) ?? 0) + 1);
    });

    const response = await page.goto(`${server.url}/`);
    assert.equal(response?.status(), 200, 'GET / serves the page');
    assert.equal(await page.title(), 'file-uploader demo');

    const initiated = page.waitForResponse(
      (res) =>
        res.request().method() === 'POST' && new URL(res.url()).pathname === routePath('initiate'),
    );
    await page.setInputFiles('#files', [
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: report },
      { name: 'notes.png', mimeType: 'image/png', buffer: notes },
    ]);
    const initResponse = await initiated;
    assert.equal(initResponse.status(), 201);
    const session = (await initResponse.json()) as InitiateResponse;
    assert.equal(session.chunkSize, CHUNK_SIZE);
    const pdfFile = session.files.find((f) => f.name === 'report.pdf');
    const pngFile = session.files.find((f) => f.name === 'notes.png');
    assert.ok(pdfFile && pngFile, `initiate answered both files: ${JSON.stringify(session)}`);
    assert.equal(pdfFile.totalChunks, 3);

    const rowOf = (name: string) =>
      page.locator('#list li', { has: page.locator('strong', { hasText: name }) });
    const pdfRow = rowOf('report.pdf');
    const pngRow = rowOf('notes.png');

    // The ready row gets its link after the status; the rejected row ends at its status.
    const link = pdfRow.locator('a', { hasText: 'Download' });
    await link.waitFor({ timeout: UPLOAD_TIMEOUT_MS });
    const rejectedStatus = pngRow.locator('.status-rejected');
    await rejectedStatus.waitFor({ timeout: UPLOAD_TIMEOUT_MS });
    t.diagnostic(`upload in the page: ${Date.now() - started} ms`);

    const readyStatus = pdfRow.locator('.status-ready');
    assert.match((await readyStatus.textContent()) ?? '', /^ready \(application\/pdf\) /);
    assert.match((await rejectedStatus.textContent()) ?? '', /^rejected: \S/);
    assert.equal(await pngRow.locator('a, button').count(), 0, 'a rejected file has no actions');
    for (const row of [pdfRow, pngRow]) {
      assert.equal(
        await row.locator('progress').evaluate((bar: HTMLProgressElement) => bar.value),
        1,
      );
    }
    assert.equal(chunksSent.get(pdfFile.fileId), 3, 'the page sent the PDF in 3 chunks');

    // The stored object is the source, byte for byte; the rejected file left nothing.
    const stored = await storedObject(server.dataDir, DEV_USER, session.sessionId, pdfFile.fileId);
    assert.ok(stored, 'the PDF is stored');
    assert.equal(sha256(stored.bytes), sha256(report), 'stored object SHA-256 equals the source');
    assert.match(
      stored.key,
      new RegExp(`^${DEV_USER}/${session.sessionId}/\\d+-${pdfFile.fileId}/report\\.pdf$`),
    );
    assert.equal(
      await storedObject(server.dataDir, DEV_USER, session.sessionId, pngFile.fileId),
      undefined,
      'the rejected file has no stored object',
    );
    assert.deepEqual(await listFilesDeep(objectsDir(server.dataDir)), [stored.key]);

    // The page's Download link serves the same bytes, as an attachment.
    const href = await link.getAttribute('href');
    assert.ok(href);
    assert.ok(href.startsWith(`${server.url}/`), `the link points at the server: ${href}`);
    const download = await request(href);
    assert.equal(download.status, 200, download.raw.toString('utf8').slice(0, 200));
    assert.equal(sha256(download.raw), sha256(report), 'downloaded bytes equal the source');
    assert.match(download.headers.get('content-disposition') ?? '', /^attachment;/);

    // Delete removes the row, the object on disk, and what the link served.
    await pdfRow.locator('button', { hasText: 'Delete' }).click();
    await pdfRow.waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(
      await storedObject(server.dataDir, DEV_USER, session.sessionId, pdfFile.fileId),
      undefined,
      'the deleted object is gone from disk',
    );
    assert.deepEqual(await listFilesDeep(objectsDir(server.dataDir)), []);
    const gone = await request(href);
    assert.notEqual(gone.status, 200, 'the link no longer serves the file');
    assert.equal(await pngRow.count(), 1, 'the rejected row stays');

    assert.deepEqual(problems.all(), [], 'the page logged no errors');
    for (const line of timings) t.diagnostic(line);
    t.diagnostic(`test body: ${Date.now() - started} ms`);
  });
});
