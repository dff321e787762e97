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
  serve,
  startWorker,
  unmountAll,
  waitFor,
  waitForState,
  worker,
} from './element-kit.browser.js';

function form(): HTMLFormElement {
  const element = document.createElement('form');
  document.body.append(element);
  return element;
}

describe('<file-uploader> in a form (ElementInternals)', () => {
  before(startWorker);
  afterEach(() => {
    unmountAll();
    worker.resetHandlers();
  });
  after(() => worker.stop());

  it('has no accessibility violations inside a form', async () => {
    const host = form();
    const label = document.createElement('label');
    label.textContent = 'Attachments';
    host.append(label);
    const element = await mount(serve(), { name: 'files', required: '' }, host);
    await expectAccessible(host);
    equal(element.form, host);
  });

  it('is invalid when required and empty, and while uploads run; valid once uploaded', async () => {
    const server = serve();
    const host = form();
    const element: FileUploader = await mount(server, { name: 'files', required: '' }, host);
    equal(element.validity.valueMissing, true);
    equal(element.validationMessage, en.validityRequired);
    equal(host.checkValidity(), false);

    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 1) await held.wait;
      return undefined;
    };
    pick(element, [randomFile(600 * KiB, 'a.pdf'), randomFile(20 * KiB, 'b.pdf')]);
    await waitForState(element, 'b.pdf', en.stateReady);
    equal(element.validity.customError, true, 'invalid while a.pdf uploads');
    equal(element.validationMessage, en.validityUnfinished);
    equal(host.checkValidity(), false);
    ok(element.matches(':state(uploading)'));

    held.open();
    await waitForState(element, 'a.pdf', en.stateReady);
    await element.updateComplete;
    equal(element.validity.valid, true);
    equal(host.checkValidity(), true);
    ok(!element.matches(':state(uploading)'));
    const ids = element.entries.map((e) => e.upload?.fileId);
    deepEqual(new FormData(host).getAll('files'), ids, 'one entry per uploaded file id');
    deepEqual(element.value, ids);
  });

  it('form reset cancels unfinished uploads and clears the list', async () => {
    const server = serve();
    const host = form();
    const element = await mount(server, { name: 'files' }, host);
    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 1) await held.wait;
      return undefined;
    };
    pick(element, [randomFile(600 * KiB, 'running.pdf'), randomFile(10 * KiB, 'done.pdf')]);
    await waitForState(element, 'done.pdf', en.stateReady);
    await waitFor(() => server.count('chunk', 1) === 1, 'running.pdf on its way');
    const running = element.entries.find((e) => e.file.name === 'running.pdf')?.upload;
    deepEqual(new FormData(host).getAll('files').length, 1);
    host.reset();
    await element.updateComplete;
    equal(element.entries.length, 0);
    equal(running?.state, 'cancelled');
    await waitFor(() => server.count('remove') === 1, 'the unfinished file deleted');
    deepEqual(new FormData(host).getAll('files'), []);
    equal(element.validity.valid, true);
    held.open();
  });

  it('a disabled fieldset disables the element', async () => {
    const server = serve();
    const host = form();
    const fieldset = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = 'Files';
    fieldset.append(legend);
    host.append(fieldset);
    const element = await mount(server, { name: 'files' }, fieldset);
    fieldset.disabled = true;
    await element.updateComplete;
    ok($<HTMLButtonElement>(element, '[part="browse-button"]').disabled);
    equal($(element, '[part="drop-zone"]').dataset.state, 'disabled');
    await element.addFiles([randomFile(10 * KiB, 'x.pdf')]);
    equal(element.entries.length, 0);
    fieldset.disabled = false;
    await element.updateComplete;
    ok(!$<HTMLButtonElement>(element, '[part="browse-button"]').disabled);
    await element.addFiles([randomFile(10 * KiB, 'y.pdf')]);
    await waitForState(element, 'y.pdf', en.stateReady);
    equal(server.hits.filter((h) => h.route === 'initiate').length, 1);
  });
});
