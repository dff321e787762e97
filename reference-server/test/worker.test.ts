/**
 * Worker mode (PROCESSING=worker): real server processes leave assembled files `scanning`, and
 * real worker processes (`file-uploader-server worker`) scan them with a real clamd, on the
 * embedded store (SQLite on a shared DATA_DIR) and on Redis with two workers sharing the work.
 */
import { strict as assert } from 'node:assert';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SIGNATURES, eicar, startClamd, type TestClamd } from '../../test/harness/clamd.js';
import { startRedis, type TestRedis } from '../../test/harness/redis.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  eventually,
  expectDownload,
  expectError,
  startTestServer,
  uploadFile,
  type TestServer,
} from './harness.js';

const USER = 'worker-user';
let clamd: TestClamd;

before(async () => {
  clamd = await startClamd();
});

after(async () => {
  await clamd?.stop();
});

/** A PDF that carries `inside` in its body; random filler keeps every file distinct. */
function pdfWith(inside: Buffer, size = 300 * 1024): Buffer {
  const head = pdf();
  const filler = randomBytes(size - head.length - inside.length);
  return Buffer.concat([head, filler.subarray(0, 1000), inside, filler.subarray(1000)]);
}

/** Starts a worker with the server's configuration (its own health port). */
function startWorker(server: TestServer, overrides: Record<string, string> = {}) {
  const { PORT: _port, ...shared } = server.env;
  return startTestServer(
    { ...shared, ...overrides },
    { dataDir: server.dataDir, args: ['worker'] },
  );
}

/** The pino lines of a process with this message (and this file, when given). */
function logLines(target: TestServer, msg: string, fileId?: string): Record<string, unknown>[] {
  return target
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.msg === msg && (fileId === undefined || line.fileId === fileId));
}

async function settled(target: TestServer, token: string, fileId: string, timeoutMs = 20_000) {
  const client = api(target, token);
  const status = await eventually(async () => {
    const res = await client.status(fileId);
    return res.body.status !== 'scanning' && res.body.status !== 'assembling'
      ? res.body
      : undefined;
  }, timeoutMs);
  assert.ok(status, `file ${fileId} still unsettled after ${timeoutMs} ms`);
  return status;
}

