/**
 * `<file-uploader>` after a reload in the middle of an upload (real server, real Chromium, the
 * SDK's IndexedDB resume store): the element offers the unfinished upload and continues it in
 * the same server session, sending only the chunks the server lacks. Without kept bytes it asks
 * for the same file and refuses another one; with `persist-files` it resumes at once.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { pdf } from '../reference-server/test/fixtures.js';
import type { ChunkGate } from './harness/chunk-gate.js';
import { launchBrowser } from './harness/chromium.js';
import { ensureBuilt, startDemoServer, VANILLA_BUNDLE, type TestServer } from './harness/server.js';
import {
  elementReady,
  entries,
  entry,
  eventLog,
  expectStored,
  openUploaderPage,
  pickFiles,
  waitForEntry,
  type EntryView,
} from './harness/uploader-page.js';

const CHUNK_SIZE = 256 * 1024;
const CHUNKS = 8;

/** Starts `name` with the gate letting two chunks through, then reloads the page. */
async function reloadMidway(
  page: Page,
  gate: ChunkGate,
  name: string,
  bytes: Buffer,
): Promise<{ before: EntryView; confirmedBefore: Set<string> }> {
  gate.close(2);
  await pickFiles(page, [{ name, mimeType: 'application/pdf', buffer: bytes }]);
  await waitForEntry(page, name, { states: ['uploading'], confirmedAtLeast: 2 * CHUNK_SIZE });
  await gate.until(() => gate.heldCount > 0, 'a chunk held at the gate');
  const before = await entry(page, name);
  const confirmedBefore = gate.confirmedRanges(before.fileId ?? '');
  assert.equal(confirmedBefore.size, 2, gate.describe());

  gate.phase = 'reloaded';
  await page.reload();
  await elementReady(page);
  gate.open(); // The held requests belonged to the old page; new ones pass.
  return { before, confirmedBefore };
}

/** After the resume: same session and file, only missing chunks sent, stored byte for byte. */
async function expectResumed(
  server: TestServer,
  page: Page,
  gate: ChunkGate,
  before: EntryView,
  confirmedBefore: Set<string>,
  bytes: Buffer,
): Promise<void> {
  await waitForEntry(page, before.name, { states: ['ready'] });
  const after = await entry(page, before.name);
  assert.equal(after.sessionId, before.sessionId, 'the upload continued in the same session');
  assert.equal(after.fileId, before.fileId, 'the upload continued as the same file');
  const fileId = before.fileId ?? '';
  const sentAfter = gate.inPhase(fileId, 'reloaded');
  assert.deepEqual(
    sentAfter.filter((r) => confirmedBefore.has(r.range)),
    [],
    'chunks the server confirmed before the reload were not sent again',
  );
  assert.equal(
    gate.confirmedRanges(fileId).size,
    CHUNKS,
    `every chunk confirmed: ${gate.describe()}`,
  );
  await expectStored(server, after, bytes);
  const log = await eventLog(page);
  assert.ok(log.includes(`upload-start: ${before.name} (resumed)`), log.join('\n'));
  assert.equal(await page.locator('file-uploader [part~="resume-offer"]').count(), 0);
}

describe('<file-uploader> resumes after a reload', () => {
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

  test('without kept bytes it asks for the same file, refuses another, and continues', async () => {
    const { page, problems, gate, context } = await openUploaderPage(browser, server);
    const contract = pdf({ size: CHUNKS * CHUNK_SIZE });
    const { before, confirmedBefore } = await reloadMidway(page, gate, 'contract.pdf', contract);

    const offer = page.locator('file-uploader [part~="resume-offer"]');
    await offer.waitFor();
    const text = (await offer.textContent()) ?? '';
    assert.match(text, /1 upload was left unfinished\./);
    assert.match(text, /To continue contract\.pdf, pick the same file again\./);
    assert.deepEqual(await entries(page), [], 'nothing is listed before the file is picked');

    // Another file is refused before any byte of it is sent.
    const pick = page.getByRole('button', { name: 'Pick contract.pdf' });
    let chooser = page.waitForEvent('filechooser');
    await pick.click();
    await (
      await chooser
    ).setFiles({ name: 'other.pdf', mimeType: 'application/pdf', buffer: pdf({ size: 300_000 }) });
    await offer
      .getByText(
        'other.pdf is not the file that was being uploaded as contract.pdf. Pick that file.',
      )
      .waitFor();
    // (The old page's own requests, cut off as it unloaded, may land in this phase too.)
    const sent = gate.inPhase(before.fileId ?? '', 'reloaded');
    assert.deepEqual(
      sent.filter((r) => r.failure !== 'net::ERR_ABORTED'),
      [],
    );

    chooser = page.waitForEvent('filechooser');
    await pick.click();
    await (
      await chooser
    ).setFiles({ name: 'contract.pdf', mimeType: 'application/pdf', buffer: contract });
    await expectResumed(server, page, gate, before, confirmedBefore, contract);
    assert.deepEqual(problems.all(), []);
    await context.close();
  });

  test('with persist-files it resumes from the bytes kept in IndexedDB, without asking', async () => {
    const { page, problems, gate, context } = await openUploaderPage(browser, server);
    await page.locator('file-uploader').evaluate((el) => el.setAttribute('persist-files', ''));
    const minutes = pdf({ size: CHUNKS * CHUNK_SIZE - 1000 });
    const { before, confirmedBefore } = await reloadMidway(page, gate, 'minutes.pdf', minutes);

    let asked = false;
    page.on('filechooser', () => (asked = true));
    await page.getByRole('button', { name: 'Resume minutes.pdf' }).click();
    await expectResumed(server, page, gate, before, confirmedBefore, minutes);
    assert.equal(asked, false, 'no file chooser opened');
    assert.deepEqual(problems.all(), []);
    await context.close();
  });
});
