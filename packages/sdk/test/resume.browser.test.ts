import {
  IndexedDbResumeStore,
  UploadError,
  createUploader,
  defaultResumeStore,
  fingerprint,
  type ResumeRecord,
  type ResumeStore,
  type Upload,
  type UploaderOptions,
} from '@file-uploader/sdk';
import { createStore, keys } from 'idb-keyval';
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
  lockReleased,
  ok,
  randomFile,
  rejectsWithCode,
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
    retry: { retries: 3, minTimeoutMs: 5, maxTimeoutMs: 20 },
    concurrency: { chunks: 1 },
    progressIntervalMs: 0,
    ...options,
  });
}

/** Starts an upload on `options` and pauses it when the server sees chunk `at`. */
async function pausedMidway(
  server: FakeServer,
  file: File,
  at: number,
  options: Partial<UploaderOptions> = {},
): Promise<Upload> {
  const paused = gate();
  server.fault = (hit) => {
    if (hit.route !== 'chunk' || hit.chunkIndex !== at) return undefined;
    server.fault = undefined;
    upload.pause(); // in the page: msw handlers run beside the SDK
    paused.open();
    return HttpResponse.error();
  };
  // The fault runs only once chunks flow, long after `upload` is set.
  const upload: Upload = uploader(server, options).add(file);
  await paused.wait;
  await lockReleased(upload.key);
  equal(upload.state, 'paused');
  return upload;
}

let dbs = 0;
/** A store over databases of its own, so tests never see each other's data. */
function isolatedStore(options: ConstructorParameters<typeof IndexedDbResumeStore>[0] = {}) {
  const database = `fu-test-${Date.now().toString(36)}-${++dbs}`;
  const bytesDatabase = `${database}-bytes`;
  const store = new IndexedDbResumeStore({ database, bytesDatabase, ...options });
  const pieceKeys = () => keys(createStore(bytesDatabase, 'pieces'));
  return { store, pieceKeys, database, bytesDatabase };
}

function recordFor(file: File, overrides: Partial<ResumeRecord> = {}): ResumeRecord {
  return {
    key: fingerprint('/api', file),
    endpoint: '/api',
    sessionId: 's',
    fileId: 'f',
    expiresAt: new Date(Date.now() + 60_000).toISOString(),
    chunkSize: 256 * KiB,
    name: file.name,
    size: file.size,
    type: file.type,
    lastModified: file.lastModified,
    contentHash: '0'.repeat(64),
    ...overrides,
  };
}

/** Replaces `navigator.storage.estimate` until the returned function is called. */
function stubEstimate(estimate: StorageEstimate): () => void {
  Object.defineProperty(navigator.storage, 'estimate', {
    configurable: true,
    value: async () => estimate,
  });
  return () => delete (navigator.storage as { estimate?: unknown }).estimate;
}

