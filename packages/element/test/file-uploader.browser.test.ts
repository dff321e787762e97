import type { FilesAddedEvent } from '../src/events/files-added.js';
import type { FileRejectedEvent } from '../src/events/file-rejected.js';
import type { UploadStartEvent } from '../src/events/upload-start.js';
import type { UploadProgressEvent } from '../src/events/upload-progress.js';
import type { UploadSuccessEvent } from '../src/events/upload-success.js';
import type { BatchDoneEvent } from '../src/events/batch-done.js';
import { en } from '../src/strings.js';
import {
  $,
  after,
  afterEach,
  before,
  deepEqual,
  describe,
  drag,
  equal,
  expectAccessible,
  fileWithHead,
  gate,
  it,
  KiB,
  mount,
  ok,
  pick,
  pngFile,
  randomFile,
  record,
  row,
  serve,
  sha256Hex,
  startWorker,
  stateOf,
  text,
  transfer,
  unmountAll,
  waitFor,
  waitForState,
  worker,
} from './element-kit.browser.js';

describe('<file-uploader>: adding files and uploading them', () => {
  before(startWorker);
  afterEach(() => {
    unmountAll();
    worker.resetHandlers();
  });
  after(() => worker.stop());

  it('has no accessibility violations, empty and with files in several states', async () => {
    const server = serve();
    const element = await mount(server, { accept: '.pdf,image/*', 'max-total-size': '10MB' });
    await expectAccessible(element);
    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 1) await held.wait;
      return undefined;
    };
    const spoof = fileWithHead('MZ', 4 * KiB, 'spoof.pdf', 'application/pdf');
    pick(element, [randomFile(600 * KiB, 'running.pdf'), spoof, await pngFile('photo.png')]);
    await waitForState(element, 'running.pdf', en.stateUploading);
    await waitForState(element, 'photo.png', en.stateReady);
    await waitFor(() => row(element, 'photo.png').querySelector('img') !== null, 'a thumbnail');
    await expectAccessible(element);
    held.open();
    await waitForState(element, 'running.pdf', en.stateReady);
  });

  it('uploads files picked through the real <input type=file>, firing typed events', async () => {
    const server = serve();
    const element = await mount(server);
    const events = record(element, [
      'files-added',
      'upload-start',
      'upload-progress',
      'upload-success',
      'batch-done',
    ]);
    const bubbled: string[] = [];
    document.body.addEventListener('upload-success', (e) => bubbled.push(e.type), { once: true });
    const a = randomFile(700 * KiB, 'a.pdf');
    const b = randomFile(300 * KiB, 'b.pdf');
    pick(element, [a, b]);
    await waitFor(() => events.some((e) => e.type === 'batch-done'), 'batch-done', 10_000);

    const added = events.find((e) => e.type === 'files-added') as FilesAddedEvent;
    deepEqual(
      added.detail.files.map((f) => f.name),
      ['a.pdf', 'b.pdf'],
    );
    ok(added.bubbles && added.composed, 'events bubble out of the shadow root');
    const starts = events.filter((e) => e.type === 'upload-start') as UploadStartEvent[];
    equal(starts.length, 2);
    equal(starts[0]?.detail.file, a);
    equal(starts[0]?.detail.resumed, false);
    const progress = events.filter((e) => e.type === 'upload-progress') as UploadProgressEvent[];
    ok(
      progress.some((e) => e.detail.file === a && e.detail.progress.confirmedBytes === a.size),
      'progress reaches the whole file',
    );
    const successes = events.filter((e) => e.type === 'upload-success') as UploadSuccessEvent[];
    equal(successes.length, 2);
    for (const success of successes) {
      equal(success.detail.result.status, 'ready');
      equal(await server.sha256(success.detail.fileId), await sha256Hex(success.detail.file));
    }
    equal(server.count('initiate'), 1, 'files picked together go up in one session');
    const done = events.find((e) => e.type === 'batch-done') as BatchDoneEvent;
    deepEqual([...done.detail.fileIds].sort(), successes.map((s) => s.detail.fileId).sort());
    equal(done.detail.failed, 0);
    deepEqual(bubbled, ['upload-success']);
    equal(stateOf(element, 'a.pdf'), en.stateReady);
    ok(text(element, '[part="summary"]').startsWith('2 of 2 files uploaded'));
    equal(
      row(element, 'a.pdf').querySelector('[part="meta"]')?.textContent?.trim(),
      '717 kB · PDF',
    );
  });

  it('shows progress, speed, time left and the state while a chunk is on its way', async () => {
    const server = serve();
    const element = await mount(server);
    const held = gate();
    server.fault = async (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 2) await held.wait;
      return undefined;
    };
    const file = randomFile(1024 * KiB, 'big.pdf');
    pick(element, [file]);
    await waitFor(
      () =>
        element.shadowRoot?.querySelector('[role="progressbar"]')?.getAttribute('aria-valuenow') ===
        '50',
      'half the file confirmed',
    );
    const bar = row(element, 'big.pdf').querySelector('[role="progressbar"]') as HTMLElement;
    equal(bar.getAttribute('aria-valuetext'), '50%');
    equal(bar.getAttribute('aria-label'), 'big.pdf');
    equal(stateOf(element, 'big.pdf'), en.stateUploading);
    const stats = row(element, 'big.pdf').querySelector('[part="stats"]')?.textContent ?? '';
    // Two chunks confirmed a network round trip apart give the SDK a speed, hence a time left.
    ok(/^50% · 524 kB of 1 MB · at [\d.]+ [kMG]?B\/s · .+ left$/.test(stats), stats);
    equal(text(element, '[part="summary"]'), '0 of 1 file uploaded · 524 kB of 1 MB (50%)');
    held.open();
    await waitForState(element, 'big.pdf', en.stateReady);
    equal(row(element, 'big.pdf').querySelector('[role="progressbar"]'), null);
  });

  it('takes files dropped on the drop zone, showing the drag state first', async () => {
    const server = serve();
    const element = await mount(server);
    const zone = $(element, '[part="drop-zone"]');
    const file = randomFile(40 * KiB, 'dropped.pdf');
    const dt = transfer([file]);
    drag(element, 'dragenter', dt);
    await element.updateComplete;
    equal(zone.dataset.state, 'accept');
    equal(text(element, '[part="drop-zone-label"]'), en.dropAccept);
    ok(element.matches(':state(dragging)'), 'the custom state is set');
    drag(element, 'dragover', dt);
    drag(element, 'drop', dt);
    await element.updateComplete;
    equal(zone.dataset.state, 'idle');
    await waitForState(element, 'dropped.pdf', en.stateReady);
    const fileId = element.value[0] as string;
    equal(await server.sha256(fileId), await sha256Hex(file));
  });

  it('takes the files of a dropped folder, recursively', async () => {
    const server = serve();
    const element = await mount(server);
    const files = [
      randomFile(10 * KiB, 'top.pdf'),
      randomFile(11 * KiB, 'deep.pdf'),
      randomFile(12 * KiB, 'deeper.pdf'),
    ];
    // The File and Directory Entries of a drop from the desktop: scripts cannot build a real
    // one, so the entries are plain objects and Chromium's DataTransfer is stood in for.
    const fileEntry = (file: File) => ({
      isFile: true,
      isDirectory: false,
      name: file.name,
      file: (done: (f: File) => void) => done(file),
    });
    const folder = (name: string, children: unknown[]) => ({
      isFile: false,
      isDirectory: true,
      name,
      createReader: () => {
        // Two batches, then an empty one, as Chromium reads big folders.
        const batches = [children.slice(0, 1), children.slice(1), []];
        return { readEntries: (done: (entries: unknown[]) => void) => done(batches.shift() ?? []) };
      },
    });
    const tree = folder('reports', [
      fileEntry(files[0] as File),
      folder('2024', [fileEntry(files[1] as File), folder('q4', [fileEntry(files[2] as File)])]),
    ]);
    const dt = {
      items: [{ kind: 'file', type: '', webkitGetAsEntry: () => tree, getAsFile: () => null }],
      files: [],
    };
    const drop = new DragEvent('drop', { bubbles: true, composed: true, cancelable: true });
    Object.defineProperty(drop, 'dataTransfer', { value: dt });
    $(element, '[part="drop-zone"]').dispatchEvent(drop);
    for (const file of files) await waitForState(element, file.name, en.stateReady);
    equal(server.count('initiate'), 1, 'the folder goes up in one session');
    for (const entry of element.entries) {
      const fileId = entry.upload?.fileId as string;
      equal(await server.sha256(fileId), await sha256Hex(entry.file));
    }
  });

  it('shows a refused drag, and a disabled drop zone takes nothing', async () => {
    const server = serve();
    const element = await mount(server, { accept: '.pdf' });
    const zone = $(element, '[part="drop-zone"]');
    const dt = transfer([new File(['hello'], 'notes.txt', { type: 'text/plain' })]);
    drag(element, 'dragenter', dt);
    await element.updateComplete;
    equal(zone.dataset.state, 'reject');
    equal(text(element, '[part="drop-zone-label"]'), en.dropReject);
    drag(element, 'dragleave', dt);
    await element.updateComplete;
    equal(zone.dataset.state, 'idle');

    element.disabled = true;
    await element.updateComplete;
    equal(zone.dataset.state, 'disabled');
    equal(text(element, '[part="drop-zone-label"]'), en.dropDisabled);
    ok($<HTMLButtonElement>(element, '[part="browse-button"]').disabled);
    const pdf = transfer([randomFile(10 * KiB, 'ignored.pdf')]);
    drag(element, 'dragenter', pdf);
    drag(element, 'drop', pdf);
    await element.addFiles([randomFile(10 * KiB, 'also-ignored.pdf')]);
    equal(element.entries.length, 0);
    equal(server.hits.length, 0);
  });

  it('refuses a spoofed file with its message, and never sends it', async () => {
    const server = serve();
    const element = await mount(server, { accept: '.pdf,.docx' });
    const rejected = record(element, ['file-rejected']) as FileRejectedEvent[];
    // A Windows executable named and typed as a PDF.
    const spoof = fileWithHead(
      [0x4d, 0x5a, 0x90, 0x00],
      20 * KiB,
      'invoice.pdf',
      'application/pdf',
    );
    const big = randomFile(20 * KiB, 'notes.txt', 'text/plain');
    await element.addFiles([spoof, big]);
    await element.updateComplete;
    deepEqual(
      rejected.map((e) => [e.detail.file.name, e.detail.code]),
      [
        ['invoice.pdf', 'content'],
        ['notes.txt', 'type'],
      ],
    );
    equal(rejected[0]?.detail.file, spoof);
    equal(
      rejected[0]?.detail.message,
      'invoice.pdf cannot be added: its content is not a PDF file, whatever its name says.',
    );
    equal(rejected[1]?.detail.code, 'type');
    const message = row(element, 'invoice.pdf').querySelector('[part="message"]')?.textContent;
    equal(message, rejected[0]?.detail.message);
    equal(stateOf(element, 'invoice.pdf'), en.stateRejected);
    ok(text(element, '[role="status"]').includes('invoice.pdf cannot be added'), 'announced');
    equal(server.hits.length, 0, 'nothing reached the server');
    deepEqual(element.value, []);
  });

  it('refuses files over the size, count and total limits, warning near the total', async () => {
    const server = serve();
    const element = await mount(server, {
      'max-file-size': '100kB',
      'max-total-size': '200kB',
      'max-files': '3',
    });
    const hint = text(element, '[part="hint"]');
    ok(hint.includes('Up to 100 kB per file') && hint.includes('Up to 3 files'), hint);
    const rejected = record(element, ['file-rejected']) as FileRejectedEvent[];
    await element.addFiles([
      randomFile(150 * KiB, 'huge.pdf'),
      randomFile(90 * KiB, 'one.pdf'),
      randomFile(90 * KiB, 'two.pdf'),
      randomFile(90 * KiB, 'three.pdf'),
    ]);
    deepEqual(
      rejected.map((e) => e.detail.code),
      ['file-size', 'total-size'],
    );
    equal(
      rejected[0]?.detail.message,
      'huge.pdf cannot be added: it is 154 kB, and each file may be up to 100 kB.',
    );
    await element.updateComplete;
    equal(text(element, '[part="warning"]'), 'Almost full: 184 kB of 200 kB used.');
    await element.addFiles([randomFile(10 * KiB, 'small.pdf'), randomFile(1 * KiB, 'tiny.pdf')]);
    equal(rejected.at(-1)?.detail.code, 'count');
    await waitForState(element, 'small.pdf', en.stateReady);
  });

  it('takes pasted files', async () => {
    const server = serve();
    const element = await mount(server);
    const file = randomFile(12 * KiB, 'pasted.pdf');
    const paste = new ClipboardEvent('paste', {
      clipboardData: transfer([file]),
      bubbles: true,
      composed: true,
      cancelable: true,
    });
    $(element, '[part="browse-button"]').dispatchEvent(paste);
    ok(paste.defaultPrevented, 'the paste was taken');
    await waitForState(element, 'pasted.pdf', en.stateReady);
    equal(await server.sha256(element.value[0] as string), await sha256Hex(file));
  });
});
