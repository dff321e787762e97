import { createUploader, type Upload, type UploaderOptions } from '@file-uploader/sdk';
import { HttpResponse } from 'msw';
import { FakeServer, startWorker, worker } from './fake-server.browser.js';
import {
  after,
  afterEach,
  before,
  deepEqual,
  describe,
  equal,
  gate,
  it,
  randomFile,
  sha256Hex,
  waitFor,
} from './test-kit.browser.js';

const KiB = 1024;
const MiB = 1024 * KiB;

function serve(server = new FakeServer()): FakeServer {
  worker.use(...server.handlers());
  return server;
}

function uploader(server: FakeServer, options: Partial<UploaderOptions> = {}) {
  return createUploader({
    endpoint: server.base,
    getToken: () => 'test-token',
    resume: false,
    retry: { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 20 },
    progressIntervalMs: 0,
    ...options,
  });
}

async function expectReady(server: FakeServer, upload: Upload, file: File): Promise<void> {
  await waitFor(
    () => upload.state === 'ready',
    () => `ready (state: ${upload.state})`,
    10_000,
  );
  equal(await server.sha256(upload.fileId as string), await sha256Hex(file));
}

// In Chromium uploads also hold a Web Lock per file (one tab sends a file at a time): these
// tests check that pausing never leaves a lock or a file slot behind.
describe('pause and resume in Chromium (Web Locks, msw fake server)', () => {
  before(startWorker);
  afterEach(() => worker.resetHandlers());
  after(() => worker.stop());

  it('resumes at once after a pause in the middle of a chunk', async () => {
    const server = serve();
    const file = randomFile(MiB, 'quick.pdf');
    const up = uploader(server, { concurrency: { chunks: 1 } });
    server.fault = (hit) => {
      if (hit.route !== 'chunk' || hit.chunkIndex !== 1 || hit.attempt !== 1) return undefined;
      upload.pause();
      upload.resume(); // same task: the stopped run still holds the lock
      return HttpResponse.error();
    };
    const upload = up.add(file);
    await expectReady(server, upload, file);
    deepEqual(server.received(upload.fileId as string), [0, 1, 2, 3]);
  });

  it('an upload paused while its batch initiates can be resumed, and frees its slot', async () => {
    const server = serve();
    const small = randomFile(10 * KiB, 'small.pdf');
    const other = randomFile(20 * KiB, 'other.pdf');
    const later = randomFile(30 * KiB, 'later.pdf');
    // `other` cannot be read (so hashed) until the gate opens: its batch mate waits meanwhile.
    // The SDK reads slices of it, as bytes (chunks) or through their streams (the content hash).
    const readable = gate();
    const slowBlob = new Blob([other], { type: other.type });
    slowBlob.slice = (...args: Parameters<Blob['slice']>) => {
      const part = Blob.prototype.slice.apply(slowBlob, args);
      part.arrayBuffer = async () => {
        await readable.wait;
        return Blob.prototype.arrayBuffer.call(part);
      };
      part.stream = () => {
        const reader = Blob.prototype.stream.call(part).getReader();
        return new ReadableStream({
          async pull(controller) {
            await readable.wait;
            const { done, value } = await reader.read();
            if (done) controller.close();
            else controller.enqueue(value);
          },
        });
      };
      return part;
    };
    const up = uploader(server, { concurrency: { files: 2 } });
    const a = up.add(small);
    const b = up.add({ blob: slowBlob, name: other.name, type: other.type });
    await waitFor(() => a.state === 'initiating' && b.state === 'hashing', 'a waiting for b');
    a.pause();
    readable.open();
    await waitFor(
      () => b.state === 'ready',
      () => `b ready (a: ${a.state}, b: ${b.state})`,
    );
    equal(server.count('initiate'), 1, 'b initiated alone');
    a.resume();
    await expectReady(server, a, small);
    // Two file slots: a stuck run of `a` would hold one forever.
    const c = up.add(later);
    const d = up.add(other);
    await expectReady(server, c, later);
    await expectReady(server, d, other);
  });
});
