/**
 * `<file-uploader>` with a full batch: 100 MB (the page's `max-total-size`) in four files picked
 * at once, through the real server with its default 4 MiB chunks. The element warns that the
 * limit is near, uploads the batch in one session, and refuses one more file before sending it.
 */
import { strict as assert } from 'node:assert';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { DEFAULT_CHUNK_SIZE } from '@file-uploader/protocol';
import { jpeg, padTo, pdf } from '../reference-server/test/fixtures.js';
import { tempDir } from '../reference-server/test/harness.js';
import { launchBrowser } from './harness/chromium.js';
import { ensureBuilt, startDemoServer, VANILLA_BUNDLE, type TestServer } from './harness/server.js';
import {
  entry,
  eventLog,
  expectStored,
  openUploaderPage,
  pickFiles,
  waitForAll,
  waitForEntry,
  waitForLogged,
} from './harness/uploader-page.js';

/** The page's `max-total-size="100MB"`, in bytes (decimal units). */
const LIMIT = 100_000_000;
const BATCH_TIMEOUT_MS = 100_000;

describe('<file-uploader> with 100 MB in one batch', () => {
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    await ensureBuilt([VANILLA_BUNDLE]);
    [server, browser] = await Promise.all([
      startDemoServer({ CHUNK_SIZE: String(DEFAULT_CHUNK_SIZE) }),
      launchBrowser(),
    ]);
  });

  after(async () => {
    await browser?.close();
    await server?.stop();
  });

  test('four files, 100 MB together, go up in one session and are stored byte for byte', async () => {
    const files = new Map<string, Buffer>([
      ['q1-report.pdf', pdf({ size: 30_000_000 })],
      ['q2-report.pdf', pdf({ size: 30_000_000 })],
      ['q3-report.pdf', pdf({ size: 30_000_000 })],
      ['site-photo.jpg', padTo(jpeg(), 10_000_000)],
    ]);
    assert.equal(
      [...files.values()].reduce((sum, b) => sum + b.length, 0),
      LIMIT,
    );
    // Big files go to the browser as paths, not through the driver's pipe.
    const dir = await tempDir('fu-batch-');
    const paths = await Promise.all(
      [...files].map(async ([name, bytes]) => {
        const file = path.join(dir, name);
        await writeFile(file, bytes);
        return file;
      }),
    );

    const { page, problems, gate, context } = await openUploaderPage(browser, server);
    await pickFiles(page, paths);
    const warning = page.locator('file-uploader [part~="warning"]');
    await warning.waitFor();
    assert.equal((await warning.textContent())?.trim(), 'Almost full: 100 MB of 100 MB used.');
    await waitForAll(page, 4, ['ready'], BATCH_TIMEOUT_MS);

    const sessions = new Set<string>();
    for (const [name, bytes] of files) {
      const view = await entry(page, name);
      sessions.add(view.sessionId ?? '');
      await expectStored(server, view, bytes);
      assert.equal(
        gate.confirmedRanges(view.fileId ?? '').size,
        Math.ceil(bytes.length / DEFAULT_CHUNK_SIZE),
        `${name}: each chunk confirmed once`,
      );
    }
    assert.equal(sessions.size, 1, 'the batch went up in one session');
    await waitForLogged(page, 'batch-done');
    const log = await eventLog(page);
    assert.ok(log.includes('files-added: 4'), log.join('\n'));
    assert.ok(log.includes('batch-done: 4 uploaded, 0 failed'), log.join('\n'));

    // The list is full: one more file is refused before any byte of it is sent.
    const chunksBefore = gate.records.length;
    await pickFiles(page, [
      { name: 'one-more.pdf', mimeType: 'application/pdf', buffer: pdf({ size: 2000 }) },
    ]);
    await waitForEntry(page, 'one-more.pdf', { states: ['refused'] });
    const refused = await entry(page, 'one-more.pdf');
    assert.equal(refused.refusal, 'total-size');
    assert.match(refused.message ?? '', /all files together may be up to 100 MB/);
    assert.equal(gate.records.length, chunksBefore, 'no chunk went out for the refused file');
    assert.deepEqual(problems.all(), []);
    await context.close();
  });
});
