/**
 * Pause, resume, cancel, and resume in another "process" (a second uploader over the same resume
 * store), counted request by request at a proxy in front of the real server.
 */
import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  canTransition,
  MemoryResumeStore,
  UploadError,
  type ResumeRecord,
  type Upload,
  type Uploader,
  type UploaderOptions,
} from '@file-uploader/sdk';
import {
  api,
  eventually,
  expectStoredObject,
  sleep,
  startTestServer,
  TEST_CHUNK_SIZE,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import { faults, startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { blobOf, FAST_RETRY, proxiedUploader, sample } from './node-kit.js';

const CHUNK = TEST_CHUNK_SIZE;

let server: TestServer;
let proxy: FaultProxy;

function uploader(user: string, options: Partial<UploaderOptions> = {}): Uploader {
  const up = proxiedUploader(proxy, server, user, {
    retry: { ...FAST_RETRY, retries: 10 },
    resume: false,
    ...options,
  });
  up.addEventListener('state', (e) => {
    if (e.previous && !canTransition(e.previous, e.upload.state)) {
      throw new Error(`invalid transition ${e.previous} -> ${e.upload.state}`);
    }
  });
  return up;
}

/** Calls `then` (once) when `count` chunks have been confirmed to the client. */
function afterConfirmed(count: number, then: () => void): void {
  const check = () => {
    const confirmed = proxy.stats.count(
      (r) => r.route === 'chunk' && r.outcome === 'answered' && r.status === 200,
    );
    if (confirmed < count) return;
    proxy.events.off('settled', check);
    then();
  };
  proxy.events.on('settled', check);
}

/** Chunk indices the server holds for a file, asked directly (not through the proxy). */
async function serverChunks(user: string, upload: Upload): Promise<number[]> {
  const session = await api(server, await server.token(user)).session(upload.sessionId ?? '');
  assert.equal(session.status, 200);
  const file = session.body.files.find((f) => f.fileId === upload.fileId);
  assert.ok(file);
  return file.receivedChunks;
}

/** Chunk indices (ascending, with repeats) of chunk requests numbered above `seq`. */
function chunksSentAfter(seq: number): number[] {
  return proxy.stats.records
    .filter((r) => r.route === 'chunk' && r.seq > seq)
    .map((r) => (r.start ?? -1) / CHUNK)
    .sort((a, b) => a - b);
}

function missing(total: number, held: number[]): number[] {
  return Array.from({ length: total }, (_, i) => i).filter((i) => !held.includes(i));
}

const lastSeq = () => proxy.stats.records.at(-1)?.seq ?? 0;

describe('resume records', () => {
  it('a pause while the record of a ready file is removed leaves it ready, not paused', async () => {
    const bytes = sample(2 * CHUNK);
    let pausedAt: string | undefined;
    // The record's removal is where the upload learns that its file is ready: a pause lands then.
    class PausingStore extends MemoryResumeStore {
      override async delete(key: string) {
        pausedAt ??= upload.state;
        upload.pause();
        await sleep(50);
        await super.delete(key);
      }
    }
    const store = new PausingStore();
    const up = uploader('recorder', { resume: store });
    const upload = up.add({
      blob: blobOf(bytes),
      name: 'paused-late.pdf',
      type: 'application/pdf',
    });
    const result = await within(upload.done, 10_000, () => `state ${upload.state}`);
    assert.equal(result.status, 'ready');
    assert.equal(pausedAt, 'ready', 'ready before its record goes');
    assert.equal(upload.state, 'ready');
    await expectStoredObject(server, 'recorder', result, bytes);
    assert.deepEqual(await store.list(), []);
  });

  it('a record still being written when the upload is cancelled does not outlive it', async () => {
    const bytes = sample(3 * CHUNK);
    const ops: string[] = [];
    let writing!: () => void;
    const entered = new Promise<void>((resolve) => (writing = resolve));
    // A slow store: a record's write lands only after a removal of it has begun.
    class SlowStore extends MemoryResumeStore {
      override async set(record: ResumeRecord) {
        writing();
        for (const start = Date.now(); !ops.includes('delete') && Date.now() - start < 10_000;)
          await sleep(5);
        await super.set(record);
        ops.push('set');
      }
      override async delete(key: string) {
        ops.push('delete');
        await super.delete(key);
      }
    }
    const store = new SlowStore();
    const up = uploader('recorder', { resume: store });
    const upload = up.add({ blob: blobOf(bytes), name: 'cancelled.pdf', type: 'application/pdf' });
    await entered; // initiated; the record is being written
    await upload.cancel();
    await assert.rejects(upload.done, { code: 'aborted' });
    await eventually(async () => ops.length >= 3, 5_000);
    assert.deepEqual(ops, ['delete', 'set', 'delete'], 'the late write was removed again');
    assert.deepEqual(await store.list(), [], 'no record outlives the upload');
    assert.deepEqual(await up.resumable(), []);
  });
});

/** Resolves once the proxy has seen no request for `quietMs` and holds none. */
async function settled(quietMs = 150): Promise<void> {
  for (let seen = -1; seen !== lastSeq();) {
    seen = lastSeq();
    await sleep(quietMs);
    await proxy.idle();
  }
}

/** `promise`, or a failure after `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: () => string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what()}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A fetch that logs when the SDK sends each chunk (the proxy may see one a little later). */
function loggingFetch(log: Array<{ at: number; range: string }>): typeof fetch {
  return (input, init) => {
    const headers = new Headers(init?.headers);
    const range = headers.get('content-range');
    if (range) log.push({ at: performance.now(), range });
    return fetch(input, init);
  };
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
  // Slow chunks down a little so that "the middle" of an upload lasts.
  proxy.setPolicy((r) => (r.route === 'chunk' ? faults.delay(10) : undefined));
});

describe('pause and resume', () => {
  it('pauses in the middle; resume sends only the chunks the server lacks', async () => {
    const total = 16;
    const bytes = sample(total * CHUNK - 3);
    const sends: Array<{ at: number; range: string }> = [];
    const up = uploader('pauser', { fetch: loggingFetch(sends) });
    const upload = up.add({ blob: blobOf(bytes), name: 'pause.pdf', type: 'application/pdf' });
    let pausedAt = 0;
    await new Promise<void>((resolve) =>
      afterConfirmed(5, () => {
        upload.pause();
        pausedAt = performance.now();
        resolve();
      }),
    );
    assert.equal(upload.state, 'paused');
    await settled(); // Requests sent just before the pause may reach the proxy just after it.
    await sleep(100);
    assert.deepEqual(
      sends.filter((s) => s.at >= pausedAt),
      [],
      'nothing is sent while paused',
    );
    const sentWhilePaused = lastSeq();

    const held = await serverChunks('pauser', upload);
    assert.ok(held.length >= 5 && held.length < total, `the server holds ${held.length} chunks`);
    const confirmedBeforePause = [...proxy.stats.confirmedChunks().keys()].map((s) => s / CHUNK);
    for (const index of confirmedBeforePause) assert.ok(held.includes(index));
    assert.ok(upload.progress.confirmedBytes <= held.length * CHUNK);

    upload.resume();
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server, 'pauser', result, bytes);
    assert.deepEqual(chunksSentAfter(sentWhilePaused), missing(total, held));
    assert.equal(upload.progress.confirmedBytes, bytes.length);
  });

  it('cancel ends the upload cancelled, rejects done with aborted, and deletes the file on the server', async () => {
    const bytes = sample(12 * CHUNK + 11);
    const up = uploader('canceller');
    const upload = up.add({ blob: blobOf(bytes), name: 'cancel.pdf', type: 'application/pdf' });
    const cancelled = new Promise<void>((resolve, reject) =>
      afterConfirmed(3, () => upload.cancel().then(resolve, reject)),
    );
    await cancelled;
    assert.equal(upload.state, 'cancelled');
    await assert.rejects(upload.done, (err: unknown) => {
      assert.ok(err instanceof UploadError);
      assert.equal(err.code, 'aborted');
      return true;
    });
    // One DELETE, or a few when the server fails one (it can answer 500 while a chunk commit
    // races the removal of the chunk directory); the last one removed the file.
    const removed = proxy.stats.records.filter((r) => r.route === 'remove');
    if (removed.some((r) => r.status !== 204)) {
      const errors = server
        .stdout()
        .split('\n')
        .filter((line) => line.includes('"level":50'));
      console.log(`the server failed a DELETE:\n${errors.join('\n')}`);
    }
    assert.ok(removed.length >= 1);
    // The last answer is 204, or 404 when a failed one had already removed the file.
    const answers = removed.map((r) => r.status);
    assert.ok(
      answers.at(-1) === 204 ||
        (answers.at(-1) === 404 && answers.slice(0, -1).some((s) => s !== 204)),
      `DELETE answered ${answers}`,
    );
    await proxy.idle();
    const status = await api(server, await server.token('canceller')).status(upload.fileId ?? '');
    assert.equal(status.status, 404);
    const sent = lastSeq();
    await sleep(200);
    assert.equal(lastSeq(), sent, 'nothing is sent after cancel');
    upload.resume();
    upload.retry();
    assert.equal(upload.state, 'cancelled');
  });

  it('a file deleted on the server while paused: resume fails not_found, retry() starts over and finishes', async () => {
    const total = 8;
    const bytes = sample(total * CHUNK - 21);
    const up = uploader('phoenix');
    const upload = up.add({ blob: blobOf(bytes), name: 'gone.pdf', type: 'application/pdf' });
    await new Promise<void>((resolve) =>
      afterConfirmed(3, () => {
        upload.pause();
        resolve();
      }),
    );
    await settled();
    const firstFile = upload.fileId ?? '';
    const removed = await api(server, await server.token('phoenix')).remove(firstFile);
    assert.equal(removed.status, 204);

    upload.resume();
    await assert.rejects(upload.done, { code: 'not_found' });
    assert.equal(upload.state, 'failed');

    const seq = lastSeq();
    upload.retry();
    const result = await within(upload.done, 15_000, () => `stuck ${upload.state}`);
    assert.equal(result.status, 'ready');
    assert.notEqual(result.fileId, firstFile, 'a new file on the server');
    await expectStoredObject(server, 'phoenix', result, bytes);
    assert.deepEqual(chunksSentAfter(seq), missing(total, []), 'every chunk went to the new file');
  });
});

