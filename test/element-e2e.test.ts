/**
 * `<file-uploader>` on the demo page, end to end: the real reference server (dev mode, serving
 * examples/vanilla) and Debian's Chromium. Files are dropped and picked as a user would; uploads
 * are held "in the middle" by a gate on the chunk requests, never by sleeping. Every upload ends
 * with the SHA-256 of what the server stored.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { routePath, type InitiateRequest } from '@file-uploader/protocol';
import type { FileUploader } from '@file-uploader/element';
import { docx, pdf, png, text } from '../reference-server/test/fixtures.js';
import { launchBrowser } from './harness/chromium.js';
import {
  DEV_USER,
  ensureBuilt,
  storedObject,
  startDemoServer,
  VANILLA_BUNDLE,
  type TestServer,
} from './harness/server.js';
import {
  dropFiles,
  entries,
  entry,
  eventLog,
  expectStored,
  openUploaderPage,
  pickFiles,
  waitForAll,
  waitForEntry,
  waitForLogged,
} from './harness/uploader-page.js';

const CHUNK_SIZE = 256 * 1024;

describe('<file-uploader> end to end', () => {
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

  test('dropped files upload and are stored byte for byte; a text file named .pdf never leaves the page', async () => {
    const { page, problems, gate, context } = await openUploaderPage(browser, server);
    const report = pdf({ size: 600 * 1024 });
    const letter = docx();
    const photo = png(64, 48);
    const spoofed = text('Totally a PDF.\n'.repeat(200));
    const initiated: string[] = [];
    page.on('request', (req) => {
      if (new URL(req.url()).pathname !== routePath('initiate')) return;
      const body = req.postDataJSON() as InitiateRequest;
      initiated.push(...body.files.map((f) => f.name));
    });

    const hovering = await dropFiles(page, [
      { name: 'report.pdf', mimeType: 'application/pdf', buffer: report },
      {
        name: 'letter.docx',
        mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        buffer: letter,
      },
      { name: 'photo.png', mimeType: 'image/png', buffer: photo },
      { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: spoofed },
    ]);
    assert.equal(hovering, 'accept', 'the drop zone shows that the dragged types are allowed');
    await waitForAll(page, 4, ['ready', 'refused']);

    const refused = await entry(page, 'invoice.pdf');
    assert.equal(refused.state, 'refused');
    assert.equal(refused.refusal, 'content');
    assert.match(refused.message ?? '', /invoice\.pdf cannot be added: its content is not a PDF/);
    assert.deepEqual(initiated.sort(), ['letter.docx', 'photo.png', 'report.pdf']);
    const sources = new Map([
      ['report.pdf', report],
      ['letter.docx', letter],
      ['photo.png', photo],
    ]);
    const ids = new Set<string>();
    for (const [name, bytes] of sources) {
      const view = await entry(page, name);
      assert.equal(view.state, 'ready', `${name} is ready`);
      await expectStored(server, view, bytes);
      ids.add(view.fileId ?? '');
    }
    assert.ok(
      gate.records.every((r) => ids.has(r.fileId)),
      'chunks went out for the accepted files only',
    );
    const { fileId: reportId } = await entry(page, 'report.pdf');
    assert.equal(
      gate.confirmedRanges(reportId ?? '').size,
      Math.ceil(report.length / CHUNK_SIZE),
      'the PDF went up in its chunks',
    );

    // The page shows the refusal and the batch outcome through the element's events.
    await waitForLogged(page, 'batch-done');
    const log = await eventLog(page);
    assert.ok(
      log.some((l) => /^file-rejected: invoice\.pdf cannot be added/.test(l)),
      log.join('\n'),
    );
    assert.ok(log.includes('batch-done: 3 uploaded, 0 failed'), log.join('\n'));
    // The image got its preview (a blob: URL the page's CSP allows).
    assert.equal(await page.locator('file-uploader [part~="thumbnail"]').count(), 1);
    assert.deepEqual(problems.all(), [], 'the page logged no errors');
    await context.close();
  });

  test('removing an uploaded file asks first, then DELETEs it and it is gone from disk', async () => {
    const { page, problems, context } = await openUploaderPage(browser, server);
    const report = pdf({ size: 300 * 1024 });
    await pickFiles(page, [
      { name: 'old-report.pdf', mimeType: 'application/pdf', buffer: report },
    ]);
    await waitForEntry(page, 'old-report.pdf', { states: ['ready'] });
    const view = await entry(page, 'old-report.pdf');
    await expectStored(server, view, report);

    await page.getByRole('button', { name: 'Remove old-report.pdf' }).click();
    const question = page.locator('file-uploader [part~="confirm"]');
    await question.waitFor();
    assert.match(
      (await question.textContent()) ?? '',
      /Remove old-report\.pdf\? The uploaded file will be deleted\./,
    );
    assert.ok(
      await storedObject(server.dataDir, DEV_USER, view.sessionId ?? '', view.fileId ?? ''),
      'nothing is deleted before the confirmation',
    );

    const deleted = page.waitForResponse(
      (res) =>
        res.request().method() === 'DELETE' &&
        new URL(res.url()).pathname === routePath('remove', { fileId: view.fileId ?? '' }),
    );
    await question.locator('[data-action="confirm"]').click();
    assert.equal((await deleted).status(), 204, 'the server deleted the file');
    await waitForEntry(page, 'old-report.pdf', { states: ['absent'] });
    assert.equal(
      await storedObject(server.dataDir, DEV_USER, view.sessionId ?? '', view.fileId ?? ''),
      undefined,
      'the stored object is gone from disk',
    );
    // Focus went back to the browse button, the only control left.
    const focused = await page.evaluate(
      () =>
        document.querySelector<FileUploader>('file-uploader')?.shadowRoot?.activeElement?.part
          .value,
    );
    assert.equal(focused, 'browse-button');
    assert.deepEqual(problems.all(), []);
    await context.close();
  });

  test('pause holds the upload; resume sends only the chunks the server lacks', async () => {
    const { page, problems, gate, context } = await openUploaderPage(browser, server);
    const report = pdf({ size: 8 * CHUNK_SIZE });
    gate.close(2);
    await pickFiles(page, [{ name: 'paused.pdf', mimeType: 'application/pdf', buffer: report }]);
    await waitForEntry(page, 'paused.pdf', {
      states: ['uploading'],
      confirmedAtLeast: 2 * CHUNK_SIZE,
    });
    await gate.until(() => gate.heldCount > 0, 'a chunk held at the gate');
    const { fileId = '' } = await entry(page, 'paused.pdf');

    await page.getByRole('button', { name: 'Pause paused.pdf' }).click();
    await waitForEntry(page, 'paused.pdf', { states: ['paused'] });
    gate.phase = 'paused';
    const confirmedBefore = gate.confirmedRanges(fileId);
    assert.equal(confirmedBefore.size, 2, gate.describe());
    // Focus stays on the row, on the button that replaced Pause.
    await page.waitForFunction(
      () =>
        document
          .querySelector<FileUploader>('file-uploader')
          ?.shadowRoot?.activeElement?.getAttribute('data-action') === 'resume',
    );

    gate.phase = 'resumed';
    await page.getByRole('button', { name: 'Resume paused.pdf' }).click();
    gate.open();
    await waitForEntry(page, 'paused.pdf', { states: ['ready'] });

    assert.deepEqual(gate.inPhase(fileId, 'paused'), [], 'nothing was sent while paused');
    const resent = gate.inPhase(fileId, 'resumed').filter((r) => confirmedBefore.has(r.range));
    assert.deepEqual(resent, [], 'chunks confirmed before the pause were not sent again');
    const final = gate.confirmedRanges(fileId);
    assert.equal(final.size, 8, `every chunk confirmed once: ${gate.describe()}`);
    await expectStored(server, await entry(page, 'paused.pdf'), report);
    assert.deepEqual(problems.all(), []);
    await context.close();
  });

  test('a cut network does not fail the upload: it waits for the network and continues', async () => {
    const { page, gate, context } = await openUploaderPage(browser, server);
    const report = pdf({ size: 5 * CHUNK_SIZE });
    gate.close(1);
    await pickFiles(page, [{ name: 'offline.pdf', mimeType: 'application/pdf', buffer: report }]);
    await waitForEntry(page, 'offline.pdf', {
      states: ['uploading'],
      confirmedAtLeast: CHUNK_SIZE,
    });
    await gate.until(() => gate.heldCount > 0, 'a chunk held at the gate');
    const { fileId = '' } = await entry(page, 'offline.pdf');
    const confirmedBefore = gate.confirmedRanges(fileId);

    // The network goes away with chunks on the wire.
    gate.phase = 'offline';
    await context.setOffline(true);
    const cut = gate.heldCount;
    await gate.cut();
    await gate.until(
      () => gate.records.filter((r) => r.failure !== undefined).length >= cut,
      'the cut requests to fail in the page',
    );
    await page.waitForFunction(() => !navigator.onLine);
    const during = await entry(page, 'offline.pdf');
    assert.notEqual(during.state, 'failed', 'a lost network is not a failure');

    gate.phase = 'online';
    gate.open();
    await context.setOffline(false);
    await waitForEntry(page, 'offline.pdf', { states: ['ready'] });

    const log = await eventLog(page);
    assert.ok(!log.some((l) => l.startsWith('upload-error')), log.join('\n'));
    const online = gate.inPhase(fileId, 'online');
    assert.deepEqual(
      online.filter((r) => confirmedBefore.has(r.range)),
      [],
      'chunks confirmed before the cut were not sent again',
    );
    assert.equal(gate.confirmedRanges(fileId).size, 5, gate.describe());
    await expectStored(server, await entry(page, 'offline.pdf'), report);
    assert.deepEqual(
      (await entries(page)).map((e) => e.state),
      ['ready'],
    );
    await context.close();
  });
});
