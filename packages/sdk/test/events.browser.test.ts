/**
 * The event stream as Chromium's fetch delivers it: events cut into pieces at awkward places
 * (inside a UTF-8 character, between CR and LF, inside a field name), comments and `retry:`
 * between them. The upload must follow them to `scanning`, then `ready`, asking `GET /status`
 * only after connecting and once for the full answer.
 */
import {
  EVENT_SCHEMA_VERSION,
  type FileStatusResponse,
  type UploadEventType,
} from '@file-uploader/protocol';
import { createUploader, type UploadState } from '@file-uploader/sdk';
import { HttpResponse } from 'msw';
import { FakeServer, startWorker, worker } from './fake-server.browser.js';
import {
  after,
  before,
  deepEqual,
  describe,
  equal,
  gate,
  it,
  randomFile,
  sha256Hex,
  sleep,
  waitFor,
} from './test-kit.browser.js';

/** Cuts `bytes` into pieces of 1 to 5 bytes. */
function pieces(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let at = 0, n = 0; at < bytes.length; n++) {
    const size = 1 + (n % 5);
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  return out;
}

/** An event of the stream about one of `server`'s files, as it goes on the wire. */
function eventOf(server: FakeServer) {
  let seq = 0;
  return (type: UploadEventType, fileId: string, status: string, eol = '\n') => {
    const file = server.files.get(fileId);
    const payload = {
      id: `${type}:${fileId}:${++seq}`,
      seq: String(seq),
      type,
      version: EVENT_SCHEMA_VERSION,
      occurredAt: new Date().toISOString(),
      sessionId: file?.sessionId,
      userId: 'tester',
      data: { fileId, name: file?.name, size: file?.size, status },
    };
    const lines = [`id: ${seq}`, `event: ${type}`, `data: ${JSON.stringify(payload)}`, ''];
    return new TextEncoder().encode(`${lines.join(eol)}${eol}`);
  };
}

/** A fault for `server` under which `GET /status` says `scanning` while `scanning()` holds. */
function scanningWhile(server: FakeServer, scanning: () => boolean): FakeServer['fault'] {
  return (hit) => {
    const file = hit.route === 'status' ? server.files.get(hit.fileId ?? '') : undefined;
    if (!file || !scanning()) return undefined;
    const body: FileStatusResponse = {
      fileId: file.fileId,
      sessionId: file.sessionId,
      name: file.name,
      size: file.size,
      status: 'scanning',
      receivedBytes: file.size,
    };
    return HttpResponse.json(body);
  };
}

/**
 * A fake server (its handlers in use) whose status route says `scanning` until `release` opens,
 * the builder of its events, and an uploader that sends to it.
 */
function scanningUntilReleased() {
  const server = new FakeServer();
  worker.use(...server.handlers());
  const release = gate();
  let scanning = true;
  void release.wait.then(() => (scanning = false));
  server.fault = scanningWhile(server, () => scanning);
  const uploader = createUploader({
    endpoint: server.base,
    getToken: () => 'test-token',
    resume: false,
    progressIntervalMs: 0,
  });
  return { server, release, event: eventOf(server), uploader };
}

describe('event stream in Chromium (msw fake server)', () => {
  before(async () => {
    await startWorker();
  });
  after(() => {
    worker.resetHandlers();
  });

  it('follows events cut at any byte to scanning and ready', async () => {
    // Until released, the file is scanning as far as `GET /status` can tell.
    const { server, release, event, uploader } = scanningUntilReleased();
    server.events = (sessionId) => {
      const fileId = server.sessions.get(sessionId)?.fileIds[0] ?? '';
      const encoder = new TextEncoder();
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          const send = async (bytes: Uint8Array) => {
            for (const piece of pieces(bytes)) {
              controller.enqueue(piece);
              await sleep(0);
            }
          };
          await send(encoder.encode('retry: 50\r\n\r\n: keep-alive\r\n\r\n'));
          await send(event('upload.scanned', fileId, 'scanning', '\r\n'));
          await release.wait;
          await send(encoder.encode(': still here\n\n'));
          await send(event('upload.ready', fileId, 'ready', '\r'));
        },
      });
      return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } });
    };

    const states: UploadState[] = [];
    uploader.addEventListener('state', (e) => states.push(e.upload.state));
    // A name with characters of two, three and four bytes, cut inside them on the wire.
    const file = randomFile(300 * 1024, 'Ünïcødé ✓ 📄.pdf');
    const upload = uploader.add(file);
    await waitFor(
      () => upload.state === 'scanning' && server.count('events') === 1,
      () => `scanning from the stream (state ${upload.state})`,
    );
    release.open();
    const result = await upload.done;
    equal(result.status, 'ready');
    equal(await server.sha256(upload.fileId as string), await sha256Hex(file), 'SHA-256');
    deepEqual(states, ['hashing', 'initiating', 'uploading', 'assembling', 'scanning', 'ready']);
    equal(server.count('events'), 1, 'one stream');
    equal(server.count('status'), 2, 'a poll after connecting, and the full answer at the end');
  });

  it('keeps listening when an event says final before the status route does', async () => {
    // The event comes before the status route has caught up (a store read from a replica).
    const { server, release, event, uploader } = scanningUntilReleased();
    server.events = (sessionId) => {
      const fileId = server.sessions.get(sessionId)?.fileIds[0] ?? '';
      const body = new ReadableStream<Uint8Array>({
        async start(controller) {
          controller.enqueue(event('upload.ready', fileId, 'ready'));
          await release.wait;
          controller.enqueue(event('upload.ready', fileId, 'ready'));
        },
      });
      return new HttpResponse(body, { headers: { 'Content-Type': 'text/event-stream' } });
    };
    const upload = uploader.add(randomFile(100 * 1024, 'early.pdf'));
    // A poll after connecting and one for the full answer, both still `scanning`.
    await waitFor(
      () => server.count('status') >= 2 && upload.state === 'scanning',
      () => `scanning, asked after the first event (${server.count('status')} times)`,
    );
    release.open();
    await waitFor(
      () => upload.state === 'ready',
      () => `ready after the second event (state ${upload.state})`,
    );
    equal((await upload.done).status, 'ready');
    equal(server.count('events'), 1, 'one stream');
  });
});