describe('resume in another process', () => {
  it('lists the unfinished upload, refuses another file, and sends only the missing chunks', async () => {
    const total = 12;
    const bytes = sample(total * CHUNK - 1234);
    const store = new MemoryResumeStore();
    const source = { name: 'resume.pdf', type: 'application/pdf', lastModified: 1_700_000_000_000 };

    const a = uploader('resumer', { resume: store });
    const first = a.add({ blob: blobOf(bytes), ...source });
    await new Promise<void>((resolve) =>
      afterConfirmed(4, () => {
        first.pause(); // ...and the process goes away.
        resolve();
      }),
    );
    await settled();
    const held = await serverChunks('resumer', first);
    assert.ok(held.length >= 4 && held.length < total);

    const b = uploader('resumer', { resume: store });
    const resumable = await b.resumable();
    assert.equal(resumable.length, 1);
    const [pending] = resumable as [(typeof resumable)[0]];
    assert.equal(pending.record.sessionId, first.sessionId);
    assert.equal(pending.record.fileId, first.fileId);
    assert.equal(pending.record.size, bytes.length);
    assert.equal(pending.persisted, false);

    // Another file, even of the same size, is refused before anything is sent.
    const seq = lastSeq();
    const other = Buffer.from(bytes);
    other[other.length - 1] = (other.at(-1) ?? 0) ^ 0xff;
    await assert.rejects(pending.resume(blobOf(other)), { code: 'file_changed' });
    await assert.rejects(pending.resume(blobOf(bytes.subarray(1))), { code: 'file_changed' });
    assert.equal(lastSeq(), seq, 'nothing was sent for a different file');

    const states: string[] = [];
    b.addEventListener('state', (e) => states.push(e.upload.state));
    const resumed = await pending.resume(blobOf(bytes));
    const result = await resumed.done;
    assert.equal(result.status, 'ready');
    assert.equal(result.fileId, first.fileId);
    await expectStoredObject(server, 'resumer', result, bytes);
    assert.deepEqual(chunksSentAfter(seq), missing(total, held));
    assert.equal(states[0], 'uploading', 'a resumed upload goes straight to uploading');
    assert.equal(states.at(-1), 'ready');
    assert.deepEqual(await store.list(), [], 'the record is gone once the file is ready');
    assert.deepEqual(await b.resumable(), []);
  });
});
