/**
 * The SDK against the real server behind a fault-injecting proxy: hundreds of failed requests,
 * errors that must not be retried, token refresh, stalls, Retry-After and cut-off responses.
 */
import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import { canTransition, UploadError, type UploaderOptions } from '@file-uploader/sdk';
import {
  expectStoredObject,
  sleep,
  startTestServer,
  TEST_CHUNK_SIZE,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import {
  faults,
  recordingFetch,
  startFaultProxy,
  type Fault,
  type FaultProxy,
} from './fault-proxy.js';
import { blobOf, proxiedUploader, sample } from './node-kit.js';

const CHUNK = TEST_CHUNK_SIZE;

let server: TestServer;
let proxy: FaultProxy;

function uploader(user: string, options: Partial<UploaderOptions> = {}) {
  return proxiedUploader(proxy, server, user, options);
}

function pdfSource(bytes: Buffer, name: string) {
  return { blob: blobOf(bytes), name, type: 'application/pdf' };
}

before(async () => {
  server = await startTestServer();
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

describe('SDK under injected faults', () => {
  it('survives hundreds of failed requests: every file ends ready with the right SHA-256', async () => {
    const chunkFaults: Array<[weight: number, fault: Fault]> = [
      [6, faults.status(500)],
      [5, faults.status(503, { retryAfter: 0 })],
      [5, faults.dropMidBody()],
      [5, faults.loseResponse],
      [4, faults.status(429, { retryAfter: 0 })],
      [3, faults.truncateResponse],
      [2, faults.status(408)],
      [2, faults.status(423, { retryAfter: 0 })],
      [1, faults.stall],
    ];
    const total = chunkFaults.reduce((sum, [w]) => sum + w, 0);
    const pick = (): Fault => {
      let at = Math.random() * total;
      for (const [weight, fault] of chunkFaults) if ((at -= weight) < 0) return fault;
      return faults.status(500);
    };
    proxy.setPolicy((r) => {
      // Past a dozen failures of one request, let it through: the test is about recovery, and
      // this keeps it deterministic whatever the dice say.
      if (r.attempt > 12) return undefined;
      if (r.route === 'chunk') return Math.random() < 0.7 ? pick() : undefined;
      // Other routes fail too, less often (and never stall).
      if (Math.random() >= 0.25) return undefined;
      return [faults.status(500), faults.dropMidBody(), faults.loseResponse, faults.status(503)][
        Math.floor(Math.random() * 4)
      ];
    });

    const log = recordingFetch();
    const up = uploader('chaos', {
      concurrency: { files: 3, chunks: 3 },
      fetch: log.fetch,
      stallTimeoutMs: 1000, // Stalls are among the faults: give up on them quickly.
    });
    const files = Array.from({ length: 6 }, (_, i) => sample(4 * CHUNK * 4 - 1000 * i)); // ~4 MiB
    const invalid: string[] = [];
    up.addEventListener('state', (e) => {
      if (e.previous && !canTransition(e.previous, e.upload.state)) {
        invalid.push(`${e.previous} -> ${e.upload.state}`);
      }
    });
    const uploads = files.map((bytes, i) => up.add(pdfSource(bytes, `chaos-${i}.pdf`)));
    const results = await Promise.all(uploads.map((u) => u.done));

    for (const [i, result] of results.entries()) {
      assert.equal(result.status, 'ready');
      assert.equal(uploads[i]?.state, 'ready');
      await expectStoredObject(server, 'chaos', result, files[i] as Buffer);
    }
    assert.deepEqual(invalid, []);
    const chunkFaultCount = proxy.stats.count((r) => r.route === 'chunk' && r.fault !== 'forward');
    const otherFaults = proxy.stats.faults - chunkFaultCount;
    console.log(
      `injected ${chunkFaultCount} chunk faults and ${otherFaults} others in ${proxy.stats.records.length} requests`,
    );
    assert.ok(chunkFaultCount >= 100, `hundreds of chunk faults (got ${chunkFaultCount})`);
    // Every chunk was confirmed to the SDK once, and never sent again after that.
    const chunks = files.reduce((sum, f) => sum + Math.ceil(f.length / CHUNK), 0);
    const confirmedAt = new Map<string, number>();
    for (const send of log.sends) {
      if (send.status !== 200) continue;
      const key = `${send.fileId} ${send.start}`;
      assert.ok(!confirmedAt.has(key), `${key} confirmed twice`);
      confirmedAt.set(key, send.endedAt ?? 0);
    }
    assert.equal(confirmedAt.size, chunks);
    for (const send of log.sends) {
      const confirmed = confirmedAt.get(`${send.fileId} ${send.start}`) ?? 0;
      assert.ok(send.at < confirmed, `chunk ${send.start} of ${send.fileId} sent after its 200`);
    }
  });

  it('does not retry a 400 on a chunk: the upload fails with that code, and retry() finishes it', async () => {
    const bytes = sample(12 * CHUNK - 7);
    const bad = 4 * CHUNK;
    proxy.setPolicy(
      (r) =>
        r.route === 'chunk' && r.start === bad && r.attempt === 1
          ? faults.status(400, { code: 'digest_mismatch' })
          : faults.delay(20), // Slow enough that other chunks are still to go when it fails.
    );
    const up = uploader('four-hundred');
    const upload = up.add(pdfSource(bytes, 'bad-chunk.pdf'));
    await assert.rejects(upload.done, (err: unknown) => {
      assert.ok(err instanceof UploadError);
      assert.equal(err.code, 'digest_mismatch');
      assert.equal(err.status, 400);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.equal(upload.state, 'failed');
    assert.equal(upload.error?.code, 'digest_mismatch');
    assert.equal(proxy.stats.chunkRequests().get(bad), 1, 'exactly one attempt for that chunk');

    // A failed upload sends nothing more.
    await proxy.idle();
    const sentWhenFailed = proxy.stats.count((r) => r.route === 'chunk');
    await sleep(300);
    assert.equal(
      proxy.stats.count((r) => r.route === 'chunk'),
      sentWhenFailed,
    );
    assert.ok(sentWhenFailed < 12, `the failure stopped the other chunks (${sentWhenFailed} sent)`);

    upload.retry();
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'four-hundred', result, bytes);
    assert.equal(proxy.stats.chunkRequests().get(bad), 2);
    for (const [start, count] of proxy.stats.confirmedChunks()) {
      assert.equal(count, 1, `chunk at ${start} confirmed once`);
    }
    // Chunks whose requests the failure cut short were stored all the same if their bodies
    // had arrived; the retry sent only what the server lacked.
    const stored = new Set(proxy.stats.confirmedChunks().keys());
    for (const r of proxy.stats.records) {
      if (r.route === 'chunk' && r.outcome === 'client-gone' && r.upstreamStatus === 200) {
        assert.ok(
          !stored.has(r.start as number),
          'a chunk stored while its client left is not confirmed too',
        );
        stored.add(r.start as number);
      }
    }
    assert.equal(stored.size, 12);
  });

  it('fails after the retries when the server keeps answering 503 to a chunk it read in full', async () => {
    // The body goes up in full each time (progress on the wire), yet an answer is an answer:
    // every attempt spends a retry.
    proxy.setPolicy((r) =>
      r.route === 'chunk' && r.start === 0
        ? faults.status(503, { code: 'unavailable' })
        : undefined,
    );
    const up = uploader('always-503', {
      retry: { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 20 },
      concurrency: { chunks: 1 },
    });
    const upload = up.add(pdfSource(sample(2 * CHUNK), 'always-503.pdf'));
    await assert.rejects(upload.done, { code: 'unavailable', status: 503 });
    assert.equal(upload.state, 'failed');
    assert.equal(proxy.stats.chunkRequests().get(0), 4, 'one attempt and three retries');
    const held = proxy.stats.records.filter((r) => r.route === 'chunk' && r.start === 0);
    assert.ok(
      held.every((r) => r.bytesIn === CHUNK),
      'each attempt sent the whole body',
    );
  });

  it('after a 401 asks getToken(true) and goes on', async () => {
    const calls: boolean[] = [];
    proxy.setPolicy((r) => (r.seq === 1 ? faults.status(401) : undefined));
    const up = uploader('refresh', {
      getToken: (refresh) => {
        calls.push(refresh);
        return server.token('refresh');
      },
    });
    const bytes = sample(3 * CHUNK + 5);
    const result = await up.add(pdfSource(bytes, 'refresh.pdf')).done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'refresh', result, bytes);
    assert.deepEqual(calls, [false, true]);
    const first = proxy.stats.records[0];
    assert.equal(first?.route, 'initiate');
    assert.equal(first?.status, 401);
    assert.equal(proxy.stats.records[1]?.route, 'initiate');
  });

  it('aborts a stalled request after stallTimeoutMs and retries it', async () => {
    proxy.setPolicy((r) =>
      r.route === 'chunk' && r.start === CHUNK && r.attempt === 1 ? faults.stall : undefined,
    );
    const log = recordingFetch();
    const up = uploader('stall', { stallTimeoutMs: 700, fetch: log.fetch });
    const bytes = sample(3 * CHUNK + 5);
    const result = await up.add(pdfSource(bytes, 'stall.pdf')).done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'stall', result, bytes);
    await proxy.idle();
    const stalled = proxy.stats.records.find((r) => r.route === 'chunk' && r.start === CHUNK);
    assert.equal(stalled?.outcome, 'stalled');
    // Seen from the SDK: the first attempt gave up after stallTimeoutMs, the last one got 200.
    const sends = log.sends.filter((s) => s.start === CHUNK);
    assert.ok(sends.length >= 2);
    const [first, last] = [sends[0], sends.at(-1)];
    assert.equal(first?.status, undefined, 'the stalled attempt got no answer');
    const waited = (first?.endedAt ?? 0) - (first?.at ?? 0);
    assert.ok(waited >= 690 && waited < 5000, `stalled for ${waited} ms`);
    assert.equal(last?.status, 200);
  });

  it('honours Retry-After', async () => {
    proxy.setPolicy((r) =>
      r.route === 'chunk' && r.start === 0 && r.attempt === 1
        ? faults.status(429, { retryAfter: 1 })
        : undefined,
    );
    // Retry-After is capped at 4 × maxTimeoutMs, so this test allows a longer backoff.
    const up = uploader('later', { retry: { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 1000 } });
    const bytes = sample(2 * CHUNK + 5);
    const result = await up.add(pdfSource(bytes, 'later.pdf')).done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'later', result, bytes);
    const attempts = proxy.stats.records.filter((r) => r.route === 'chunk' && r.start === 0);
    assert.equal(attempts.length, 2);
    const [limited, retried] = attempts as [(typeof attempts)[0], (typeof attempts)[0]];
    assert.equal(limited.status, 429);
    const gap = retried.startedAt - (limited.settledAt ?? Infinity);
    assert.ok(gap >= 995, `waited ${gap} ms after Retry-After: 1`);
    assert.ok(gap < 3000, `but not much longer (${gap} ms)`);
  });

  it('retries a response cut off mid-body, and one lost after the server stored the chunk', async () => {
    proxy.setPolicy((r) => {
      if (r.route !== 'chunk' || r.attempt !== 1) return undefined;
      if (r.start === 0) return faults.truncateResponse;
      if (r.start === CHUNK) return faults.loseResponse;
      if (r.start === 2 * CHUNK) return faults.dropMidBody();
      return undefined;
    });
    const up = uploader('cut');
    const bytes = sample(3 * CHUNK + 5);
    const result = await up.add(pdfSource(bytes, 'cut.pdf')).done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'cut', result, bytes);
    const outcomes = proxy.stats.records
      .filter((r) => r.route === 'chunk' && r.attempt === 1)
      .map((r) => [r.start, r.outcome]);
    assert.deepEqual(new Map(outcomes as Array<[number, string]>).get(0), 'truncated');
    assert.deepEqual(new Map(outcomes as Array<[number, string]>).get(CHUNK), 'lost');
    assert.deepEqual(new Map(outcomes as Array<[number, string]>).get(2 * CHUNK), 'dropped');
    assert.deepEqual(
      [...proxy.stats.chunkRequests()].sort(([a], [b]) => a - b),
      [
        [0, 2],
        [CHUNK, 2],
        [2 * CHUNK, 2],
        [3 * CHUNK, 1],
      ],
      // What each chunk request met, should a timing ever add one.
      JSON.stringify(
        proxy.stats.records
          .filter((r) => r.route === 'chunk')
          .map((r) => [r.start, r.attempt, r.fault, r.outcome, r.status, r.upstreamStatus]),
      ),
    );
  });
});
