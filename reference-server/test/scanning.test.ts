import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { SIGNATURES, eicar, startClamd, type TestClamd } from '../../test/harness/clamd.js';
import { docx, pdf, randomBytes } from './fixtures.js';
import {
  api,
  eventually,
  expectDownload,
  expectError,
  objectsDir,
  sha256,
  startTestServer,
  storedObject,
  uploadFile,
  type TestServer,
} from './harness.js';
import { openEventStream } from './sse-client.js';

const USER = 'scanned';
let clamd: TestClamd;
let server: TestServer;
let token: string;

before(async () => {
  clamd = await startClamd();
  server = await startTestServer({ CLAMD_URL: clamd.url, SCAN_TIMEOUT: '5s' });
  token = await server.token(USER);
});

after(async () => {
  await server?.stop();
  await clamd?.stop();
});

/** A PDF that carries `inside` somewhere in its body. */
function pdfWith(inside: Buffer, size = 300 * 1024): Buffer {
  const head = pdf();
  const filler = randomBytes(size - head.length - inside.length);
  const middle = Math.floor(filler.length / 2);
  return Buffer.concat([head, filler.subarray(0, middle), inside, filler.subarray(middle)]);
}

async function settled(target: TestServer, authToken: string, fileId: string, timeoutMs = 20_000) {
  const client = api(target, authToken);
  const status = await eventually(async () => {
    const res = await client.status(fileId);
    return res.body.status !== 'scanning' && res.body.status !== 'assembling'
      ? res.body
      : undefined;
  }, timeoutMs);
  assert.ok(status, `file ${fileId} still unsettled after ${timeoutMs} ms`);
  return status;
}

describe('virus scanning with clamd', () => {
  test('a clean file is scanned before it becomes ready and downloadable', async () => {
    const bytes = pdfWith(Buffer.from('nothing to see here'));
    const up = await uploadFile(server, token, 'clean.pdf', bytes, 'application/pdf');
    // The chunk that completed the file answers once assembly is done: the scan comes after.
    assert.ok(up.chunks.some((c) => c.body.status === 'scanning'));
    const status = await settled(server, token, up.fileId);
    assert.equal(status.status, 'ready');
    assert.deepEqual(status.scan, { result: 'clean' });
    await expectDownload(api(server, token), up.fileId, bytes);
    const stream = await openEventStream(server.url, token, up.sessionId);
    try {
      const events = await stream.until('session.completed');
      assert.deepEqual(
        events.map((e) => e.type),
        [
          'upload.received',
          'upload.assembled',
          'upload.scanned',
          'upload.ready',
          'session.completed',
        ],
      );
      const scanned = events[2]!;
      assert.ok(scanned.type === 'upload.scanned');
      assert.deepEqual(scanned.data.scan, { result: 'clean' });
    } finally {
      stream.close();
    }
  });

  test('an infected PDF is rejected with the signature, quarantined, and never downloadable', async () => {
    const bytes = pdfWith(eicar());
    const up = await uploadFile(server, token, 'invoice.pdf', bytes, 'application/pdf');
    const status = await settled(server, token, up.fileId);
    assert.equal(status.status, 'rejected');
    assert.equal(status.error?.code, 'infected');
    assert.deepEqual(status.scan, { result: 'infected', signature: SIGNATURES.eicar });
    expectError(await api(server, token).download(up.fileId), 409, 'conflict');
    assert.equal(await storedObject(server.dataDir, USER, up.sessionId, up.fileId), undefined);
    const quarantine = path.join(objectsDir(server.dataDir), '.quarantine', USER, up.sessionId);
    const kept = await eventually(async () => existsSync(quarantine));
    assert.ok(kept, 'the infected object is kept in quarantine');
    const { readdir } = await import('node:fs/promises');
    const [dir] = await readdir(quarantine);
    const [name] = await readdir(path.join(quarantine, dir!));
    assert.equal(sha256(await readFile(path.join(quarantine, dir!, name!))), sha256(bytes));

    const stream = await openEventStream(server.url, token, up.sessionId);
    try {
      const events = await stream.until('session.completed');
      assert.deepEqual(
        events.map((e) => e.type),
        [
          'upload.received',
          'upload.assembled',
          'upload.scanned',
          'upload.rejected',
          'session.completed',
        ],
      );
    } finally {
      stream.close();
    }
  });

  test('EICAR inside a DOCX is found (archives are scanned)', async () => {
    const bytes = docx({ extraParts: [{ name: 'word/embeddings/readme.txt', data: eicar() }] });
    const up = await uploadFile(
      server,
      token,
      'letter.docx',
      bytes,
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    const status = await settled(server, token, up.fileId);
    assert.equal(status.status, 'rejected');
    assert.equal(status.error?.code, 'infected');
  });

  test('with clamd down a file stays scanning and is released once clamd is back', async () => {
    await clamd.stop();
    try {
      const bytes = pdfWith(Buffer.from('waits for the scanner'));
      const up = await uploadFile(server, token, 'waiting.pdf', bytes, 'application/pdf');
      const retried = await eventually(async () => /scan retry/.test(server.stdout()), 10_000);
      assert.ok(retried, 'the server retries the scan');
      assert.equal((await api(server, token).status(up.fileId)).body.status, 'scanning');
      expectError(await api(server, token).download(up.fileId), 409, 'conflict');
      await clamd.restart();
      const status = await settled(server, token, up.fileId, 60_000);
      assert.equal(status.status, 'ready');
      await expectDownload(api(server, token), up.fileId, bytes);
    } finally {
      await clamd.restart().catch(() => undefined);
    }
  });

  test('a scan that cannot succeed before the deadline fails closed (scan_failed)', async () => {
    const own = await startTestServer({
      CLAMD_URL: clamd.url,
      SCAN_TIMEOUT: '300ms',
      SCAN_DEADLINE: '2s',
    });
    try {
      const ownToken = await own.token(USER);
      clamd.pause(); // accepts connections, never answers: every attempt times out
      const bytes = pdfWith(Buffer.from('never scanned'));
      const up = await uploadFile(own, ownToken, 'late.pdf', bytes, 'application/pdf');
      const status = await settled(own, ownToken, up.fileId, 20_000);
      assert.equal(status.status, 'failed');
      assert.equal(status.error?.code, 'scan_failed');
      expectError(await api(own, ownToken).download(up.fileId), 409, 'conflict');
    } finally {
      clamd.resume();
      await own.stop();
    }
  });

  test('a scan interrupted by a server crash resumes after the restart', async () => {
    const own = await startTestServer({ CLAMD_URL: clamd.url, SCAN_TIMEOUT: '60s' });
    try {
      const ownToken = await own.token(USER);
      clamd.pause();
      const bytes = pdfWith(Buffer.from('crash while scanning'));
      const up = await uploadFile(own, ownToken, 'crash.pdf', bytes, 'application/pdf');
      assert.equal(up.status.status, 'scanning');
      await own.kill();
      clamd.resume();
      await clamd.restart(); // drop the half-open connection of the dead process
      const again = await own.restart();
      const status = await settled(again, ownToken, up.fileId, 30_000);
      assert.equal(status.status, 'ready');
      await expectDownload(api(again, ownToken), up.fileId, bytes);
    } finally {
      clamd.resume();
      await own.stop();
    }
  });
});
