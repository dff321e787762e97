/**
 * The demo page (examples/vanilla, `<file-uploader>` from one script tag) in a fresh browser
 * context, and what end-to-end tests do with it: drop or pick files, read the element's list,
 * wait for states (event-driven: `waitForFunction` on the element), and find what the server
 * stored for a file.
 */
import { strict as assert } from 'node:assert';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { FileUploader } from '@file-uploader/element';
import { expectStoredObject } from '../../reference-server/test/harness.js';
import { ChunkGate } from './chunk-gate.js';
import { watchPage, type PageProblems } from './chromium.js';
import { DEV_USER, type TestServer } from './server.js';

/** How long a test waits for an upload to reach a state (a loaded machine is slow). */
export const STATE_TIMEOUT_MS = 60_000;

/** A file to hand to the page. */
export interface PageFile {
  name: string;
  mimeType: string;
  buffer: Buffer;
}

/** One row of the element's list, as plain data. */
export interface EntryView {
  name: string;
  /** The SDK state, or `refused` for files refused before upload. */
  state: string;
  /** The validation code of a refused file. */
  refusal?: string;
  /** The message shown for a refused file. */
  message?: string;
  /** The error code of a failed or rejected upload. */
  error?: string;
  fileId?: string;
  sessionId?: string;
  confirmedBytes: number;
  totalBytes: number;
}

export interface UploaderPage {
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
  gate: ChunkGate;
}

/** A new context (own IndexedDB), the chunk gate, and the demo page with its element ready. */
export async function openUploaderPage(
  browser: Browser,
  server: Pick<TestServer, 'url'>,
): Promise<UploaderPage> {
  const context = await browser.newContext({
    viewport: { width: 760, height: 900 },
    reducedMotion: 'reduce',
  });
  const gate = await ChunkGate.install(context);
  const page = await context.newPage();
  const problems = watchPage(page);
  const response = await page.goto(`${server.url}/`);
  assert.equal(response?.status(), 200, 'GET / serves the demo page');
  await elementReady(page);
  return { context, page, problems, gate };
}

/** Waits until `<file-uploader>` is defined, rendered and has its token provider (main.js). */
export async function elementReady(page: Page): Promise<void> {
  await page.waitForFunction(
    () => {
      const el = document.querySelector<FileUploader>('file-uploader');
      return (
        customElements.get('file-uploader') !== undefined &&
        el?.shadowRoot?.querySelector('[part~="drop-zone"]') &&
        typeof el.getToken === 'function'
      );
    },
    undefined,
    { timeout: STATE_TIMEOUT_MS },
  );
}

/** The element's list. */
export function entries(page: Page): Promise<EntryView[]> {
  return page.evaluate(() =>
    [...document.querySelector<FileUploader>('file-uploader')!.entries].map((e) => ({
      name: e.file.name,
      state: e.upload?.state ?? 'refused',
      ...(e.refusal ? { refusal: e.refusal.code, message: e.refusal.message } : {}),
      ...(e.upload?.error ? { error: e.upload.error.code } : {}),
      ...(e.upload?.fileId ? { fileId: e.upload.fileId } : {}),
      ...(e.upload?.sessionId ? { sessionId: e.upload.sessionId } : {}),
      confirmedBytes: e.upload?.progress.confirmedBytes ?? 0,
      totalBytes: e.upload?.progress.totalBytes ?? e.file.size,
    })),
  );
}

/** The row of `name`. Throws when it is not listed. */
export async function entry(page: Page, name: string): Promise<EntryView> {
  const found = (await entries(page)).find((e) => e.name === name);
  assert.ok(found, `${name} is listed`);
  return found;
}

/** The element's list, and the resume offer's text while one is shown (for failure messages). */
async function describeList(page: Page): Promise<string> {
  const list = await entries(page).catch(() => 'page gone');
  const offer = await page
    .locator('file-uploader [part~="resume-offer"]')
    .allTextContents()
    .catch(() => []);
  const shown = offer.map((text) => text.replace(/\s+/g, ' ').trim()).join(' | ');
  return `list: ${JSON.stringify(list)}${shown ? `; resume offer: ${shown}` : ''}`;
}

/**
 * Waits until the row of `name` satisfies a condition on its state and confirmed bytes (checked
 * in the page on every animation frame); `absent` stands for "not listed".
 */
