import { createUploader, type Upload, type UploaderOptions } from '@file-uploader/sdk';
import { HttpResponse } from 'msw';
import { FakeServer, startWorker, worker } from './fake-server.browser.js';
import {
  after,
  afterEach,
  before,
  describe,
  equal,
  gate,
  it,
  ok,
  randomFile,
  sha256Hex,
  sleep,
  waitFor,
} from './test-kit.browser.js';

const KiB = 1024;

function serve(server = new FakeServer()): FakeServer {
  worker.use(...server.handlers());
  return server;
}

function uploader(server: FakeServer, options: Partial<UploaderOptions> = {}) {
  return createUploader({
    endpoint: server.base,
    getToken: () => 'test-token',
    resume: false,
    retry: { retries: 4, minTimeoutMs: 5, maxTimeoutMs: 20 },
    progressIntervalMs: 0,
    ...options,
  });
}

/** Waits for the upload to be ready and checks the server holds exactly the file's bytes. */
async function expectDelivered(server: FakeServer, upload: Upload, file: File): Promise<void> {
  const result = await upload.done;
  equal(result.status, 'ready', 'final status');
  equal(upload.state, 'ready');
  equal(await server.sha256(upload.fileId as string), await sha256Hex(file), 'SHA-256');
  equal(upload.progress.confirmedBytes, file.size);
}

/** Tells the page it lost the network: `navigator.onLine` false, then an `offline` event. */
function goOffline(server: FakeServer): void {
  server.offline = true;
  Object.defineProperty(navigator, 'onLine', { configurable: true, get: () => false });
  dispatchEvent(new Event('offline'));
}

function goOnline(server: FakeServer): void {
  server.offline = false;
  delete (navigator as { onLine?: boolean }).onLine; // the prototype's getter again
  dispatchEvent(new Event('online'));
}