describe('IndexedDbResumeStore', () => {
  afterEach(() => {
    delete (navigator.storage as { estimate?: unknown }).estimate;
  });

  it('is the default store where IndexedDB exists', () => {
    ok(defaultResumeStore() instanceof IndexedDbResumeStore);
  });

  it('keeps records across instances; list returns records only', async () => {
    const { store, database, bytesDatabase } = isolatedStore();
    const file = randomFile(10 * KiB, 'a.pdf');
    const record = recordFor(file);
    await store.set(record);
    await store.saveBytes(record.key, file, new AbortController().signal);
    const other = new IndexedDbResumeStore({ database, bytesDatabase });
    deepEqual(await other.get(record.key), record);
    deepEqual(await other.list(), [record]);
    await other.set({ ...record, sessionId: 's2' });
    equal((await store.get(record.key))?.sessionId, 's2');
    await other.delete(record.key);
    equal(await store.get(record.key), undefined);
    deepEqual(await store.list(), []);
    equal(await store.loadBytes(record.key, file.type), undefined, 'delete removes the bytes');
  });

  it('keeps bytes as pieces and gives back the same Blob', async () => {
    const { store, pieceKeys } = isolatedStore({ pieceSize: 64 * KiB });
    const file = randomFile(MiB + 3, 'b.pdf');
    const other = randomFile(100 * KiB, 'c.pdf');
    await store.saveBytes('b', file, new AbortController().signal);
    await store.saveBytes('c', other, new AbortController().signal);
    equal((await pieceKeys()).length, 17 + 1 + 2 + 1, 'pieces and one meta entry per file');
    const loaded = await store.loadBytes('b', 'application/pdf');
    ok(loaded, 'bytes kept');
    equal(loaded.size, file.size);
    equal(loaded.type, 'application/pdf');
    equal(await sha256Hex(loaded), await sha256Hex(file));
    await store.saveBytes('b', other, new AbortController().signal); // replaces
    equal(await sha256Hex((await store.loadBytes('b', '')) as Blob), await sha256Hex(other));
    await store.deleteBytes('b');
    equal(await store.loadBytes('b', ''), undefined);
    equal((await pieceKeys()).length, 3, "the other file's pieces stay");
    equal(await store.loadBytes('missing', ''), undefined);
  });

  it('refuses files over the free quota or maxBytes with quota_exceeded, keeping nothing', async () => {
    const { store, pieceKeys } = isolatedStore();
    const file = randomFile(200 * KiB);
    stubEstimate({ quota: 100 * KiB, usage: 10 * KiB });
    const err = await rejectsWithCode(
      store.saveBytes('q', file, new AbortController().signal),
      'quota_exceeded',
    );
    ok(err instanceof UploadError);
    equal((err as UploadError).retryable, false);
    deepEqual(await pieceKeys(), []);

    stubEstimate({ quota: 10 * 1024 * MiB, usage: 0 });
    const capped = isolatedStore({ maxBytes: 100 * KiB });
    await rejectsWithCode(
      capped.store.saveBytes('q', file, new AbortController().signal),
      'quota_exceeded',
    );
    await store.saveBytes('q', file, new AbortController().signal); // fits without a cap
    equal((await store.loadBytes('q', ''))?.size, file.size);
  });

  it('leaves nothing half-saved when the save is aborted midway', async () => {
    const { store, pieceKeys } = isolatedStore({ pieceSize: 16 * KiB });
    const file = randomFile(4 * MiB);
    await store.saveBytes('k', randomFile(20 * KiB), new AbortController().signal);
    const controller = new AbortController();
    const saving = store.saveBytes('k', file, controller.signal);
    await waitFor(async () => (await pieceKeys()).length > 10, 'some pieces written');
    controller.abort(new Error('stop'));
    let failed = false;
    await saving.catch(() => (failed = true));
    ok(failed, 'saveBytes rejects');
    deepEqual(await pieceKeys(), [], 'no pieces (nor the older bytes) left');
    equal(await store.loadBytes('k', ''), undefined);
  });
  it('keeps records in memory when IndexedDB cannot be opened', async () => {
    const open = IDBFactory.prototype.open;
    IDBFactory.prototype.open = () => {
      throw new DOMException('IndexedDB is off in this test', 'InvalidStateError');
    };
    try {
      const { store } = isolatedStore();
      const file = randomFile(10 * KiB);
      const record = recordFor(file);
      await store.set(record);
      deepEqual(await store.get(record.key), record);
      deepEqual(await store.list(), [record]);
      let refused = false;
      await store.saveBytes(record.key, file, new AbortController().signal).catch(() => {
        refused = true;
      });
      ok(refused, 'no bytes kept without IndexedDB');
      equal(await store.loadBytes(record.key, file.type), undefined);
      await store.delete(record.key);
      deepEqual(await store.list(), []);
    } finally {
      IDBFactory.prototype.open = open;
    }
  });
});

