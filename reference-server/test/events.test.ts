import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { pdf, randomBytes, text } from './fixtures.js';
import {
  api,
  chunkOf,
  contentHash,
  expectError,
  request,
  startTestServer,
  uploadFile,
  type Api,
  type TestServer,
} from './harness.js';
import { openEventStream } from './sse-client.js';
import { routePath, type InitiatedFile } from '@file-uploader/protocol';

const USER = 'follower';
let server: TestServer;
let token: string;
let client: Api;

before(async () => {
  server = await startTestServer();
  token = await server.token(USER);
  client = api(server, token);
});

after(async () => {
  await server.stop();
});

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

describe('session events (Server-Sent Events)', () => {
  test('a finished upload replays received, assembled, scanned, ready and one session.completed', async () => {
    const bytes = sample(700 * 1024);
    const { sessionId, fileId } = await uploadFile(
      server,
      token,
      'report.pdf',
      bytes,
      'application/pdf',
    );
    const stream = await openEventStream(server.url, token, sessionId);
    try {
      assert.equal(stream.status, 200);
      assert.match(stream.contentType ?? '', /^text\/event-stream/);
      const events = await stream.until('session.completed');
      assert.deepEqual(
        events.map((event) => event.type),
        [
          'upload.received',
          'upload.assembled',
          'upload.scanned',
          'upload.ready',
          'session.completed',
        ],
      );
      for (const event of events) {
        assert.equal(event.sessionId, sessionId);
        assert.equal(event.userId, USER);
        assert.equal(event.version, 1);
      }
      const ready = events[3]!;
      assert.ok(ready.type === 'upload.ready');
      assert.equal(ready.data.fileId, fileId);
      assert.equal(ready.data.contentHash, contentHash(bytes));
      assert.equal(ready.data.fileType, 'pdf');
      const scanned = events[2]!;
      assert.ok(scanned.type === 'upload.scanned');
      assert.deepEqual(scanned.data.scan, { result: 'skipped' });
      // Without a scanner the status says so, never that the file was scanned.
      assert.deepEqual((await client.status(fileId)).body.scan, { result: 'skipped' });
      const completed = events[4]!;
      assert.ok(completed.type === 'session.completed');
      assert.deepEqual(
        completed.data.files.map((f) => [f.fileId, f.status, f.contentHash]),
        [[fileId, 'ready', contentHash(bytes)]],
      );
      const seqs = events.map((event) => Number(event.seq));
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
      );
    } finally {
      stream.close();
    }
  });

  test('events arrive live while the upload runs, and Last-Event-ID resumes without loss or repeats', async () => {
    const first = sample(600 * 1024);
    const second = Buffer.concat([text('x'.repeat(300 * 1024))]);
    const init = await client.initiate({
      files: [
        { name: 'a.pdf', size: first.length, type: 'application/pdf' },
        { name: 'b.pdf', size: second.length, type: 'application/pdf' },
      ],
    });
    assert.equal(init.status, 201);
    const { sessionId, chunkSize } = init.body;
    const a = init.body.files[0]!;
    const b = init.body.files[1]!;
    const live = await openEventStream(server.url, token, sessionId);
    const send = async (bytes: Buffer, file: InitiatedFile) => {
      for (let i = 0; i < file.totalChunks; i++) {
        const res = await client.chunk({
          ...chunkOf({ sessionId, fileId: file.fileId }, bytes, i, chunkSize),
          digest: true,
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
    };
    await send(first, a);
    const firstFile = await live.until('upload.ready');
    assert.deepEqual(
      firstFile.map((event) => event.type),
      ['upload.received', 'upload.assembled', 'upload.scanned', 'upload.ready'],
    );
    live.close();

    await send(second, b); // text bytes declared as PDF: rejected
    const resumed = await openEventStream(server.url, token, sessionId, {
      'Last-Event-ID': firstFile.at(-1)!.seq,
    });
    try {
      const rest = await resumed.until('session.completed');
      assert.deepEqual(
        rest.map((event) => event.type),
        ['upload.received', 'upload.rejected', 'session.completed'],
      );
      const rejected = rest[1]!;
      assert.ok(rejected.type === 'upload.rejected');
      assert.equal(rejected.data.fileId, b.fileId);
      assert.equal(rejected.data.error.code, 'type_mismatch');
      const completed = rest[2]!;
      assert.ok(completed.type === 'session.completed');
      assert.deepEqual(
        completed.data.files.map((f) => [f.fileId, f.status, f.error?.code]),
        [
          [a.fileId, 'ready', undefined],
          [b.fileId, 'rejected', 'type_mismatch'],
        ],
      );
    } finally {
      resumed.close();
    }

    // The query parameter works as the header does, for clients that cannot set headers.
    const url = `${server.url}${routePath('sessionEvents', { sessionId })}?lastEventId=${firstFile[1]!.seq}`;
    const viaQuery = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    const reader = viaQuery.body!.pipeThrough(new TextDecoderStream()).getReader();
    let seen = '';
    while (!seen.includes('event: upload.scanned')) seen += (await reader.read()).value ?? '';
    assert.equal(/event: (\S+)/.exec(seen)?.[1], 'upload.scanned');
    await reader.cancel();
  });

  test('two files finishing at once give exactly one session.completed', async () => {
    const files = [sample(300 * 1024), sample(280 * 1024), sample(290 * 1024)];
    const init = await client.initiate({
      files: files.map((bytes, i) => ({
        name: `f${i}.pdf`,
        size: bytes.length,
        type: 'application/pdf',
      })),
    });
    const { sessionId, chunkSize } = init.body;
    await Promise.all(
      init.body.files.flatMap((file, n) =>
        Array.from({ length: file.totalChunks }, (_, i) =>
          client.chunk({
            ...chunkOf({ sessionId, fileId: file.fileId }, files[n]!, i, chunkSize),
            digest: true,
          }),
        ),
      ),
    );
    const stream = await openEventStream(server.url, token, sessionId);
    try {
      const events = await stream.until('session.completed');
      assert.equal(events.filter((e) => e.type === 'upload.ready').length, 3);
      // Nothing else follows: a second session.completed would arrive within the next poll.
      const extra = await Promise.race([
        stream.next(),
        new Promise<'none'>((resolve) => setTimeout(resolve, 1_500, 'none')),
      ]);
      assert.equal(extra, 'none');
    } finally {
      stream.close();
    }
  });

  test('a deleted file is announced; a duplicate is ready at initiate', async () => {
    const bytes = sample(260 * 1024);
    const first = await uploadFile(server, token, 'one.pdf', bytes, 'application/pdf');
    const dup = await uploadFile(server, token, 'two.pdf', bytes, 'application/pdf', {
      contentHash: contentHash(bytes),
    });
    assert.equal(dup.status.status, 'ready');
    const dupStream = await openEventStream(server.url, token, dup.sessionId);
    try {
      assert.deepEqual(
        (await dupStream.until('session.completed')).map((e) => e.type),
        ['upload.ready', 'session.completed'],
      );
    } finally {
      dupStream.close();
    }
    assert.equal((await client.remove(first.fileId)).status, 204);
    const stream = await openEventStream(server.url, token, first.sessionId);
    try {
      const events = await stream.until('upload.deleted');
      const deleted = events.at(-1)!;
      assert.ok(deleted.type === 'upload.deleted');
      assert.equal(deleted.data.fileId, first.fileId);
    } finally {
      stream.close();
    }
  });

  test('only the owner may follow a session; ids are checked', async () => {
    const { sessionId } = await uploadFile(
      server,
      token,
      'mine.pdf',
      sample(256 * 1024),
      'application/pdf',
    );
    const path = routePath('sessionEvents', { sessionId });
    const other = await server.token('someone-else');
    expectError(
      await request(server.url + path, { headers: { Authorization: `Bearer ${other}` } }),
      403,
      'forbidden',
    );
    expectError(await request(server.url + path), 401, 'unauthenticated');
    expectError(
      await request(server.url + routePath('sessionEvents', { sessionId: 'no-such-session' }), {
        headers: { Authorization: `Bearer ${token}` },
      }),
      404,
      'not_found',
    );
    expectError(
      await request(server.url + path, {
        headers: { Authorization: `Bearer ${token}`, 'Last-Event-ID': 'abc; drop' },
      }),
      400,
      'validation_failed',
    );
  });

  test('shutdown ends open streams instead of waiting for them', async () => {
    const own = await startTestServer({ SHUTDOWN_TIMEOUT: '60s' });
    try {
      const ownToken = await own.token(USER);
      const { sessionId } = await uploadFile(
        own,
        ownToken,
        'x.pdf',
        sample(256 * 1024),
        'application/pdf',
      );
      const stream = await openEventStream(own.url, ownToken, sessionId);
      await stream.until('session.completed');
      const ended = stream.next();
      assert.equal(await own.stop('SIGTERM'), 0);
      assert.equal(await ended, undefined);
      assert.doesNotMatch(own.stdout(), /shutdown timeout/);
    } finally {
      await own.stop().catch(() => undefined);
    }
  });
});