describe('SDK retries in Chromium (msw fake server)', () => {
  const cleanups: Array<() => void> = [];
  before(startWorker);
  afterEach(() => {
    cleanups.splice(0).forEach((cleanup) => cleanup());
    delete (navigator as { onLine?: boolean }).onLine;
    worker.resetHandlers();
  });
  after(() => worker.stop());

  it('retries 500s on every route and ends ready with the same bytes', async () => {
    const server = serve();
    server.fault = (hit) => {
      const failing =
        (hit.route === 'initiate' && hit.attempt <= 2) ||
        (hit.route === 'session' && hit.attempt === 1) ||
        (hit.route === 'chunk' && hit.chunkIndex === 1 && hit.attempt <= 3) ||
        (hit.route === 'status' && hit.attempt === 1);
      if (!failing) return undefined;
      const status = hit.route === 'chunk' ? 503 : 500;
      return HttpResponse.json({ error: { code: 'internal', message: 'boom' } }, { status });
    };
    const file = randomFile(1024 * KiB + 17);
    const upload = uploader(server).add(file);
    await expectDelivered(server, upload, file);
    equal(server.count('initiate'), 3, 'initiate attempts');
    equal(server.count('chunk', 1), 4, 'chunk 1 attempts');
    equal(server.count('chunk', 0), 1, 'chunk 0 attempts');
    equal(server.digestsVerified, 5, 'every stored chunk carried a matching Content-Digest');
  });

  it('fails after the retries when the server keeps failing', async () => {
    const server = serve();
    server.fault = (hit) =>
      hit.route === 'chunk' && hit.chunkIndex === 0
        ? HttpResponse.json({ error: { code: 'unavailable', message: 'down' } }, { status: 503 })
        : undefined;
    const upload = uploader(server, {
      retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 10 },
      concurrency: { chunks: 1 },
    }).add(randomFile(300 * KiB));
    await upload.done.then(
      () => Promise.reject(new Error('expected a failure')),
      () => undefined,
    );
    equal(upload.state, 'failed');
    equal(upload.error?.code, 'unavailable');
    equal(server.count('chunk', 0), 3, 'one attempt and two retries');
  });

  it('survives dropped connections (network errors) on chunks and JSON routes', async () => {
    const server = serve();
    server.fault = (hit) =>
      (hit.route === 'chunk' && hit.chunkIndex === 2 && hit.attempt <= 2) ||
      (hit.route === 'status' && hit.attempt === 1)
        ? HttpResponse.error()
        : undefined;
    const file = randomFile(1000 * KiB);
    const upload = uploader(server).add(file);
    await expectDelivered(server, upload, file);
    equal(server.count('chunk', 2), 3, 'chunk 2 attempts');
    ok(server.count('status') >= 2, 'the dropped status request (fetch) was retried');
    equal(server.count('session'), 0, 'a fresh upload does not ask what the server holds');
  });

  it('waits as long as Retry-After says after a 429', async () => {
    const server = serve();
    server.fault = (hit) =>
      hit.route === 'chunk' && hit.chunkIndex === 0 && hit.attempt === 1
        ? HttpResponse.json(
            { error: { code: 'rate_limited', message: 'slow down' } },
            { status: 429, headers: { 'Retry-After': '1' } },
          )
        : undefined;
    const file = randomFile(200 * KiB);
    const upload = uploader(server, {
      retry: { retries: 2, minTimeoutMs: 5, maxTimeoutMs: 1000 },
    }).add(file);
    await expectDelivered(server, upload, file);
    const [first, second] = server.hits.filter((h) => h.route === 'chunk');
    ok(first && second, 'two chunk requests');
    const waited = second.at - first.at;
    ok(waited >= 950, `waited ${waited.toFixed(0)} ms, expected at least 1000 ms`);
    ok(waited < 5000, `waited ${waited.toFixed(0)} ms`);
  });

  it('aborts stalled requests after stallTimeoutMs and retries them', async () => {
    const server = serve();
    const stuck = gate();
    cleanups.push(stuck.open);
    const stall = async () => {
      await stuck.wait; // never answered while the test runs
      return HttpResponse.error();
    };
    server.fault = (hit) =>
      (hit.route === 'chunk' && hit.chunkIndex === 1 && hit.attempt === 1) ||
      (hit.route === 'status' && hit.attempt === 1)
        ? stall()
        : undefined;
    const file = randomFile(700 * KiB);
    const started = performance.now();
    // Generous: behind msw's service worker a loaded machine is slow to move even a healthy chunk.
    const upload = uploader(server, { stallTimeoutMs: 1000 }).add(file);
    await expectDelivered(server, upload, file);
    const elapsed = performance.now() - started;
    ok(server.count('status') >= 2, 'the stalled status request (fetch) was retried');
    ok(server.count('chunk', 1) >= 2, 'the stalled chunk (XHR) was retried');
    ok(elapsed >= 2000, `two stalls of 1 s took ${elapsed.toFixed(0)} ms`);
  });

  it('spends no retries while offline and goes on when back online', async () => {
    const server = serve();
    // One retry only: if the attempt that failed offline counted, the 500 after coming back
    // online would fail the upload.
    let failOnce = true;
    server.fault = (hit) => {
      if (hit.route === 'initiate' && hit.attempt === 2 && failOnce) {
        failOnce = false;
        return HttpResponse.json({ error: { code: 'internal', message: 'x' } }, { status: 500 });
      }
      return undefined;
    };
    goOffline(server);
    cleanups.push(() => goOnline(server));
    const file = randomFile(600 * KiB);
    const upload = uploader(server, {
      retry: { retries: 1, minTimeoutMs: 5, maxTimeoutMs: 20 },
      concurrency: { chunks: 1 },
    }).add(file);
    await waitFor(() => server.count('initiate') === 1, 'the first initiate');
    await sleep(400);
    equal(server.count('initiate'), 1, 'no attempts while offline');
    equal(upload.state, 'initiating');

    goOnline(server);
    await waitFor(() => server.count('chunk') >= 1, 'the first chunk');
    equal(server.count('initiate'), 3);

    // Offline again in the middle of the chunks: the chunk in flight fails and then waits.
    const midway = gate();
    server.fault = (hit) => {
      if (hit.route === 'chunk' && hit.chunkIndex === 1 && hit.attempt === 1) {
        goOffline(server);
        midway.open();
        return HttpResponse.error();
      }
      return undefined;
    };
    await midway.wait;
    const chunksWhenOffline = server.count('chunk');
    await sleep(400);
    equal(server.count('chunk'), chunksWhenOffline, 'no chunk attempts while offline');
    equal(upload.state, 'uploading');
    goOnline(server);
    await expectDelivered(server, upload, file);
    equal(server.count('chunk', 1), 2, 'the attempt that failed offline, then one when online');
  });
});
