/**
 * Screenshots of `<file-uploader>` on the demo page for the docs, light and dark, with files in
 * several states: uploaded (with an image preview), refused before upload, paused and uploading.
 * The uploads are held in place by the chunk gate, so each state is real and stays put while the
 * picture is taken. Written to `test/output/element-{light,dark}.png` on every run (git ignores
 * that folder); `UPDATE_SCREENSHOTS=1` writes them to docs/images instead, for the docs.
 */
import { strict as assert } from 'node:assert';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { docx, pdf, png, text } from '../reference-server/test/fixtures.js';
import { launchBrowser } from './harness/chromium.js';
import {
  ensureBuilt,
  REPO_ROOT,
  startDemoServer,
  VANILLA_BUNDLE,
  type TestServer,
} from './harness/server.js';
import {
  dropFiles,
  entries,
  expectStored,
  entry,
  openUploaderPage,
  waitForAll,
  waitForEntry,
} from './harness/uploader-page.js';

const CHUNK_SIZE = 256 * 1024;
// Every run takes the pictures; only a deliberate update touches the committed ones, so a test
// run leaves the checkout unchanged.
const IMAGES_DIR = process.env.UPDATE_SCREENSHOTS
  ? path.join(REPO_ROOT, 'docs', 'images')
  : path.join(REPO_ROOT, 'test', 'output');

describe('<file-uploader> screenshots', () => {
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

  test('light and dark, with files uploaded, refused, paused and uploading', async () => {
    const { page, problems, gate, context } = await openUploaderPage(browser, server);
    const photo = png(320, 200);
    const summary = pdf({ size: 180_000 });
    const letter = docx();
    await dropFiles(page, [
      { name: 'site-photo.png', mimeType: 'image/png', buffer: photo },
      { name: 'summary.pdf', mimeType: 'application/pdf', buffer: summary },
      {
        name: 'cover-letter.docx',
        mimeType: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        buffer: letter,
      },
      { name: 'invoice.pdf', mimeType: 'application/pdf', buffer: text('Not a PDF at all.\n') },
    ]);
    await waitForAll(page, 4, ['ready', 'refused']);
    await expectStored(server, await entry(page, 'summary.pdf'), summary);
    await page.locator('file-uploader [part~="thumbnail"]').waitFor();

    // A paused upload: three chunks of ten, then Pause.
    gate.close(3);
    await dropFiles(page, [
      {
        name: 'annual-report.pdf',
        mimeType: 'application/pdf',
        buffer: pdf({ size: 10 * CHUNK_SIZE }),
      },
    ]);
    await waitForEntry(page, 'annual-report.pdf', {
      states: ['uploading'],
      confirmedAtLeast: 3 * CHUNK_SIZE,
    });
    await page.getByRole('button', { name: 'Pause annual-report.pdf' }).click();
    await waitForEntry(page, 'annual-report.pdf', { states: ['paused'] });

    // An upload in the middle: six chunks of ten through, the rest held at the gate.
    gate.close(6);
    await dropFiles(page, [
      {
        name: 'budget-2026.pdf',
        mimeType: 'application/pdf',
        buffer: pdf({ size: 10 * CHUNK_SIZE }),
      },
    ]);
    await waitForEntry(page, 'budget-2026.pdf', {
      states: ['uploading'],
      confirmedAtLeast: 6 * CHUNK_SIZE,
    });
    await gate.until(() => gate.heldCount > 0, 'a chunk of budget-2026.pdf held');

    const states = (await entries(page)).map((e) => `${e.name}:${e.state}`);
    assert.deepEqual(states.sort(), [
      'annual-report.pdf:paused',
      'budget-2026.pdf:uploading',
      'cover-letter.docx:ready',
      'invoice.pdf:refused',
      'site-photo.png:ready',
      'summary.pdf:ready',
    ]);

    await mkdir(IMAGES_DIR, { recursive: true });
    const element = page.locator('file-uploader');
    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await page.waitForFunction(
        (dark) => matchMedia('(prefers-color-scheme: dark)').matches === dark,
        scheme === 'dark',
      );
      const file = path.join(IMAGES_DIR, `element-${scheme}.png`);
      await element.screenshot({ path: file, animations: 'disabled' });
    }
    assert.deepEqual(problems.all(), []);
    await context.close();
  });
});
