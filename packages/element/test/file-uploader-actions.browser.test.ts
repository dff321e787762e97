import { sendKeys } from '@web/test-runner-commands';
import { HttpResponse } from 'msw';
import { en } from '../src/strings.js';
import type { FileUploader } from '../src/file-uploader.js';
import {
  $,
  after,
  afterEach,
  before,
  deepEqual,
  describe,
  equal,
  expectAccessible,
  gate,
  it,
  KiB,
  mount,
  ok,
  pick,
  randomFile,
  row,
  rowButton,
  serve,
  sha256Hex,
  startWorker,
  text,
  unmountAll,
  waitFor,
  waitForState,
  worker,
} from './element-kit.browser.js';

/** The element inside the shadow root that has focus. */
function focused(element: FileUploader): Element | null {
  return element.shadowRoot?.activeElement ?? null;
}

describe('<file-uploader>: pause, resume, retry, remove, keyboard', () => {
  before(startWorker);
  afterEach(() => {
    unmountAll();
    worker.resetHandlers();
  });
  after(() => worker.stop());

  it('has no accessibility violations with a paused file and an open confirmation', async () => {
    const server = serve();
    const element = await mount(server);
    await expectAccessible(element);
    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 1 && hit.attempt === 1) await held.wait;
      return undefined;
    };
    pick(element, [randomFile(600 * KiB, 'slow.pdf'), randomFile(10 * KiB, 'quick.pdf')]);
    await waitForState(element, 'quick.pdf', en.stateReady);
    await waitFor(() => server.count('chunk', 1) === 1, 'the held chunk');
    rowButton(element, 'slow.pdf', 'pause').click();
    rowButton(element, 'quick.pdf', 'remove').click();
    await element.updateComplete;
    await expectAccessible(element);
    held.open();
  });

  it('pauses and resumes an upload, sending only what the server lacks', async () => {
    const server = serve();
    const element = await mount(server);
    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 2 && hit.attempt === 1) {
        await held.wait;
        return HttpResponse.error();
      }
      return undefined;
    };
    const file = randomFile(1024 * KiB, 'paused.pdf');
    pick(element, [file]);
    await waitFor(() => server.count('chunk', 2) === 1, 'chunk 2 on its way');
    rowButton(element, 'paused.pdf', 'pause').click();
    await waitForState(element, 'paused.pdf', en.statePaused);
    equal(focused(element), rowButton(element, 'paused.pdf', 'resume'), 'focus stays on the row');
    ok(text(element, '[role="status"]').includes('paused.pdf paused.'));
    held.open();
    rowButton(element, 'paused.pdf', 'resume').click();
    await waitForState(element, 'paused.pdf', en.stateReady);
    const fileId = element.value[0] as string;
    equal(await server.sha256(fileId), await sha256Hex(file));
    equal(server.count('chunk', 0), 1, 'chunk 0 was not sent again');
    equal(server.count('chunk', 1), 1, 'chunk 1 was not sent again');
  });

  it('shows why an upload failed and retries it', async () => {
    const server = serve();
    const element = await mount(server);
    const errors = [] as string[];
    element.addEventListener('upload-error', (e) => errors.push(e.detail.error.code));
    server.fault = (hit) =>
      hit.route === 'chunk' && hit.attempt === 1
        ? HttpResponse.json({ error: { code: 'forbidden', message: 'no' } }, { status: 403 })
        : undefined;
    const file = randomFile(100 * KiB, 'flaky.pdf');
    pick(element, [file]);
    await waitForState(element, 'flaky.pdf', en.stateFailed);
    deepEqual(errors, ['forbidden']);
    equal(
      row(element, 'flaky.pdf').querySelector('[part="message"]')?.textContent,
      en.errorForbidden,
    );
    ok(element.checkValidity(), 'a failed upload is not running: the form may be sent');
    rowButton(element, 'flaky.pdf', 'retry').click();
    await waitForState(element, 'flaky.pdf', en.stateReady);
    equal(await server.sha256(element.value[0] as string), await sha256Hex(file));
  });

  it("shows the server's rejection of a file after assembly", async () => {
    const server = serve();
    const element = await mount(server);
    const errors: Array<[string, string]> = [];
    element.addEventListener('upload-error', (e) =>
      errors.push([e.detail.error.code, e.detail.state]),
    );
    server.fault = async (hit, request) => {
      if (hit.route !== 'status') return undefined;
      const file = server.files.get(hit.fileId as string);
      return HttpResponse.json({
        fileId: hit.fileId,
        sessionId: file?.sessionId,
        name: file?.name,
        size: file?.size,
        receivedBytes: file?.size,
        status: 'rejected',
        error: { code: 'type_mismatch', message: `${request.method} says no` },
      });
    };
    pick(element, [randomFile(40 * KiB, 'looks-fine.pdf')]);
    await waitForState(element, 'looks-fine.pdf', en.stateRejected);
    deepEqual(errors, [['type_mismatch', 'rejected']]);
    equal(
      row(element, 'looks-fine.pdf').querySelector('[part="message"]')?.textContent,
      en.errorTypeMismatch,
    );
    equal(row(element, 'looks-fine.pdf').querySelector('[data-action="retry"]'), null);
    deepEqual(element.value, []);
  });

  it('removes an uploaded file after a confirmation, with DELETE on the server', async () => {
    const server = serve();
    const element = await mount(server);
    pick(element, [randomFile(20 * KiB, 'keep.pdf'), randomFile(30 * KiB, 'gone.pdf')]);
    await waitForState(element, 'keep.pdf', en.stateReady);
    await waitForState(element, 'gone.pdf', en.stateReady);
    const [keepId, goneId] = element.value as [string, string];

    rowButton(element, 'gone.pdf', 'remove').click();
    await element.updateComplete;
    equal(
      row(element, 'gone.pdf').querySelector('[part="confirm"] span')?.textContent,
      'Remove gone.pdf? The uploaded file will be deleted.',
    );
    equal(focused(element), rowButton(element, 'gone.pdf', 'confirm'), 'focus on the confirmation');
    equal(server.count('remove'), 0, 'nothing deleted before the confirmation');
    rowButton(element, 'gone.pdf', 'keep').click();
    await element.updateComplete;
    equal(focused(element), rowButton(element, 'gone.pdf', 'remove'), 'focus back on remove');
    equal(server.count('remove'), 0);

    rowButton(element, 'gone.pdf', 'remove').click();
    await element.updateComplete;
    rowButton(element, 'gone.pdf', 'confirm').click();
    await waitFor(() => element.entries.length === 1, 'the row to go');
    equal(server.count('remove'), 1);
    ok(!server.files.has(goneId), 'the server no longer has the file');
    ok(server.files.has(keepId), 'the other file stays');
    deepEqual(element.value, [keepId]);
    await element.updateComplete;
    equal(focused(element), rowButton(element, 'keep.pdf', 'remove'), 'focus on the next row');
    ok(text(element, '[role="status"]').includes('gone.pdf removed.'));

    rowButton(element, 'keep.pdf', 'remove').click();
    await element.updateComplete;
    rowButton(element, 'keep.pdf', 'confirm').click();
    await waitFor(() => element.entries.length === 0, 'the list to empty');
    await element.updateComplete;
    equal(focused(element), $(element, '[part="browse-button"]'), 'focus on browse');
  });

  it('cancels a running upload at once, deleting what the server holds', async () => {
    const server = serve();
    const element = await mount(server);
    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 1) await held.wait;
      return undefined;
    };
    pick(element, [randomFile(600 * KiB, 'cancel.pdf')]);
    await waitFor(() => server.count('chunk', 1) === 1, 'chunk 1 on its way');
    const fileId = element.entries[0]?.upload?.fileId as string;
    rowButton(element, 'cancel.pdf', 'remove').click();
    await waitFor(() => server.count('remove') === 1, 'the DELETE');
    await waitFor(() => element.entries.length === 0, 'the row to go');
    ok(!server.files.has(fileId));
    held.open();
  });

  it('works by keyboard: Tab to browse, Enter opens the picker; row actions by keyboard', async () => {
    const server = serve();
    const element = await mount(server);
    const before = document.createElement('button');
    before.textContent = 'before';
    element.before(before);
    before.focus();
    await sendKeys({ press: 'Tab' });
    equal(focused(element), $(element, '[part="browse-button"]'), 'Tab reaches browse');
    let opened = 0;
    $(element, '#input').addEventListener('click', (e) => {
      opened++;
      e.preventDefault(); // No real file chooser in the test.
    });
    await sendKeys({ press: 'Enter' });
    equal(opened, 1, 'Enter opened the picker');
    await sendKeys({ press: 'Space' });
    equal(opened, 2, 'Space opened the picker');

    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 1 && hit.attempt === 1) {
        await held.wait;
        return HttpResponse.error();
      }
      return undefined;
    };
    pick(element, [randomFile(600 * KiB, 'keys.pdf')]);
    await waitFor(() => server.count('chunk', 1) === 1, 'chunk 1 on its way');
    await sendKeys({ press: 'Tab' });
    equal(focused(element), rowButton(element, 'keys.pdf', 'pause'));
    await sendKeys({ press: 'Enter' });
    await waitForState(element, 'keys.pdf', en.statePaused);
    held.open();
    equal(focused(element), rowButton(element, 'keys.pdf', 'resume'));
    await sendKeys({ press: 'Enter' });
    await waitForState(element, 'keys.pdf', en.stateReady);
    rowButton(element, 'keys.pdf', 'remove').focus();
    await sendKeys({ press: 'Enter' });
    await element.updateComplete;
    equal(focused(element), rowButton(element, 'keys.pdf', 'confirm'));
    await sendKeys({ press: 'Enter' });
    await waitFor(() => server.count('remove') === 1, 'the DELETE');
    await waitFor(() => element.entries.length === 0, 'the row to go');
    before.remove();
  });
});