describe('configuration', () => {
  test('PROCESSING takes inline or worker, and worker mode needs a shared store', () => {
    assert.equal(loadConfig({ DEV_MODE: '1' }).processing, 'inline');
    assert.equal(loadConfig({ DEV_MODE: '1', PROCESSING: 'worker' }).processing, 'worker');
    assert.throws(() => loadConfig({ DEV_MODE: '1', PROCESSING: 'later' }), ConfigError);
    assert.throws(
      () => loadConfig({ DEV_MODE: '1', PROCESSING: 'worker', SESSION_STORE: 'memory' }),
      /PROCESSING=worker needs a store that worker processes share/,
    );
  });

  test('a worker without CLAMD_URL refuses to start (exit 2, clear message)', async () => {
    await assert.rejects(
      startTestServer({ PROCESSING: 'worker' }, { args: ['worker'] }),
      /exited early \(code 2[\s\S]*CLAMD_URL is required/,
    );
  });
});

describe('worker mode on the embedded store', () => {
  let server: TestServer;
  let token: string;

  before(async () => {
    server = await startTestServer({
      CLAMD_URL: clamd.url,
      PROCESSING: 'worker',
      SCAN_TIMEOUT: '30s',
      LOG_LEVEL: 'info',
    });
    token = await server.token(USER);
  });

  after(async () => {
    await server?.stop();
  });

  test('the server leaves files scanning; a worker scans them (clean ready, EICAR rejected)', async () => {
    const clean = pdfWith(Buffer.from('scanned by a worker'));
    const up = await uploadFile(server, token, 'clean.pdf', clean, 'application/pdf');
    assert.equal(up.status.status, 'scanning');
    assert.ok(up.status.contentMetadata, 'the server extracted the metadata itself');
    expectError(await api(server, token).download(up.fileId), 409, 'conflict');

    const worker = await startWorker(server, { LOG_LEVEL: 'info' });
    try {
      const status = await settled(server, token, up.fileId);
      assert.equal(status.status, 'ready');
      assert.deepEqual(status.scan, { result: 'clean' });
      await expectDownload(api(server, token), up.fileId, clean);
      assert.equal(logLines(worker, 'file scanned clean', up.fileId).length, 1);

      const infected = pdfWith(eicar());
      const bad = await uploadFile(server, token, 'invoice.pdf', infected, 'application/pdf');
      const rejected = await settled(server, token, bad.fileId);
      assert.equal(rejected.status, 'rejected');
      assert.equal(rejected.error?.code, 'infected');
      assert.deepEqual(rejected.scan, { result: 'infected', signature: SIGNATURES.eicar });
      expectError(await api(server, token).download(bad.fileId), 409, 'conflict');
    } finally {
      assert.equal(await worker.stop('SIGTERM'), 0);
    }
    // Everything was scanned by the worker, nothing by the server.
    assert.equal(logLines(server, 'scan started').length, 0);
    assert.equal(logLines(worker, 'scan started').length, 2);
  });

  test('SIGTERM aborts a running scan; the file stays scanning for the next worker', async () => {
    const worker = await startWorker(server, { LOG_LEVEL: 'info' });
    const bytes = pdfWith(Buffer.from('interrupted scan'));
    let up;
    clamd.pause();
    try {
      up = await uploadFile(server, token, 'interrupted.pdf', bytes, 'application/pdf');
      const fileId = up.fileId;
      const scanning = await eventually(
        async () => logLines(worker, 'scan started', fileId).length > 0,
        15_000,
      );
      assert.ok(scanning, 'the worker started scanning the file');
      assert.equal(await worker.stop('SIGTERM'), 0);
      assert.ok(logLines(worker, 'stopped').length > 0, 'the worker stopped gracefully');
      assert.equal((await api(server, token).status(fileId)).body.status, 'scanning');
    } finally {
      clamd.resume();
    }
    const next = await startWorker(server, { LOG_LEVEL: 'info' });
    try {
      const status = await settled(server, token, up.fileId);
      assert.equal(status.status, 'ready');
      await expectDownload(api(server, token), up.fileId, bytes);
      assert.equal(logLines(next, 'file scanned clean', up.fileId).length, 1);
    } finally {
      await next.stop();
    }
  });
});

describe('worker mode on Redis with two workers', () => {
  let redis: TestRedis;
  let server: TestServer;
  let workers: TestServer[];
  let token: string;

  before(async () => {
    redis = await startRedis();
    server = await startTestServer({
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `w${randomUUID().slice(0, 8)}:`,
      CLAMD_URL: clamd.url,
      PROCESSING: 'worker',
      SCAN_TIMEOUT: '60s',
      WORKER_POLL_INTERVAL: '1s',
      LOG_LEVEL: 'info',
    });
    token = await server.token(USER);
    workers = await Promise.all([startWorker(server), startWorker(server)]);
  });

  after(async () => {
    await Promise.all((workers ?? []).map((worker) => worker.stop()));
    await server?.stop();
    await redis?.stop();
  });

  test('several files are each scanned exactly once across the workers', async () => {
    const files = Array.from({ length: 6 }, (_, i) => pdfWith(Buffer.from(`file ${i}`)));
    const ups = await Promise.all(
      files.map((bytes, i) => uploadFile(server, token, `f${i}.pdf`, bytes, 'application/pdf')),
    );
    for (const [i, up] of ups.entries()) {
      const status = await settled(server, token, up.fileId);
      assert.equal(status.status, 'ready');
      assert.deepEqual(status.scan, { result: 'clean' });
      await expectDownload(api(server, token), up.fileId, files[i]!);
    }
    for (const up of ups) {
      const scans = workers.flatMap((worker) => logLines(worker, 'file scanned clean', up.fileId));
      assert.equal(scans.length, 1, `file ${up.fileId} scanned ${scans.length} times`);
    }
    assert.equal(logLines(server, 'scan started').length, 0);
  });

  test('a worker killed mid-scan frees its file; the other worker finishes it', async () => {
    const bytes = pdfWith(Buffer.from('holder dies'));
    let up;
    let holder: TestServer | undefined;
    clamd.pause();
    try {
      up = await uploadFile(server, token, 'orphan.pdf', bytes, 'application/pdf');
      const fileId = up.fileId;
      holder = await eventually(
        async () => workers.find((w) => logLines(w, 'scan started', fileId).length > 0),
        15_000,
      );
      assert.ok(holder, 'a worker started scanning the file');
      await holder.kill();
    } finally {
      clamd.resume();
    }
    const survivor = workers.find((w) => w !== holder)!;
    // The dead worker's lock frees itself when its lease (15 s) runs out.
    const status = await settled(server, token, up.fileId, 45_000);
    assert.equal(status.status, 'ready');
    assert.deepEqual(status.scan, { result: 'clean' });
    await expectDownload(api(server, token), up.fileId, bytes);
    assert.equal(logLines(survivor, 'file scanned clean', up.fileId).length, 1);
    assert.equal(logLines(holder, 'file scanned clean', up.fileId).length, 0);
  });
});
