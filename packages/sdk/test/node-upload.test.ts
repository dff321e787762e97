import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { createUploader } from '@file-uploader/sdk';
import { pdf, png, text } from '../../../reference-server/test/fixtures.js';
import {
  expectStoredObject,
  startTestServer,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import { blobOf } from './node-kit.js';

describe('SDK in Node against the reference server', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server?.stop());

  it('uploads a batch of files in one session, verified, and ends ready', async () => {
    const token = await server.token('sdk-user');
    const uploader = createUploader({
      endpoint: `${server.url}/api/v1/upload`,
      getToken: () => token,
    });
    const a = pdf({ size: 900 * 1024 });
    const b = png();
    const states: string[] = [];
    uploader.addEventListener('state', (e) => {
      if (e.upload.name === 'a.pdf') states.push(e.upload.state);
    });
    const ua = uploader.add({ blob: blobOf(a), name: 'a.pdf', type: 'application/pdf' });
    const ub = uploader.add({ blob: blobOf(b), name: 'b.png', type: 'image/png' });
    const [ra, rb] = await Promise.all([ua.done, ub.done]);
    assert.equal(ra.status, 'ready');
    assert.equal(rb.status, 'ready');
    assert.equal(ua.sessionId, ub.sessionId);
    assert.deepEqual(states, ['hashing', 'initiating', 'uploading', 'ready']);
    assert.equal(ua.progress.confirmedBytes, a.length);
    await expectStoredObject(server, 'sdk-user', ra, a);
    await expectStoredObject(server, 'sdk-user', rb, b);
  });

  it('rejects the files of a batch the server refuses by name and uploads the rest together', async () => {
    const token = await server.token('mixed-user');
    const uploader = createUploader({
      endpoint: `${server.url}/api/v1/upload`,
      getToken: () => token,
    });
    const a = pdf({ size: 300 * 1024 });
    const b = png();
    const ua = uploader.add({ blob: blobOf(a), name: 'a.pdf', type: 'application/pdf' });
    const bad = uploader.add({ blob: blobOf(text()), name: 'notes.txt', type: 'text/plain' });
    const ub = uploader.add({ blob: blobOf(b), name: 'b.png', type: 'image/png' });
    const [ra, rb] = await Promise.all([ua.done, ub.done]);
    await assert.rejects(bad.done, { code: 'type_not_allowed' });
    assert.equal(bad.state, 'rejected');
    assert.equal(bad.sessionId, undefined, 'the refused file has no place on the server');
    assert.equal(ua.sessionId, ub.sessionId, 'the others share one session');
    await expectStoredObject(server, 'mixed-user', ra, a);
    await expectStoredObject(server, 'mixed-user', rb, b);
  });
});