export async function waitForEntry(
  page: Page,
  name: string,
  want: { states?: readonly string[]; confirmedAtLeast?: number },
  timeoutMs = STATE_TIMEOUT_MS,
): Promise<void> {
  try {
    await page.waitForFunction(
      ({ name, states, confirmedAtLeast }) => {
        const el = document.querySelector<FileUploader>('file-uploader')!;
        const e = el.entries.find((x) => x.file.name === name);
        const state = e ? (e.upload?.state ?? 'refused') : 'absent';
        if (states && !states.includes(state)) return false;
        return (e?.upload?.progress.confirmedBytes ?? 0) >= confirmedAtLeast;
      },
      { name, states: want.states, confirmedAtLeast: want.confirmedAtLeast ?? 0 },
      { timeout: timeoutMs, polling: 'raf' },
    );
  } catch (err) {
    throw new Error(`${name} did not reach ${JSON.stringify(want)}; ${await describeList(page)}`, {
      cause: err,
    });
  }
}

/** Waits until every listed row is in one of `states`, and there are `count` rows. */
export async function waitForAll(
  page: Page,
  count: number,
  states: readonly string[],
  timeoutMs = STATE_TIMEOUT_MS,
): Promise<void> {
  try {
    await page.waitForFunction(
      ({ count, states }) => {
        const list = document.querySelector<FileUploader>('file-uploader')!.entries;
        return (
          list.length === count && list.every((e) => states.includes(e.upload?.state ?? 'refused'))
        );
      },
      { count, states },
      { timeout: timeoutMs, polling: 'raf' },
    );
  } catch (err) {
    throw new Error(
      `Not all ${count} rows reached ${states.join('|')}; ${await describeList(page)}`,
      {
        cause: err,
      },
    );
  }
}

/**
 * Drops files on the drop zone as the browser does: a DataTransfer holding the files, then
 * dragenter, dragover and drop. Returns the drop zone's `data-state` while the files hovered.
 */
export async function dropFiles(page: Page, files: readonly PageFile[]): Promise<string> {
  return page.evaluate(
    (files) => {
      const el = document.querySelector<FileUploader>('file-uploader')!;
      const zone = el.shadowRoot!.querySelector<HTMLElement>('[part~="drop-zone"]')!;
      const data = new DataTransfer();
      for (const f of files) {
        const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
        data.items.add(new File([bytes], f.name, { type: f.mimeType }));
      }
      // No named helpers in here: tsx would wrap them in a `__name` call the page lacks.
      for (const type of ['dragenter', 'dragover']) {
        zone.dispatchEvent(
          new DragEvent(type, {
            dataTransfer: data,
            bubbles: true,
            cancelable: true,
            composed: true,
          }),
        );
      }
      // The state while hovering shows once lit has re-rendered.
      return el.updateComplete.then(() => {
        const hovering = zone.dataset.state ?? '';
        zone.dispatchEvent(
          new DragEvent('drop', {
            dataTransfer: data,
            bubbles: true,
            cancelable: true,
            composed: true,
          }),
        );
        return hovering;
      });
    },
    files.map((f) => ({ name: f.name, mimeType: f.mimeType, base64: f.buffer.toString('base64') })),
  );
}

/** Picks files through the element's own `<input type="file">` (paths or buffers). */
export async function pickFiles(page: Page, files: string[] | PageFile[]): Promise<void> {
  await page.locator('file-uploader #input').setInputFiles(files);
}

/** The demo page's event log (newest first), one line per event, without the time. */
export async function eventLog(page: Page): Promise<string[]> {
  const lines = await page.locator('#events li').allTextContents();
  return lines.map((line) => line.replace(/^\S+(?: [AP]M)? /, ''));
}

/** Waits until the page has logged an event whose line contains `text`. */
export async function waitForLogged(page: Page, text: string): Promise<void> {
  await page
    .locator('#events li', { hasText: text })
    .first()
    .waitFor({ timeout: STATE_TIMEOUT_MS });
}

/** The stored object of a listed file exists and its SHA-256 is the source's. */
export async function expectStored(
  server: Pick<TestServer, 'dataDir'>,
  view: EntryView,
  bytes: Uint8Array,
): Promise<void> {
  assert.ok(view.sessionId && view.fileId, `${view.name} has a session and a file id`);
  await expectStoredObject(
    server,
    DEV_USER,
    { sessionId: view.sessionId, fileId: view.fileId },
    bytes,
  );
}
