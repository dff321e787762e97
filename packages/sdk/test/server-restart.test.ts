/**
 * The server is killed (SIGKILL) in the middle of an upload and started again on the same data:
 * the SDK retries through the downtime, finishes, and sends again only what the server never
 * confirmed.
 */
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { API_PREFIX } from '@file-uploader/protocol';
import { createUploader } from '@file-uploader/sdk';
import { pdf, randomBytes } from '../../../reference-server/test/fixtures.js';
import {
  expectStoredObject,
  sleep,
  startTestServer,
  TEST_CHUNK_SIZE,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import { faults, recordingFetch, startFaultProxy, type FaultProxy } from './fault-proxy.js';

const CHUNK = TEST_CHUNK_SIZE;

let server: TestServer;
let proxy: FaultProxy;

before(async () => {
  server = await startTestServer();
  proxy = await startFaultProxy(server.url);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
});

describe('server killed mid-upload', () => {
  it('finishes after a restart without sending again any chunk the server confirmed', async () => {
    const total = 24;
    const bytes = Buffer.concat([pdf(), randomBytes(total * CHUNK - 100 - pdf().length)]);
    const concurrency = 3;
    const log = recordingFetch();
    const uploader = createUploader({
      endpoint: `${proxy.url}${API_PREFIX}`,
      getToken: () => server.token('phoenix'),
      concurrency: { chunks: concurrency },
      // Retries span the downtime (a restart takes a second or two).
      retry: { retries: 200, minTimeoutMs: 20, maxTimeoutMs: 150 },
      stallTimeoutMs: 10_000,
      fetch: log.fetch,
    });

    // Slow chunks a little so that the kill lands with requests in flight.
    proxy.setPolicy((r) => (r.route === 'chunk' ? faults.delay(15) : undefined));
    let killedAt = Infinity;
    let downtime: Promise<void> | undefined;
    proxy.events.on('settled', () => {
      if (downtime || log.sends.filter((s) => s.status === 200).length < 8) return;
      downtime = (async () => {
        await server.kill();
        killedAt = performance.now();
        await sleep(300);
        await server.restart();
      })();
    });

    const upload = uploader.add({
      blob: new Blob([bytes as Uint8Array<ArrayBuffer>]),
      name: 'phoenix.pdf',
      type: 'application/pdf',
    });
    const result = await upload.done;
    await downtime;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'phoenix', result, bytes);

    // What the SDK sent and had confirmed, from its own fetch.
    const sends = log.sends;
    const confirmedBefore = new Set(
      sends
        .filter((s) => s.status === 200 && (s.endedAt ?? Infinity) < killedAt)
        .map((s) => s.start),
    );
    const sentBefore = new Set(sends.filter((s) => s.at < killedAt).map((s) => s.start));
    const inFlight = [...sentBefore].filter((s) => !confirmedBefore.has(s));
    const afterKill = sends.filter((s) => s.at >= killedAt);
    const failedAfter = afterKill.filter((s) => s.status !== 200).length;
    console.log(
      `confirmed before the kill: ${confirmedBefore.size}, in flight: ${inFlight.length}, ` +
        `chunk requests after: ${afterKill.length} (${failedAfter} failed during the downtime)`,
    );

    assert.ok(confirmedBefore.size >= 8 && confirmedBefore.size < total, 'killed mid-upload');
    assert.ok(inFlight.length <= concurrency, `at most ${concurrency} chunks were in flight`);
    assert.ok(
      proxy.stats.records.some((r) => r.outcome === 'upstream-error'),
      'the SDK kept trying while the server was down',
    );
    // Nothing the server confirmed before the kill went out again.
    for (const start of confirmedBefore) {
      assert.equal(
        sends.filter((s) => s.start === start).length,
        1,
        `chunk at ${start} was sent exactly once`,
      );
    }
    // Exactly the chunks in flight at the kill and those never sent went out afterwards...
    const all = Array.from({ length: total }, (_, i) => i * CHUNK);
    const resent = new Set(afterKill.map((s) => s.start));
    assert.deepEqual(
      [...resent].sort((a, b) => a - b),
      all.filter((s) => !confirmedBefore.has(s)),
    );
    // ...and each of them was confirmed exactly once.
    for (const start of all) {
      assert.equal(
        sends.filter((s) => s.start === start && s.status === 200).length,
        1,
        `chunk at ${start} confirmed once`,
      );
    }
    // The server stored every chunk once: each got exactly one 200 from it (no duplicate sends).
    const answers = new Map<number, number>();
    for (const r of proxy.stats.records) {
      if (r.route === 'chunk' && r.upstreamStatus === 200) {
        answers.set(r.start ?? -1, (answers.get(r.start ?? -1) ?? 0) + 1);
      }
    }
    assert.deepEqual(
      [...answers].sort(([a], [b]) => a - b),
      all.map((s) => [s, 1]),
    );
  });
});
