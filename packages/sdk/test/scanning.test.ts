/**
 * After the last chunk: the SDK follows files through scanning to their outcome on the session's
 * event stream, against the real server with a real clamd (paused to hold files in `scanning`),
 * behind the fault proxy that counts `GET /status` requests, drops streams and plays an older
 * server without the events route.
 */
import { strict as assert } from 'node:assert';
import { after, afterEach, before, beforeEach, describe, it } from 'node:test';
import { UploadError, type UploaderOptions, type UploadState } from '@file-uploader/sdk';
import { SIGNATURES, eicar, startClamd, type TestClamd } from '../../../test/harness/clamd.js';
import { pdf, randomBytes } from '../../../reference-server/test/fixtures.js';
import {
  expectStoredObject,
  sleep,
  startTestServer,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import { faults, startFaultProxy, type FaultProxy, type Route } from './fault-proxy.js';
import { blobOf, proxiedUploader } from './node-kit.js';

let clamd: TestClamd;
let server: TestServer;
let proxy: FaultProxy;

before(async () => {
  clamd = await startClamd();
  server = await startTestServer({ CLAMD_URL: clamd.url, SCAN_TIMEOUT: '60s' });
  proxy = await startFaultProxy(server.url);
});

after(async () => {
  await proxy?.close();
  await server?.stop();
  await clamd?.stop();
});

beforeEach(async () => {
  await proxy.idle();
  proxy.reset();
});

afterEach(() => clamd.resume()); // a failed test must not leave the scanner frozen

function uploader(user: string, options: Partial<UploaderOptions> = {}) {
  return proxiedUploader(proxy, server, user, options);
}

/** A PDF of random content (never deduplicated) that carries `inside` in its body. */
function pdfWith(inside: Buffer | string, size = 300 * 1024): Buffer {
  const marker = typeof inside === 'string' ? Buffer.from(inside) : inside;
  const head = pdf();
  const filler = randomBytes(size - head.length - marker.length);
  const middle = Math.floor(filler.length / 2);
  return Buffer.concat([head, filler.subarray(0, middle), marker, filler.subarray(middle)]);
}

function count(route: Route): number {
  return proxy.stats.count((r) => r.route === route);
}

/** Event streams the proxy is relaying right now. */
function openStreams() {
  return proxy.stats.records.filter((r) => r.route === 'events' && r.settledAt === undefined);
}

/** True once an open stream has relayed an event of `type`. */
function relayed(type: string): boolean {
  return openStreams().some((r) => r.relayed?.includes(`event: ${type}\n`));
}

/** True when no status request is in the proxy's hands. */
function statusSettled(): boolean {
  return !proxy.stats.records.some((r) => r.route === 'status' && r.settledAt === undefined);
}

/** Waits until `predicate` holds (a guard against hanging, not a measure of speed). */
async function until(predicate: () => boolean, what: () => string, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what()}`);
    await sleep(20);
  }
}

describe('following files through scanning', () => {
  it('a file waits in scanning, then becomes ready from the event stream without polling', async () => {
    clamd.pause();
    const up = uploader('patient');
    const states: UploadState[] = [];
    up.addEventListener('state', (e) => states.push(e.upload.state));
    const bytes = pdfWith('clean');
    const upload = up.add({ blob: blobOf(bytes), name: 'clean.pdf', type: 'application/pdf' });
    await until(
      () =>
        upload.state === 'scanning' &&
        relayed('upload.assembled') &&
        count('status') >= 1 &&
        statusSettled(),
      () => `scanning with the stream open (state ${upload.state})`,
    );
    // The stream is open and the one poll after connecting is answered. Polling with backoff
    // (250 ms, then 1.5 times longer) would ask several times in this wait; the stream asks none.
    const polls = count('status');
    await sleep(1500);
    assert.equal(count('status'), polls, 'no GET /status while the stream is open');
    assert.equal(upload.state, 'scanning');

    clamd.resume();
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    assert.deepEqual(result.scan, { result: 'clean' });
    await expectStoredObject(server, 'patient', result, bytes);
    assert.deepEqual(states, ['hashing', 'initiating', 'uploading', 'scanning', 'ready']);
    assert.equal(count('events'), 1, 'one stream');
    // One poll after connecting, one for the full answer once `upload.ready` arrived.
    assert.ok(count('status') <= 2, `${count('status')} status requests`);
    await proxy.idle(); // settles only once the SDK has hung up: nobody waits any more
    assert.equal(openStreams().length, 0);
  });

  it('an infected PDF ends rejected with infected', async () => {
    const up = uploader('careless');
    const upload = up.add({
      blob: blobOf(pdfWith(eicar())),
      name: 'invoice.pdf',
      type: 'application/pdf',
    });
    await assert.rejects(upload.done, (err: unknown) => {
      assert.ok(err instanceof UploadError);
      assert.equal(err.code, 'infected');
      assert.equal(err.retryable, false);
      return true;
    });
    assert.equal(upload.state, 'rejected');
    assert.equal(upload.result?.status, 'rejected');
    assert.deepEqual(upload.result?.scan, { result: 'infected', signature: SIGNATURES.eicar });
  });

  it('the files of a session share one stream; a cancelled one stops listening', async () => {
    clamd.pause();
    const up = uploader('pair');
    const files = [pdfWith('first'), pdfWith('second')];
    const [first, second] = files.map((bytes, i) =>
      up.add({ blob: blobOf(bytes), name: `pair-${i}.pdf`, type: 'application/pdf' }),
    );
    assert.ok(first && second);
    await until(
      () =>
        first.state === 'scanning' && second.state === 'scanning' && relayed('upload.assembled'),
      () => `both scanning (${first.state}, ${second.state})`,
    );
    assert.equal(first.sessionId, second.sessionId);
    assert.equal(count('events'), 1, 'one stream for both files');

    await first.cancel();
    assert.equal(first.state, 'cancelled');
    assert.equal(openStreams().length, 1, 'the stream stays open for the other file');

    clamd.resume();
    const result = await second.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'pair', result, files[1] as Buffer);
    await proxy.idle();
    assert.equal(openStreams().length, 0, 'closed once nobody waits');
    assert.equal(count('events'), 1);
  });

  it('a file that fails without an event of its own is settled by session.completed', async () => {
    // A scan that cannot finish by the deadline fails the file (`scan_failed`): the server has
    // no file event for that, only `session.completed` with every outcome.
    const own = await startTestServer({
      CLAMD_URL: clamd.url,
      SCAN_TIMEOUT: '300ms',
      SCAN_DEADLINE: '2s',
    });
    const ownProxy = await startFaultProxy(own.url);
    try {
      clamd.pause();
      const up = proxiedUploader(ownProxy, own, 'deadline');
      const upload = up.add({
        blob: blobOf(pdfWith('never scanned')),
        name: 'late.pdf',
        type: 'application/pdf',
      });
      await assert.rejects(upload.done, { code: 'scan_failed' });
      assert.equal(upload.state, 'failed');
      assert.equal(upload.result?.status, 'failed');
      const routes = ownProxy.stats.byRoute();
      assert.equal(routes.events, 1);
      // One poll after connecting (the file was scanning), one for the full answer.
      assert.ok(routes.status <= 2, `${routes.status} status requests`);
      await ownProxy.idle();
    } finally {
      clamd.resume();
      await ownProxy.close();
      await own.stop();
    }
  });

  it('a stream dropped mid-wait reconnects with Last-Event-ID and misses nothing', async () => {
    clamd.pause();
    const up = uploader('dropped');
    const bytes = pdfWith('dropped');
    const upload = up.add({ blob: blobOf(bytes), name: 'dropped.pdf', type: 'application/pdf' });
    await until(
      () => upload.state === 'scanning' && relayed('upload.assembled'),
      () => `scanning with the stream open (state ${upload.state})`,
    );
    const first = openStreams()[0];
    const ids = [...(first?.relayed ?? '').matchAll(/^id: (.+)$/gm)].map((m) => m[1]);
    assert.equal(proxy.cut('events'), 1);
    await until(
      () => count('events') === 2,
      () => 'a second stream',
    );
    const second = proxy.stats.records.filter((r) => r.route === 'events')[1];
    assert.equal(second?.headers['last-event-id'], ids.at(-1), 'resumes after the last event');

    clamd.resume();
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'dropped', result, bytes);
    // The second stream carried only what came after the drop.
    assert.doesNotMatch(second?.relayed ?? '', /event: upload\.(received|assembled)\n/);
    assert.match(second?.relayed ?? '', /event: upload\.ready\n/);
    // A poll after each connect, one for the full answer.
    assert.ok(count('status') <= 3, `${count('status')} status requests`);
  });

  it('a server without the events route: the SDK polls GET /status and still completes', async () => {
    proxy.setPolicy((r) => (r.route === 'events' ? faults.status(404) : undefined));
    clamd.pause();
    const up = uploader('older');
    const bytes = pdfWith('older server');
    const upload = up.add({ blob: blobOf(bytes), name: 'older.pdf', type: 'application/pdf' });
    await until(
      () => upload.state === 'scanning' && count('status') >= 3,
      () => `polling while scanning (state ${upload.state}, ${count('status')} polls)`,
    );
    clamd.resume();
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'older', result, bytes);
    assert.equal(count('events'), 1, 'a 404 is not tried again');
  });

  it('with events: false the SDK polls and opens no stream', async () => {
    const up = uploader('old-school', { events: false });
    const bytes = pdfWith('old school');
    const upload = up.add({ blob: blobOf(bytes), name: 'old.pdf', type: 'application/pdf' });
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'old-school', result, bytes);
    assert.equal(count('events'), 0);
    assert.ok(count('status') >= 1);
  });

  it('a proxy that holds the stream back: after a quiet while the SDK polls instead', async () => {
    proxy.setPolicy((r) => (r.route === 'events' ? faults.withholdBody : undefined));
    clamd.pause();
    const up = uploader('buffered');
    const bytes = pdfWith('buffered');
    const upload = up.add({ blob: blobOf(bytes), name: 'buffered.pdf', type: 'application/pdf' });
    // The stream's headers come, its bytes never do: 10 s later the SDK gives it up and polls.
    await until(
      () => upload.state === 'scanning' && count('status') >= 3,
      () => `polling while scanning (state ${upload.state}, ${count('status')} polls)`,
    );
    assert.equal(openStreams().length, 0, 'the held stream was given up');
    clamd.resume();
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'buffered', result, bytes);
    assert.equal(count('events'), 1, 'a buffering proxy is not tried again');
  });

  it('a stream that keeps failing falls back to polling after a few tries', async () => {
    proxy.setPolicy((r) => (r.route === 'events' ? faults.status(503) : undefined));
    const up = uploader('unlucky');
    const bytes = pdfWith('unlucky');
    const upload = up.add({ blob: blobOf(bytes), name: 'unlucky.pdf', type: 'application/pdf' });
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    // The first try and three more (with backoff), then polling: the file ends only by polls.
    assert.equal(count('events'), 4);
    assert.ok(count('status') >= 1);
  });

  it('a 401 on the stream asks for a fresh token once and streams on', async () => {
    proxy.setPolicy((r) =>
      r.route === 'events' && r.attempt === 1 ? faults.status(401) : undefined,
    );
    clamd.pause();
    const refreshes: boolean[] = [];
    const up = uploader('refreshed', {
      getToken: (refresh) => {
        refreshes.push(refresh);
        return server.token('refreshed');
      },
    });
    const upload = up.add({
      blob: blobOf(pdfWith('token')),
      name: 'token.pdf',
      type: 'application/pdf',
    });
    await until(
      () => upload.state === 'scanning' && relayed('upload.assembled'),
      () => `scanning with the stream open (state ${upload.state})`,
    );
    clamd.resume();
    assert.equal((await upload.done).status, 'ready');
    assert.equal(count('events'), 2);
    assert.deepEqual(
      refreshes.filter((r) => r),
      [true],
    );
  });
});
