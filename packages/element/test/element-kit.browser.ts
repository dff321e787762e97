/**
 * What the element's browser tests share: mounting a <file-uploader> against the msw fake
 * server of the SDK's tests, reaching into its shadow root, files, drops and an axe check.
 */
import '../src/define.js';
import type { FileUploader } from '../src/file-uploader.js';
import { FakeServer, worker } from '../../sdk/test/fake-server.browser.js';
import { AssertionError, waitFor } from '../../sdk/test/test-kit.browser.js';

export { FakeServer, startWorker, worker } from '../../sdk/test/fake-server.browser.js';
export * from '../../sdk/test/test-kit.browser.js';

export const KiB = 1024;

/** A fake server whose routes are live in the service worker. */
export function serve(chunkSize = 256 * KiB): FakeServer {
  const server = new FakeServer(chunkSize);
  worker.use(...server.handlers());
  return server;
}

/** Mounts an element speaking to `server`, with fast retries and no throttled progress. */
export async function mount(
  server: FakeServer,
  attributes: Record<string, string> = {},
  parent: HTMLElement = document.body,
  options: FileUploader['uploaderOptions'] = {},
): Promise<FileUploader> {
  const element = document.createElement('file-uploader');
  element.setAttribute('endpoint', server.base);
  element.setAttribute('locale', 'en');
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  element.getToken = () => 'test-token';
  element.uploaderOptions = {
    resume: false,
    retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 20 },
    progressIntervalMs: 0,
    concurrency: { chunks: 1 },
    ...options,
  };
  parent.append(element);
  await element.updateComplete;
  return element;
}

/** Removes every mounted element (and form) after a test. */
export function unmountAll(): void {
  for (const node of document.body.querySelectorAll('file-uploader, form')) node.remove();
}

export function $<T extends Element = HTMLElement>(element: FileUploader, selector: string): T {
  const found = element.shadowRoot?.querySelector<T>(selector);
  if (!found) throw new AssertionError(`no ${selector} in <file-uploader>`);
  return found;
}

export function $$(element: FileUploader, selector: string): HTMLElement[] {
  return [...(element.shadowRoot?.querySelectorAll<HTMLElement>(selector) ?? [])];
}

/** The text of a shadow element, whitespace collapsed. */
export function text(element: FileUploader, selector: string): string {
  return ($(element, selector).textContent ?? '').replace(/\s+/g, ' ').trim();
}

/** The row of a file, by name. */
export function row(element: FileUploader, name: string): HTMLElement {
  const found = $$(element, '[part="item"]').find(
    (li) => li.querySelector('[part="name"]')?.textContent === name,
  );
  if (!found) throw new AssertionError(`no row for ${name}`);
  return found;
}

export function stateOf(element: FileUploader, name: string): string {
  return row(element, name).querySelector('[part="state"]')?.textContent?.trim() ?? '';
}

export function rowButton(element: FileUploader, name: string, action: string): HTMLButtonElement {
  const button = row(element, name).querySelector<HTMLButtonElement>(`[data-action="${action}"]`);
  if (!button) throw new AssertionError(`no ${action} button for ${name}`);
  return button;
}

/** Waits until the row of `name` shows `label`. */
export async function waitForState(
  element: FileUploader,
  name: string,
  label: string,
  timeoutMs = 10_000,
): Promise<void> {
  await waitFor(
    () => {
      try {
        return stateOf(element, name) === label;
      } catch {
        return false;
      }
    },
    () => `${name} to read "${label}"`,
    timeoutMs,
  );
}

/** Picks files through the element's real <input type=file>, as the file chooser would. */
export function pick(element: FileUploader, files: File[], input = '#input'): void {
  const target = $<HTMLInputElement>(element, input);
  const dt = new DataTransfer();
  for (const file of files) dt.items.add(file);
  target.files = dt.files;
  target.dispatchEvent(new Event('change', { bubbles: true }));
}

/** A DataTransfer holding `files`, as a drag from the desktop carries. */
export function transfer(files: File[]): DataTransfer {
  const dt = new DataTransfer();
  for (const file of files) dt.items.add(file);
  return dt;
}

export function drag(element: FileUploader, type: string, dt: DataTransfer): void {
  $(element, '[part="drop-zone"]').dispatchEvent(
    new DragEvent(type, { dataTransfer: dt, bubbles: true, composed: true, cancelable: true }),
  );
}

/** Collects the element's events of the given types, in order. */
export function record(element: FileUploader, types: string[]): Event[] {
  const seen: Event[] = [];
  for (const type of types) element.addEventListener(type, (event) => seen.push(event));
  return seen;
}

interface AxeViolation {
  id: string;
  help: string;
  nodes: Array<{ target: unknown; failureSummary?: string }>;
}
interface Axe {
  run(context: Element, options?: object): Promise<{ violations: AxeViolation[] }>;
}

/** Runs axe-core (WCAG 2.x A/AA rules and best practices) on the element; fails on any violation. */
export async function expectAccessible(element: Element): Promise<void> {
  const global = window as unknown as { axe?: Axe };
  // @ts-expect-error axe-core ships this file as a script that sets window.axe.
  if (!global.axe) await import('axe-core/axe.min.js');
  const axe = global.axe as Axe;
  const { violations } = await axe.run(element, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice'] },
  });
  if (violations.length > 0) {
    const report = violations.map(
      (v) =>
        `${v.id}: ${v.help}\n${v.nodes.map((n) => `  ${JSON.stringify(n.target)} ${n.failureSummary ?? ''}`).join('\n')}`,
    );
    throw new AssertionError(`axe found ${violations.length} violation(s):\n${report.join('\n')}`);
  }
}

/** A file with the given leading bytes, then `size` random-ish filler. */
export function fileWithHead(
  head: number[] | string,
  size: number,
  name: string,
  type: string,
): File {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 131 + 7) & 0xff;
  bytes.set(typeof head === 'string' ? new TextEncoder().encode(head) : head);
  return new File([bytes], name, { type, lastModified: 1_700_000_000_000 + size });
}

/** A real PNG of `width` x `height`, drawn on a canvas. */
export async function pngFile(name: string, width = 64, height = 32): Promise<File> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D;
  context.fillStyle = '#3a7';
  context.fillRect(0, 0, width, height);
  const blob = await canvas.convertToBlob({ type: 'image/png' });
  return new File([blob], name, { type: 'image/png', lastModified: 1_700_000_000_000 });
}
