import { emulateMedia } from '@web/test-runner-commands';
import { FileUploader } from '../src/file-uploader.js';
import { de } from '../src/locales/de.js';
import { en } from '../src/strings.js';
import { LiveAnnouncer } from '../src/live-announcer.js';
import {
  $,
  after,
  afterEach,
  before,
  describe,
  drag,
  equal,
  expectAccessible,
  it,
  KiB,
  mount,
  ok,
  pick,
  randomFile,
  row,
  serve,
  startWorker,
  stateOf,
  text,
  transfer,
  unmountAll,
  waitForState,
  worker,
} from './element-kit.browser.js';

describe('<file-uploader>: texts, locales, theming and slots', () => {
  before(startWorker);
  afterEach(async () => {
    unmountAll();
    worker.resetHandlers();
    document.head.querySelector('style[data-test]')?.remove();
    await emulateMedia({ colorScheme: 'light', reducedMotion: 'no-preference' });
  });
  after(() => worker.stop());

  it('has no accessibility violations in German and in dark mode', async () => {
    await emulateMedia({ colorScheme: 'dark' });
    const element = await mount(serve(), { locale: 'de' });
    pick(element, [randomFile(20 * KiB, 'bericht.pdf')]);
    await waitForState(element, 'bericht.pdf', de.stateReady);
    await expectAccessible(element);
  });

  it('takes a language added later, at once, by its tag or by the language of a regional tag', async () => {
    const element = await mount(serve(), { locale: 'pt-BR' });
    equal(text(element, '[part="browse-button"]'), en.browse);
    FileUploader.addLocale('pt', { browse: 'Escolher arquivos' });
    await element.updateComplete;
    equal(text(element, '[part="browse-button"]'), 'Escolher arquivos');
    ok(text(element, '[part="drop-zone"]').includes(en.dropIdle), 'missing texts stay English');
    element.setAttribute('locale', 'de-AT');
    await element.updateComplete;
    equal(text(element, '[part="browse-button"]'), de.browse);
  });

  it('speaks German with locale="de", numbers formatted by Intl', async () => {
    const server = serve();
    const element = await mount(server, { locale: 'de', 'max-total-size': '1.7MB' });
    equal(text(element, '[part="browse-button"]'), de.browse);
    ok(
      text(element, '[part="hint"]').includes('Bis 1,7 MB insgesamt'),
      text(element, '[part="hint"]'),
    );
    pick(element, [randomFile(1536 * KiB, 'gross.pdf')]);
    await waitForState(element, 'gross.pdf', de.stateReady);
    equal(
      row(element, 'gross.pdf').querySelector('[part="meta"]')?.textContent?.trim(),
      '1,6 MB · PDF',
    );
    equal(text(element, '[part="warning"]'), 'Fast voll: 1,6 MB von 1,7 MB belegt.');
  });

  it('takes replacement texts through the strings property', async () => {
    const element = await mount(serve());
    element.strings = { browse: 'Add attachments', emptyList: 'Nothing attached.' };
    await element.updateComplete;
    equal(text(element, '[part="browse-button"]'), 'Add attachments');
    equal(text(element, '[part="empty"]'), 'Nothing attached.');
    equal(text(element, '[part="drop-zone-label"]'), en.dropIdle, 'other texts stay');
  });

  it('shows slotted drop-zone content and empty state', async () => {
    const element = await mount(serve());
    element.innerHTML =
      '<span slot="drop-zone" id="custom">Drop your invoices</span><p slot="empty" id="nothing">No invoices yet</p>';
    await element.updateComplete;
    const zoneSlot = $<HTMLSlotElement>(element, 'slot[name="drop-zone"]');
    equal(zoneSlot.assignedElements()[0]?.id, 'custom');
    const emptySlot = $<HTMLSlotElement>(element, 'slot[name="empty"]');
    equal(emptySlot.assignedElements()[0]?.id, 'nothing');
    ok(($(element, '[part="empty"]').offsetHeight ?? 0) > 0, 'the empty state shows');
  });

  it('is themed by custom properties and ::part, light and dark', async () => {
    const element = await mount(serve());
    const zone = $(element, '[part="drop-zone"]');
    const browse = $(element, '[part="browse-button"]');
    equal(getComputedStyle(browse).backgroundColor, 'rgb(9, 105, 218)', 'default accent');
    await emulateMedia({ colorScheme: 'dark' });
    equal(getComputedStyle(browse).backgroundColor, 'rgb(68, 147, 248)', 'dark accent');
    const style = document.createElement('style');
    style.dataset.test = '';
    style.textContent = `file-uploader { --fu-accent: rgb(1, 2, 3); }
      file-uploader::part(drop-zone) { border-style: dotted; }`;
    document.head.append(style);
    equal(getComputedStyle(browse).backgroundColor, 'rgb(1, 2, 3)', 'the page overrides');
    equal(getComputedStyle(zone).borderTopStyle, 'dotted', '::part reaches the drop zone');
  });

  it('drops transitions under prefers-reduced-motion', async () => {
    const element = await mount(serve());
    const zone = $(element, '[part="drop-zone"]');
    ok(getComputedStyle(zone).transitionDuration !== '0s');
    await emulateMedia({ reducedMotion: 'reduce' });
    equal(getComputedStyle(zone).transitionDuration, '0s');
  });

  it('says "release to check" while the dragged types are hidden', async () => {
    const element = await mount(serve());
    // A file without a MIME type, as a dragged folder or an unknown extension reports.
    const dt = transfer([new File(['x'], 'folder')]);
    drag(element, 'dragenter', dt);
    await element.updateComplete;
    equal($(element, '[part="drop-zone"]').dataset.state, 'unknown');
    equal(text(element, '[part="drop-zone-label"]'), en.dropUnknown);
    drag(element, 'dragleave', dt);
  });

  it('shows an icon, name, size and type for documents', async () => {
    const element = await mount(serve());
    // An XLSX whose bytes are a PDF: refused, but still shown with its icon.
    await element.addFiles([randomFile(5 * KiB, 'sheet.xlsx', '')]);
    await element.updateComplete;
    const item = row(element, 'sheet.xlsx');
    ok(item.querySelector('[part="icon"] svg'), 'an icon');
    equal(item.querySelector('[part="meta"]')?.textContent?.trim(), '5.1 kB · XLSX');
    equal(stateOf(element, 'sheet.xlsx'), en.stateRejected);
  });

  it('throttles progress in the live region, saying other news at once', async () => {
    const host = { addController() {}, requestUpdate() {} } as never;
    const announcer = new LiveAnnouncer(host, 60_000);
    announcer.progress('10%');
    equal(announcer.message, '10%');
    announcer.progress('20%');
    equal(announcer.message, '10%', 'a second progress within the interval waits');
    announcer.say('a.pdf uploaded.');
    equal(announcer.message, 'a.pdf uploaded.');
    announcer.progress('30%');
    equal(announcer.message, 'a.pdf uploaded.');
    announcer.hostDisconnected();
  });
});
