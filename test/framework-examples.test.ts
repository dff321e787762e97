/**
 * examples/react and examples/vue end to end: each built app served by the real reference server
 * (dev mode, STATIC_DIR = the app's dist/), driven by a real Chromium. The framework must set the
 * token provider as a property and hear the element's events: a PDF picked through the element's
 * own file input is uploaded in chunks, stored byte-for-byte, and listed by the app from
 * `upload-success`; a text file named .png is refused before upload (`file-rejected`); the app
 * shows `batch-done`. Submitting the form sends the element's form value (the uploaded id), and the
 * form reset empties the element's list while the stored file stays.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { routePath, type InitiateResponse } from '@file-uploader/protocol';
import { pdf, text } from '../reference-server/test/fixtures.js';
import { launchBrowser, watchPage } from './harness/chromium.js';
import {
  DEV_USER,
  REPO_ROOT,
  ensureBuilt,
  listFilesDeep,
  objectsDir,
  sha256,
  startDemoServer,
  storedObject,
  type TestServer,
} from './harness/server.js';

const CHUNK_SIZE = 256 * 1024;
const UPLOAD_TIMEOUT_MS = 30_000;
/** The element's build, which the examples import (`@file-uploader/element/define`). */
const ELEMENT_BUILD = path.join(REPO_ROOT, 'packages', 'element', 'dist', 'define.js');

const EXAMPLES = [
  { name: 'react', workspace: '@file-uploader/example-react', title: 'file-uploader · React' },
  { name: 'vue', workspace: '@file-uploader/example-vue', title: 'file-uploader · Vue' },
] as const;

/** Builds an example (`npm run build -w`) when its dist/ is missing, so the file runs alone. */
async function ensureExampleBuilt(workspace: string, dist: string): Promise<void> {
  if (existsSync(path.join(dist, 'index.html'))) return;
  await ensureBuilt([ELEMENT_BUILD]);
  await new Promise<void>((resolve, reject) => {
    const child = spawn('npm', ['run', 'build', '-w', workspace], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0
        ? resolve()
        : reject(
            new Error(`building ${workspace} failed (code ${code}, signal ${signal})\n${output}`),
          ),
    );
  });
  assert.ok(existsSync(path.join(dist, 'index.html')), `${workspace} built ${dist}/index.html`);
}

let browser: Browser | undefined;

before(async () => {
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
});

for (const example of EXAMPLES) {
  describe(`examples/${example.name}`, () => {
    const dist = path.join(REPO_ROOT, 'examples', example.name, 'dist');
    let server: TestServer | undefined;

    before(async () => {
      await ensureExampleBuilt(example.workspace, dist);
      server = await startDemoServer({ CHUNK_SIZE: String(CHUNK_SIZE) }, { staticDir: dist });
    });

    after(async () => {
      await server?.stop();
    });

    test('uploads through <file-uploader>, shows the events, submits the form value', async (t) => {
      assert.ok(server && browser);
      const started = Date.now();
      const context = await browser.newContext();
      t.after(() => context.close());
      const page = await context.newPage();
      const problems = watchPage(page);
      const report = pdf({ size: 600 * 1024 });
      const notes = text();

      const response = await page.goto(`${server.url}/`);
      assert.equal(response?.status(), 200, 'GET / serves the built app');
      assert.equal(await page.title(), example.title);

      // The framework set the token provider as a property of the upgraded element, not as an
      // attribute, and passed the limits through.
      const uploader = page.locator('file-uploader');
      await uploader.waitFor();
      const props = await uploader.evaluate((el: HTMLElement) => {
        const fu = el as HTMLElement & { getToken?: unknown; maxTotalSize: string; name: string };
        return {
          upgraded: customElements.get('file-uploader') === el.constructor,
          getToken: typeof fu.getToken,
          tokenAttributes: el.getAttributeNames().filter((name) => /token/i.test(name)),
          maxTotalSize: fu.maxTotalSize,
          name: fu.name,
        };
      });
      assert.deepEqual(props, {
        upgraded: true,
        getToken: 'function',
        tokenAttributes: [],
        maxTotalSize: '100MB',
        name: 'attachments',
      });

      const initiated = page.waitForResponse(
        (res) =>
          res.request().method() === 'POST' &&
          new URL(res.url()).pathname === routePath('initiate'),
      );
      // Playwright's CSS locators pierce the open shadow root to the element's own file input
      // (the browse one takes several files; the resume offer has a single-file one).
      await uploader.locator('input[type=file][multiple]').setInputFiles([
        { name: 'report.pdf', mimeType: 'application/pdf', buffer: report },
        { name: 'notes.png', mimeType: 'image/png', buffer: notes },
      ]);
      const initResponse = await initiated;
      assert.equal(initResponse.status(), 201);
      const session = (await initResponse.json()) as InitiateResponse;
      assert.deepEqual(
        session.files.map((f) => f.name),
        ['report.pdf'],
        'the refused file never reached the server',
      );
      const fileId = session.files[0]?.fileId ?? '';
      assert.equal(session.files[0]?.totalChunks, 3, 'the PDF takes 3 chunks');

      // The app's state, filled from the element's events.
      const batch = page.locator('#batch', { hasText: 'Batch done' });
      await batch.waitFor({ timeout: UPLOAD_TIMEOUT_MS });
      assert.equal(await batch.textContent(), 'Batch done: 1 uploaded, 0 failed.');
      const uploadedItems = page.locator('#uploaded li');
      assert.deepEqual(
        await uploadedItems.evaluateAll((items) =>
          items.map((li) => li.getAttribute('data-file-id')),
        ),
        [fileId],
        'upload-success put the server id into the app state',
      );
      assert.match((await uploadedItems.first().textContent()) ?? '', /^report\.pdf: /);
      const rejected = await page.locator('#rejected li').allTextContents();
      assert.equal(rejected.length, 1, `one file-rejected event: ${JSON.stringify(rejected)}`);
      assert.match(rejected[0] ?? '', /notes\.png/);
      t.diagnostic(`upload in the page: ${Date.now() - started} ms`);

      // What the server stored is the source, byte for byte.
      const stored = await storedObject(server.dataDir, DEV_USER, session.sessionId, fileId);
      assert.ok(stored, 'the PDF is stored');
      assert.equal(sha256(stored.bytes), sha256(report), 'stored object SHA-256 equals the source');
      assert.deepEqual(await listFilesDeep(objectsDir(server.dataDir)), [stored.key]);

      // Submitting sends the element's form value: the uploaded id under its name.
      await page.getByRole('button', { name: 'Send', exact: true }).click();
      const sent = page.locator('#sent li');
      await sent.first().waitFor({ timeout: UPLOAD_TIMEOUT_MS });
      assert.deepEqual(
        await sent.evaluateAll((items) => items.map((li) => li.getAttribute('data-file-id'))),
        [fileId],
        'the submitted FormData held the uploaded id',
      );

      // The form reset after sending empties the element's list and value; the file stays stored.
      await page.waitForFunction(
        () => document.querySelector('file-uploader')?.value.length === 0,
        undefined,
        { timeout: UPLOAD_TIMEOUT_MS },
      );
      assert.equal(
        await uploader.evaluate(
          (el) => (el as HTMLElement & { entries: unknown[] }).entries.length,
        ),
        0,
      );
      assert.ok(
        await storedObject(server.dataDir, DEV_USER, session.sessionId, fileId),
        'the uploaded file stays stored after the reset',
      );

      assert.deepEqual(problems.all(), [], 'the page logged no errors');
      t.diagnostic(`test body: ${Date.now() - started} ms`);
    });
  });
}
