import { strict as assert } from 'node:assert';
import { randomBytes as cryptoRandomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { UploadEvent } from '@file-uploader/protocol';
import { loadConfig } from '../src/config.js';
import { startServer, type RunningServer } from '../src/server.js';
import { pdf, randomBytes } from './fixtures.js';
import { eventually, signToken, tempDir, uploadFile } from './harness.js';

// An app that embeds the server (`startServer`) hears every event in its own process, in order,
// starting from when it started; earlier events are not replayed to it.
const SECRET = cryptoRandomBytes(36).toString('base64url');
let running: RunningServer;
let dataDir: string;

before(async () => {
  dataDir = await tempDir();
  running = await startServer(
    loadConfig({
      HOST: '127.0.0.1',
      PORT: '0',
      DATA_DIR: dataDir,
      JWT_SECRET: SECRET,
      DOWNLOAD_SECRET: cryptoRandomBytes(36).toString('base64url'),
      CHUNK_SIZE: String(256 * 1024),
      LOG_LEVEL: 'silent',
    }),
  );
});

after(async () => {
  await running?.close();
});

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

describe('in-process events', () => {
  test('a listener gets each upload event once, in order, after the change is stored', async () => {
    const token = await signToken(SECRET, 'embedder');
    const heard: UploadEvent[] = [];
    const unsubscribe = running.events.subscribe(async (event) => {
      // The change an event reports is already stored when the event arrives.
      if (event.type === 'upload.ready') {
        const file = await running.deps.sessions.getFile(event.data.fileId);
        assert.equal(file?.status, 'ready');
      }
      heard.push(event);
    });
    try {
      const up = await uploadFile(
        running,
        token,
        'embedded.pdf',
        sample(600 * 1024),
        'application/pdf',
      );
      const all = await eventually(
        async () => heard.some((e) => e.type === 'session.completed'),
        20_000,
      );
      assert.ok(all, heard.map((e) => e.type).join(', '));
      assert.deepEqual(
        heard.filter((e) => e.sessionId === up.sessionId).map((e) => e.type),
        [
          'upload.received',
          'upload.assembled',
          'upload.scanned',
          'upload.ready',
          'session.completed',
        ],
      );
    } finally {
      unsubscribe();
    }
  });
});