describe('resuming across reloads in Chromium (IndexedDB + msw fake server)', () => {
  before(startWorker);
  afterEach(() => {
    delete (navigator.storage as { estimate?: unknown }).estimate;
    worker.resetHandlers();
  });
  after(() => worker.stop());

  it('a second uploader over the same IndexedDB resumes with the same file, sending only missing chunks', async () => {
    const server = serve();
    const file = randomFile(2 * MiB + 5 * KiB, 'reload.pdf'); // 9 chunks of 256 KiB
    const first = await pausedMidway(server, file, 3); // default store: IndexedDB
    deepEqual(server.received(first.fileId as string), [0, 1, 2]);

    // "After the reload": a new uploader, a new store object, the same database.
    const second = uploader(server);
    const [resumable, ...others] = await second.resumable();
    ok(resumable, 'the paused upload is listed');
    equal(others.length, 0);
    equal(resumable.persisted, false);
    equal(resumable.record.fileId, first.fileId);
    equal(resumable.record.name, 'reload.pdf');

    await rejectsWithCode(resumable.resume(), 'file_changed');
    const impostor = new File([randomFile(file.size)], file.name, { type: file.type });
    await rejectsWithCode(resumable.resume(impostor), 'file_changed');

    const chunksBefore = server.hits.filter((h) => h.route === 'chunk').length;
    const upload = await resumable.resume(file);
    const result = await upload.done;
    equal(result.status, 'ready');
    const sent = server.hits
      .filter((h) => h.route === 'chunk')
      .slice(chunksBefore)
      .map((h) => h.chunkIndex);
    deepEqual(sent, [3, 4, 5, 6, 7, 8], 'only the missing chunks');
    equal(server.count('initiate'), 1, 'the same session, not a new one');
    equal(await server.sha256(upload.fileId as string), await sha256Hex(file));
    deepEqual(await second.resumable(), [], 'the record is gone once ready');
  });

  it('with persistFiles a second uploader resumes without the file', async () => {
    const server = serve();
    const file = randomFile(MiB + 1, 'kept.pdf');
    const first = await pausedMidway(server, file, 2, { persistFiles: true });
    const second = uploader(server, { persistFiles: true });
    const [resumable] = await second.resumable();
    ok(resumable, 'listed');
    equal(resumable.persisted, true);
    const upload = await resumable.resume();
    equal((await upload.done).status, 'ready');
    equal(upload.fileId, first.fileId);
    deepEqual(
      server.hits
        .filter((h) => h.route === 'chunk')
        .map((h) => h.chunkIndex)
        .slice(-3),
      [2, 3, 4],
    );
    equal(server.count('chunk', 0), 1, 'chunk 0 was not sent again');
    equal(await server.sha256(upload.fileId as string), await sha256Hex(file));
    equal(await new IndexedDbResumeStore().loadBytes(upload.key, file.type), undefined);
  });

  it('over quota, the upload still completes, without kept bytes', async () => {
    const server = serve();
    stubEstimate({ quota: 64 * KiB, usage: 60 * KiB });
    const { store, pieceKeys } = isolatedStore();
    const saved: Array<boolean | undefined> = [];
    const refusals: string[] = [];
    const spy: ResumeStore = {
      get: (key) => store.get(key),
      set: (record) => {
        saved.push(record.persisted);
        return store.set(record);
      },
      delete: (key) => store.delete(key),
      list: () => store.list(),
      saveBytes: (key, blob, signal) =>
        store.saveBytes(key, blob, signal).catch((err: UploadError) => {
          refusals.push(err.code);
          throw err;
        }),
      loadBytes: (key, type) => store.loadBytes(key, type),
      deleteBytes: (key) => store.deleteBytes(key),
    };
    const file = randomFile(700 * KiB, 'big.pdf');
    const upload = uploader(server, { resume: spy, persistFiles: true }).add(file);
    equal((await upload.done).status, 'ready');
    deepEqual(refusals, ['quota_exceeded']);
    deepEqual(saved, [false], 'the record says the bytes are not kept');
    deepEqual(await pieceKeys(), []);
    equal(await server.sha256(upload.fileId as string), await sha256Hex(file));
  });
});
