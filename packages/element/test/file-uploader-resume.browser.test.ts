import { createUploader } from '@file-uploader/sdk';
import { HttpResponse } from 'msw';
import type { UploadStartEvent } from '../src/events/upload-start.js';
import type { FileUploader } from '../src/file-uploader.js';
import { en } from '../src/strings.js';
import {
  $,
  $$,
  after,
  afterEach,
  before,
  describe,
  equal,
  expectAccessible,
  type FakeServer,
  gate,
  it,
  KiB,
  lockReleased,
  mount,
  ok,
  pick,
  randomFile,
  record,
  rowButton,
  serve,
  sha256Hex,
  startWorker,
  unmountAll,
  waitFor,
  waitForState,
  worker,
} from './element-kit.browser.js';

/** Resume records in IndexedDB, as on a real page: they outlive the element. */
const persistent = { resume: undefined };

/**
 * Starts uploading `file` in an element, pauses it after two chunks and removes the element:
 * what a reload in the middle of an upload leaves behind.
 */
async function leaveUnfinished(server: FakeServer, file: File, attributes = {}): Promise<void> {
  const element = await mount(server, attributes, document.body, persistent);
  const held = gate();
  server.fault = async (hit) => {
    if (hit.route === 'chunk' && hit.chunkIndex === 2 && hit.attempt === 1) {
      await held.wait;
      return HttpResponse.error();
    }
    return undefined;
  };
  pick(element, [file]);
  await waitFor(() => server.count('chunk', 2) === 1, 'chunk 2 on its way');
  rowButton(element, file.name, 'pause').click();
  await waitForState(element, file.name, en.statePaused);
  held.open();
  await lockReleased(element.entries[0]?.upload?.key as string);
  element.remove();
}

async function offer(element: FileUploader): Promise<HTMLElement> {
  await waitFor(() => $$(element, '[part="resume-offer"]').length === 1, 'the resume offer');
  return $<HTMLElement>(element, '[part="resume-offer"]');
}

describe('<file-uploader>: resuming uploads left unfinished by an earlier page', () => {
  before(startWorker);
  afterEach(() => {
    unmountAll();
    worker.resetHandlers();
  });
  after(() => worker.stop());

  it('resumes at once when the bytes were kept, sending only the missing chunks', async () => {
    const server = serve();
    const file = randomFile(1024 * KiB, 'kept.pdf');
    await leaveUnfinished(server, file, { 'persist-files': '' });
    const element = await mount(server, { 'persist-files': '' }, document.body, persistent);
    const starts = record(element, ['upload-start']) as UploadStartEvent[];
    const box = await offer(element);
    await expectAccessible(element);
    equal(box.querySelector('p')?.textContent, '1 upload was left unfinished.');
    $<HTMLButtonElement>(element, '[part~="resume-button"]').click();
    await waitForState(element, 'kept.pdf', en.stateReady);
    equal(starts[0]?.detail.resumed, true);
    equal(await server.sha256(element.value[0] as string), await sha256Hex(file));
    equal(server.count('chunk', 0), 1, 'chunk 0 was not sent again');
    equal(server.count('chunk', 1), 1, 'chunk 1 was not sent again');
    equal(server.count('initiate'), 1, 'the same session');
    equal($$(element, '[part="resume-offer"]').length, 0, 'the offer is gone');
  });

  it('asks for the file again when its bytes were not kept, and checks it is the same', async () => {
    const server = serve();
    const file = randomFile(1024 * KiB, 'asked.pdf');
    await leaveUnfinished(server, file);
    const element = await mount(server, {}, document.body, persistent);
    const box = await offer(element);
    ok(box.textContent?.includes('To continue asked.pdf, pick the same file again.'));
    let chooser = 0;
    $(element, '#resume-input').addEventListener('click', (e) => {
      chooser++;
      e.preventDefault();
    });
    $<HTMLButtonElement>(element, '[part~="pick-button"]').click();
    equal(chooser, 1, 'the file chooser opened');

    const other = randomFile(1024 * KiB, 'other.pdf');
    pick(element, [other], '#resume-input');
    await waitFor(
      () => (box.querySelector('[part="message"]')?.textContent ?? '') !== '',
      'the error',
    );
    equal(
      box.querySelector('[part="message"]')?.textContent,
      'other.pdf is not the file that was being uploaded as asked.pdf. Pick that file.',
    );
    equal(server.count('chunk'), 3, 'nothing sent for the wrong file');

    $<HTMLButtonElement>(element, '[part~="pick-button"]').click();
    pick(element, [file], '#resume-input');
    await waitForState(element, 'asked.pdf', en.stateReady);
    equal(await server.sha256(element.value[0] as string), await sha256Hex(file));
    equal(server.count('chunk', 0), 1, 'chunk 0 was not sent again');
  });

  it('discarding forgets the unfinished uploads', async () => {
    const server = serve();
    await leaveUnfinished(server, randomFile(1024 * KiB, 'dropped.pdf'));
    const element = await mount(server, {}, document.body, persistent);
    await offer(element);
    $<HTMLButtonElement>(element, '[part~="discard-button"]').click();
    await element.updateComplete;
    equal($$(element, '[part="resume-offer"]').length, 0);
    await waitFor(
      async () =>
        (await createUploader({ endpoint: server.base, getToken: () => 'test-token' }).resumable())
          .length === 0,
      'the records to be forgotten',
    );
  });
});
