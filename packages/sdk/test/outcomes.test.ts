/**
 * How uploads end, seen through the SDK's events and a counting proxy: dedupe, a spoofed type,
 * progress and states under faults, and more files at once than file slots.
 */
import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  canTransition,
  UploadError,
  type UploaderOptions,
  type UploadState,
} from '@file-uploader/sdk';
import { text } from '../../../reference-server/test/fixtures.js';
import {
  api,
  contentHash,
  expectStoredObject,
  startTestServer,
  TEST_CHUNK_SIZE,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import { faults, startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { blobOf, proxiedUploader, sample } from './node-kit.js';

const CHUNK = TEST_CHUNK_SIZE;

let server: TestServer;
let proxy: FaultProxy;

function uploader(user: string, options: Partial<UploaderOptions> = {}) {
  return proxiedUploader(proxy, server, user, options);
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
  await proxy.idle();
  proxy.reset();
});

describe('outcomes', () => {
  it('the same bytes again are ready at once, with no chunk sent', async () => {
    const bytes = sample(3 * CHUNK + 17);
    const up = uploader('deduper');
    const first = await up.add({
      blob: blobOf(bytes),
      name: 'one.pdf',
      type: 'application/pdf',
    }).done;
    assert.equal(first.status, 'ready');
    await proxy.idle();
    proxy.reset();

    const states: UploadState[] = [];
    up.addEventListener('state', (e) => states.push(e.upload.state));
    const again = up.add({ blob: blobOf(bytes), name: 'two.pdf', type: 'application/pdf' });
    const second = await again.done;
    assert.equal(second.status, 'ready');
    assert.notEqual(second.fileId, first.fileId);
    assert.equal(second.contentHash, first.contentHash);
    await expectStoredObject(server, 'deduper', second, bytes);
    assert.equal(proxy.stats.byRoute().chunk, 0, 'no chunk was sent');
    assert.equal(proxy.stats.byRoute().initiate, 1);
    // The SDK sent the content hash at initiate, and the server matched it to the first file.
    const session = await api(server, await server.token('deduper')).session(second.sessionId);
    assert.equal(session.body.files[0]?.duplicateOf, first.fileId);
    assert.deepEqual(states, ['hashing', 'initiating', 'ready']);
    assert.equal(again.progress.confirmedBytes, bytes.length);
  });

  it('a large file is hashed while it uploads; the same bytes again end once the hash is known', async () => {
    // More than the 4 blocks hashed before initiate: sending starts at once.
    const bytes = sample(5 * 4 * 1024 * 1024 + 17);
    const total = Math.ceil(bytes.length / CHUNK);
    const up = uploader('big-deduper');
    const states: UploadState[] = [];
    up.addEventListener('state', (e) => states.push(e.upload.state));
    const first = await up.add({ blob: blobOf(bytes), name: 'one.pdf', type: 'application/pdf' })
      .done;
    assert.equal(first.status, 'ready');
    assert.equal(first.contentHash, contentHash(bytes));
    assert.equal(proxy.stats.byRoute().chunk, total);
    assert.deepEqual(states, ['hashing', 'initiating', 'uploading', 'ready']);
    await proxy.idle();
    proxy.reset();

    const again = up.add({ blob: blobOf(bytes), name: 'two.pdf', type: 'application/pdf' });
    const second = await again.done;
    assert.equal(second.status, 'ready');
    await expectStoredObject(server, 'big-deduper', second, bytes);
    const session = await api(server, await server.token('big-deduper')).session(second.sessionId);
    assert.equal(session.body.files[0]?.duplicateOf, first.fileId);
    const sent = proxy.stats.byRoute().chunk ?? 0;
    assert.ok(sent < total, `${sent} of ${total} chunks sent before the hash ended the upload`);
    assert.equal(again.progress.confirmedBytes, bytes.length);
  });

  it('a text file named .png ends rejected with type_mismatch', async () => {
    const bytes = text('not a picture at all\n'.repeat(20_000)); // 420 kB: two chunks
    const up = uploader('spoofer');
    const states: UploadState[] = [];
    up.addEventListener('state', (e) => states.push(e.upload.state));
    const upload = up.add({ blob: blobOf(bytes), name: 'holiday.png', type: 'image/png' });
    await assert.rejects(upload.done, (err: unknown) => {
      assert.ok(err instanceof UploadError);
      assert.equal(err.code, 'type_mismatch');
      return true;
    });
    assert.equal(upload.state, 'rejected');
    assert.equal(upload.error?.code, 'type_mismatch');
    assert.equal(upload.result?.status, 'rejected');
    assert.equal(states.at(-1), 'rejected');
    assert.ok(!states.includes('ready'));
    // A rejected upload is final: retry does nothing.
    upload.retry();
    assert.equal(upload.state, 'rejected');
  });

  it('a spoofed file whose last answer is lost still ends rejected with type_mismatch', async () => {
    // The server rejects the file while assembling it; the repeat of that chunk then finds no
    // bytes to compare with and answers 409, which must not hide the real outcome.
    proxy.setPolicy((r) =>
      r.route === 'chunk' && r.attempt === 1 ? faults.loseResponse : undefined,
    );
    const up = uploader('spoofer');
    const upload = up.add({ blob: blobOf(text()), name: 'small.png', type: 'image/png' });
    await assert.rejects(upload.done, { code: 'type_mismatch' });
    assert.equal(upload.state, 'rejected');
    const chunks = proxy.stats.records.filter((r) => r.route === 'chunk');
    assert.deepEqual(
      chunks.map((r) => [r.outcome, r.upstreamStatus]),
      [
        ['lost', 200],
        ['answered', 409],
      ],
    );
  });

  it('progress never goes back and ends at the size; states follow the transition table', async () => {
    // Faults make chunks fail and go again: confirmed bytes must still only grow.
    let faulted = false;
    proxy.setPolicy((r) => {
      if (r.route !== 'chunk' || r.attempt > 5) return undefined;
      // The first chunk request for sure, then about one in three.
      if (faulted && Math.random() > 0.35) return undefined;
      faulted = true;
      return [faults.status(500), faults.loseResponse, faults.dropMidBody()][
        Math.floor(Math.random() * 3)
      ];
    });
    const up = uploader('watcher');
    const files = [sample(12 * CHUNK + 5), sample(7 * CHUNK - 5)];
    const seen = new Map<string, number[]>();
    const transitions: Array<[UploadState | undefined, UploadState]> = [];
    let idle = 0;
    up.addEventListener('progress', (e) => {
      const list = seen.get(e.upload.id) ?? [];
      list.push(e.upload.progress.confirmedBytes);
      seen.set(e.upload.id, list);
      assert.equal(e.upload.progress.totalBytes, e.upload.size);
    });
    up.addEventListener('state', (e) => transitions.push([e.previous, e.upload.state]));
    up.addEventListener('idle', () => idle++);
    const uploads = files.map((bytes, i) =>
      up.add({ blob: blobOf(bytes), name: `watch-${i}.pdf`, type: 'application/pdf' }),
    );
    const results = await Promise.all(uploads.map((u) => u.done));
    for (const [i, upload] of uploads.entries()) {
      const bytes = files[i] as Buffer;
      await expectStoredObject(server, 'watcher', results[i] as (typeof results)[0], bytes);
      const values = seen.get(upload.id) ?? [];
      assert.ok(values.length > 3, 'progress events came');
      for (let k = 1; k < values.length; k++) {
        assert.ok(
          (values[k] as number) >= (values[k - 1] as number),
          `confirmedBytes went back: ${values[k - 1]} -> ${values[k]}`,
        );
      }
      assert.equal(values.at(-1), bytes.length);
      assert.equal(upload.progress.confirmedBytes, bytes.length);
      assert.equal(upload.progress.inFlightBytes, 0);
    }
    assert.ok(proxy.stats.faults > 0);
    for (const [from, to] of transitions) {
      assert.ok(from && canTransition(from, to), `${from} -> ${to} is in the table`);
    }
    assert.deepEqual(
      transitions.filter(([, to]) => to === 'ready').length,
      2,
      'each upload became ready once',
    );
    assert.ok(idle >= 1, 'the uploader said it was idle at the end');
  });

  it('more files at once than file slots: one session, and all end ready', async () => {
    const up = uploader('crowd', { concurrency: { files: 1, chunks: 2 } });
    const files = [sample(2 * CHUNK + 1), sample(CHUNK + 2), sample(3 * CHUNK + 3)];
    const uploads = files.map((bytes, i) =>
      up.add({ blob: blobOf(bytes), name: `crowd-${i}.pdf`, type: 'application/pdf' }),
    );
    let timer: ReturnType<typeof setTimeout> | undefined;
    const results = await Promise.race([
      Promise.all(uploads.map((u) => u.done)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`stuck: ${uploads.map((u) => u.state).join(', ')}`)),
          10_000,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    for (const [i, result] of results.entries()) {
      await expectStoredObject(server, 'crowd', result, files[i] as Buffer);
    }
    assert.equal(new Set(uploads.map((u) => u.sessionId)).size, 1, 'one session for the batch');
  });
});
