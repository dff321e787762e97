/**
 * Chunks on node:http (the sender `@file-uploader/sdk/node` uses): the body goes out in pieces,
 * so a body that stops moving is caught mid-way, a slow body that keeps moving is left alone
 * however long it takes, and progress reports the bytes in flight.
 */
import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import { HEADERS, parseContentRange } from '@file-uploader/protocol';
import {
  httpChunkSender,
  UploadError,
  type ChunkSender,
  type UploadProgress,
} from '@file-uploader/sdk/node';
import {
  expectStoredObject,
  startTestServer,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import { faults, startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { blobOf, proxiedUploader, sample } from './node-kit.js';

const MiB = 1024 * 1024;
// Larger than what loopback socket buffers take in (a few MiB), so a peer that stops reading
// stops the sender's writes before the whole body is gone.
const CHUNK = 16 * MiB;

let server: TestServer;
let proxy: FaultProxy;

before(async () => {
  server = await startTestServer({ CHUNK_SIZE: String(CHUNK) });
  proxy = await startFaultProxy(server.url);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
});

beforeEach(async () => {
  proxy.setPolicy(() => undefined);
  await proxy.idle();
  proxy.reset();
});

describe('chunks on node:http', () => {
  it('aborts a chunk whose body stops moving as stalled, and sends it again', async () => {
    const bytes = sample(CHUNK + 2 * MiB);
    proxy.setPolicy((r) =>
      r.route === 'chunk' && r.start === 0 && r.attempt === 1
        ? faults.stallMidBody(1 * MiB, 3_000)
        : undefined,
    );
    // The SDK's own view of each chunk request: how far its body got, and how it ended.
    const sender = httpChunkSender();
    const sends: Array<{ start: number; loaded: number; error?: string }> = [];
    const sendChunk: ChunkSender = async (request) => {
      const range = parseContentRange(request.headers[HEADERS.contentRange] ?? '');
      const send: { start: number; loaded: number; error?: string } = {
        start: range?.start ?? -1,
        loaded: 0,
      };
      sends.push(send);
      try {
        return await sender({
          ...request,
          onProgress: (loaded) => {
            send.loaded = loaded;
            request.onProgress?.(loaded);
          },
        });
      } catch (err) {
        send.error = err instanceof UploadError ? err.code : String(err);
        throw err;
      }
    };
    const up = proxiedUploader(proxy, server, 'stalled-body', {
      concurrency: { chunks: 1 },
      stallTimeoutMs: 1_000,
      sendChunk,
    });

    const upload = up.add({ blob: blobOf(bytes), name: 'stalled.pdf', type: 'application/pdf' });
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'stalled-body', result, bytes);

    const [first, second, ...rest] = sends;
    assert.equal(first?.start, 0);
    assert.equal(first.error, 'stalled', 'the first send of chunk 0 was given up as stalled');
    assert.ok(
      first.loaded > 0 && first.loaded < CHUNK,
      `its body stopped mid-way (${first.loaded} of ${CHUNK} bytes went)`,
    );
    assert.deepEqual(second, { start: 0, loaded: CHUNK }, 'chunk 0 went again, in full');
    assert.deepEqual(rest, [{ start: CHUNK, loaded: 2 * MiB }]);

    // The proxy saw the same: the client left the held request with its body unfinished.
    await proxy.idle();
    const held = proxy.stats.records.find((r) => r.fault === 'stall-mid-body');
    assert.equal(held?.outcome, 'stalled');
    assert.ok(held.bytesIn < CHUNK);
    assert.equal(proxy.stats.confirmedChunks().get(0), 1);
  });

  it('lets a slow body that keeps moving take longer than the stall timeout, reporting in-flight bytes', async () => {
    const bytes = sample(CHUNK);
    // About 2.5 MiB/s for the first 12 MiB (at least 4.8 s), its bytes moving every 100 ms; then
    // at full speed, so that what the socket buffers hold at the end drains at once (the sender
    // cannot see those bytes move).
    proxy.setPolicy((r) =>
      r.route === 'chunk' ? faults.throttle(256 * 1024, 100, 12 * MiB) : undefined,
    );
    const stallTimeoutMs = 2_000;
    const up = proxiedUploader(proxy, server, 'slow-body', {
      concurrency: { chunks: 1 },
      stallTimeoutMs,
    });
    const seen: UploadProgress[] = [];
    up.addEventListener('progress', (e) => seen.push(e.upload.progress));

    const upload = up.add({ blob: blobOf(bytes), name: 'slow.pdf', type: 'application/pdf' });
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'slow-body', result, bytes);

    const [record, ...more] = proxy.stats.records.filter((r) => r.route === 'chunk');
    assert.ok(record);
    assert.equal(more.length, 0, 'the chunk went once: the slow body was never cut off');
    assert.equal(record.outcome, 'answered');
    const took = (record.settledAt ?? 0) - record.startedAt;
    console.log(`the throttled chunk took ${Math.round(took)} ms`);
    assert.ok(took > stallTimeoutMs, `the request outlasted the stall timeout (${took} ms)`);

    // Progress showed the body going up, step by step, before the server confirmed it.
    const partial = new Set(
      seen
        .filter((p) => p.confirmedBytes === 0 && p.inFlightBytes > 0 && p.inFlightBytes < CHUNK)
        .map((p) => p.inFlightBytes),
    );
    assert.ok(partial.size >= 5, `several in-flight figures below the chunk (${partial.size})`);
    for (const p of seen) assert.ok(p.confirmedBytes + p.inFlightBytes <= p.totalBytes);
    assert.equal(upload.progress.confirmedBytes, bytes.length);
    assert.equal(upload.progress.inFlightBytes, 0);
  });
});
