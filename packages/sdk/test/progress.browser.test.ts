import { createUploader, type UploadProgress } from '@file-uploader/sdk';
import { FakeServer, startWorker, worker } from './fake-server.browser.js';
import {
  after,
  afterEach,
  before,
  describe,
  equal,
  it,
  ok,
  randomFile,
  sha256Hex,
} from './test-kit.browser.js';

const KiB = 1024;

describe('progress in Chromium (XHR chunks, msw fake server)', () => {
  before(startWorker);
  afterEach(() => worker.resetHandlers());
  after(() => worker.stop());

  it('confirmed bytes only go up, to the size of the file', async () => {
    const server = new FakeServer(256 * KiB);
    worker.use(...server.handlers());
    const seen: UploadProgress[] = [];
    const uploader = createUploader({
      endpoint: server.base,
      getToken: () => 'test-token',
      resume: false,
      progressIntervalMs: 0,
    });
    uploader.addEventListener('progress', (event) => seen.push(event.upload.progress));
    const file = randomFile(1200 * KiB, 'progress.pdf');
    const upload = uploader.add(file);
    equal((await upload.done).status, 'ready');
    equal(await server.sha256(upload.fileId as string), await sha256Hex(file));
    ok(seen.length >= 5, `one event per chunk at least: ${seen.length}`);
    for (let i = 1; i < seen.length; i++) {
      const [previous, next] = [seen[i - 1] as UploadProgress, seen[i] as UploadProgress];
      ok(next.confirmedBytes >= previous.confirmedBytes, 'confirmed bytes never go back');
      ok(next.confirmedBytes + next.inFlightBytes <= file.size, 'never more than the file');
      equal(next.totalBytes, file.size);
    }
    const last = seen.at(-1) as UploadProgress;
    equal(last.confirmedBytes, file.size);
    equal(last.inFlightBytes, 0);
  });
});

/**
 * JSON routes answered in the page (through the uploader's `fetch` option) for an endpoint
 * whose chunks go to the test server's slow sink over a real connection.
 */
function stubJsonRoutes(endpoint: string, size: number, chunkSize: number): typeof fetch {
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
  const file = { fileId: 'file-1', name: 'slow.pdf', size, type: 'application/pdf' };
  const chunks = Math.ceil(size / chunkSize);
  return async (input, init) => {
    const url = new URL(String(input), location.href).pathname;
    const json = (body: unknown, status = 200) => Response.json(body, { status });
    if (!url.startsWith(endpoint)) return fetch(input, init);
    const route = url.slice(endpoint.length);
    if (route === '/initiate') {
      return json(
        {
          sessionId: 'session-1',
          expiresAt,
          chunkSize,
          files: [{ ...file, totalChunks: chunks, status: 'pending' }],
        },
        201,
      );
    }
    if (route === '/session/session-1') {
      return json({
        sessionId: 'session-1',
        createdAt: new Date().toISOString(),
        expiresAt,
        chunkSize,
        metadata: {},
        files: [
          { ...file, status: 'pending', receivedChunks: [], receivedBytes: 0, totalChunks: chunks },
        ],
      });
    }
    if (route === '/status/file-1') {
      return json({ ...file, sessionId: 'session-1', status: 'ready', receivedBytes: size });
    }
    return json({ error: { code: 'not_found', message: route } }, 404);
  };
}

describe('XHR upload progress over a real (slow) connection', () => {
  // msw is stopped by now, so chunks reach the test server's slow sink (see
  // web-test-runner.config.mjs), which takes them at 4 MiB/s: 3 s per 12 MiB chunk.
  // Chromium reports XHR upload progress coarsely: the first event comes 1-2 s after the send,
  // and none while the socket's buffers drain at the end (up to 3 s here), so the stall
  // timeout is long: this test is about progress, not stalls.
  it('shows bytes in flight during each chunk on a real connection', async () => {
    const rate = 4 * 1024 * KiB;
    const chunkSize = 12 * 1024 * KiB;
    const endpoint = `/__slow-sink/${rate}/api/v1/upload`;
    const file = randomFile(2 * chunkSize, 'slow.pdf');
    const stallTimeoutMs = 15_000;
    const uploader = createUploader({
      endpoint,
      getToken: () => 'test-token',
      resume: false,
      concurrency: { chunks: 1 },
      progressIntervalMs: 0,
      stallTimeoutMs,
      fetch: stubJsonRoutes(endpoint, file.size, chunkSize),
    });
    const seen: Array<UploadProgress & { at: number }> = [];
    const started = performance.now();
    uploader.addEventListener('progress', (event) =>
      seen.push({ ...event.upload.progress, at: Math.round(performance.now() - started) }),
    );
    const upload = uploader.add(file);
    equal((await upload.done).status, 'ready', String(upload.error));
    const took = performance.now() - started;
    const timeline = JSON.stringify(seen.map((p) => [p.at, p.confirmedBytes, p.inFlightBytes]));

    ok(took > 4000, `took ${took.toFixed(0)} ms at ${rate} B/s`);
    const during = (confirmed: number) =>
      seen.filter(
        (p) => p.confirmedBytes === confirmed && p.inFlightBytes > 0 && p.inFlightBytes < chunkSize,
      );
    ok(during(0).length > 0, `bytes in flight during chunk 0: ${timeline}`);
    ok(during(chunkSize).length > 0, `bytes in flight during chunk 1: ${timeline}`);
    for (let i = 1; i < seen.length; i++) {
      const [previous, next] = [seen[i - 1], seen[i]] as [UploadProgress, UploadProgress];
      ok(next.confirmedBytes >= previous.confirmedBytes, `confirmed bytes go up: ${timeline}`);
    }
    const last = seen.at(-1) as UploadProgress;
    equal(last.confirmedBytes, file.size);
    equal(last.inFlightBytes, 0);
    ok(
      seen.some((p) => p.bytesPerSecond > 0 && p.etaSeconds !== undefined),
      'speed and ETA',
    );
  });
});
