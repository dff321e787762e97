/**
 * The benchmark page, bundled for Chromium. Each row is one function on `window.bench` that
 * uploads the page's payload Blob and returns the time it took, measured in the page.
 */
import '@file-uploader/element/define';
import type { BatchDoneEvent } from '@file-uploader/element';
import { createUploader } from '@file-uploader/sdk';
// Not part of the package's exports: the function an upload calls for its content hash.
import { hashBlocks } from '../../packages/sdk/src/hashing.js';

const PDF_HEADER = '%PDF-1.7\n';

let payload: Blob | undefined;

function current(): Blob {
  if (!payload) throw new Error('makePayload() first');
  return payload;
}

const hex = (bytes: ArrayBuffer) =>
  Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** Random bytes with a PDF header (the reference server checks types); returns their SHA-256. */
async function makePayload(size: number): Promise<string> {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) crypto.getRandomValues(bytes.subarray(at, at + 65_536));
  bytes.set(new TextEncoder().encode(PDF_HEADER).subarray(0, size));
  payload = new Blob([bytes], { type: 'application/pdf' });
  return hex(await crypto.subtle.digest('SHA-256', bytes));
}

/**
 * Makes the file picked in the page's `<input type=file id=payload>` the payload: a File backed
 * by the disk, as a user's pick or drop is (slices of it are read from the file, not copied in
 * memory). Returns its size.
 */
function usePickedFile(): number {
  const file = document.querySelector<HTMLInputElement>('input#payload')?.files?.[0];
  if (!file) throw new Error('no file picked in input#payload');
  payload = file;
  return file.size;
}

/**
 * Our SDK with its defaults, in the page; resolves when the server reports the file ready. Also
 * reports the time spent in each state (`hashing`: the content hash, before initiate).
 */
async function sdkUpload(
  endpoint: string,
  token: string,
  digests = true,
): Promise<{ ms: number; stateMs: Record<string, number>; sessionId: string; fileId: string }> {
  const file = new File([current()], 'payload.pdf', { type: 'application/pdf' });
  const started = performance.now();
  const uploader = createUploader({ endpoint, getToken: () => token, digests });
  const stateMs: Record<string, number> = {};
  let since = started;
  uploader.addEventListener('state', (event) => {
    const now = performance.now();
    const previous = event.previous ?? 'queued';
    stateMs[previous] = (stateMs[previous] ?? 0) + (now - since);
    since = now;
  });
  const upload = uploader.add(file);
  await upload.done;
  const ms = performance.now() - started;
  return { ms, stateMs, sessionId: upload.sessionId as string, fileId: upload.fileId as string };
}

/**
 * `<file-uploader>` as a page uses it: a fresh element with `endpoint` and `getToken`, the payload
 * picked through its own `<input type=file>` (in its shadow root: `files` set from a DataTransfer,
 * then the `change` a pick fires), timed until its `batch-done`. The element is removed after.
 */
async function elementUpload(
  endpoint: string,
  token: string,
): Promise<{ ms: number; sessionId: string; fileId: string }> {
  const element = document.createElement('file-uploader');
  element.endpoint = endpoint;
  element.getToken = () => token;
  document.body.append(element);
  try {
    await element.updateComplete;
    const input = element.shadowRoot?.querySelector<HTMLInputElement>('input#input');
    if (!input) throw new Error('no <input type=file> in the element');
    const picked = new DataTransfer();
    picked.items.add(new File([current()], 'payload.pdf', { type: 'application/pdf' }));
    const done = new Promise<BatchDoneEvent>((resolve) =>
      element.addEventListener('batch-done', resolve, { once: true }),
    );
    const started = performance.now();
    input.files = picked.files;
    input.dispatchEvent(new Event('change', { bubbles: true }));
    const { detail } = await done;
    const ms = performance.now() - started;
    const upload = detail.uploads[0];
    if (detail.failed > 0 || detail.fileIds.length !== 1 || !upload?.sessionId) {
      throw new Error(
        `element batch ended with ${detail.failed} failed: ${upload?.state} ${upload?.error?.code ?? ''} ${upload?.error?.message ?? ''}`,
      );
    }
    return { ms, sessionId: upload.sessionId, fileId: detail.fileIds[0] as string };
  } finally {
    element.remove();
  }
}

/** Time the SDK takes for the payload's content hash (the function an upload calls). */
async function sdkContentHash(): Promise<{ ms: number; bytes: number }> {
  const blob = current();
  const started = performance.now();
  await hashBlocks(blob, new AbortController().signal);
  return { ms: performance.now() - started, bytes: blob.size };
}

/** One `fetch` PUT of the whole Blob: the browser's own limit. */
async function fetchPut(url: string): Promise<{ ms: number }> {
  const started = performance.now();
  const res = await fetch(url, { method: 'PUT', body: current() });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`PUT ${url}: ${res.status}`);
  return { ms: performance.now() - started };
}

/**
 * The naive chunked client in the page: `chunkSize` XHR PUTs in order, no hashing. The body is
 * the Blob slice itself, or (`bytes`) the slice read into memory first, as a client that hashes
 * chunks before sending has them.
 */
async function xhrChunks(url: string, chunkSize: number, bytes = false): Promise<{ ms: number }> {
  const blob = current();
  const started = performance.now();
  for (let start = 0; start < blob.size; start += chunkSize) {
    const end = Math.min(start + chunkSize, blob.size);
    const slice = blob.slice(start, end);
    const body = bytes ? new Uint8Array(await slice.arrayBuffer()) : slice;
    await new Promise<void>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open('PUT', url);
      xhr.setRequestHeader('Content-Range', `bytes ${start}-${end - 1}/${blob.size}`);
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`PUT ${xhr.status}`)));
      xhr.onerror = () => reject(new Error('PUT failed'));
      xhr.send(body);
    });
  }
  return { ms: performance.now() - started };
}

/** SHA-256 with Web Crypto of the payload's bytes held in memory, `piece` bytes at a time. */
async function digestInMemory(piece: number): Promise<{ ms: number; bytes: number }> {
  const bytes = new Uint8Array(await current().arrayBuffer());
  const started = performance.now();
  for (let at = 0; at < bytes.length; at += piece) {
    await crypto.subtle.digest('SHA-256', bytes.subarray(at, at + piece));
  }
  return { ms: performance.now() - started, bytes: bytes.length };
}

const bench = {
  makePayload,
  usePickedFile,
  sdkUpload,
  elementUpload,
  sdkContentHash,
  fetchPut,
  xhrChunks,
  digestInMemory,
};
export type BenchPage = typeof bench;
(globalThis as unknown as { bench: BenchPage }).bench = bench;
document.body.dataset.ready = 'true';
