import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import {
  CAMERA_EXIF,
  jpegWithExif,
  pdfWithInfo,
  zipBombDocx,
} from './fixtures/metadata-fixtures.js';
import { api, startTestServer, uploadFile, type TestServer } from './harness.js';
import { openEventStream } from './sse-client.js';

// Metadata read at assembly reaches GET /status and the events; GPS stays out unless kept.
const USER = 'describer';
let server: TestServer;
let token: string;

before(async () => {
  server = await startTestServer();
  token = await server.token(USER);
});

after(async () => {
  await server.stop();
});

describe('content metadata', () => {
  test('a PDF reports its pages and document info, in the status and in upload.ready', async () => {
    const bytes = pdfWithInfo(3, { title: 'Quarterly report', author: 'Ada' });
    const up = await uploadFile(server, token, 'q3.pdf', bytes, 'application/pdf');
    assert.equal(up.status.status, 'ready');
    const described = up.status.contentMetadata;
    assert.ok(described);
    assert.equal(described.partial, false);
    assert.ok(described.metadata.fileType === 'pdf');
    assert.equal(described.metadata.pages, 3);
    assert.equal(described.metadata.title, 'Quarterly report');
    assert.equal(described.metadata.author, 'Ada');

    const stream = await openEventStream(server.url, token, up.sessionId);
    try {
      const ready = (await stream.until('upload.ready')).at(-1)!;
      assert.ok(ready.type === 'upload.ready');
      assert.deepEqual(ready.data.contentMetadata, described);
    } finally {
      stream.close();
    }
  });

  test('an image reports its EXIF without the GPS position by default, and with it when kept', async () => {
    const bytes = jpegWithExif(CAMERA_EXIF);
    const up = await uploadFile(server, token, 'photo.jpg', bytes, 'image/jpeg');
    const image = up.status.contentMetadata?.metadata;
    assert.ok(image && image.fileType === 'jpg');
    assert.equal(image.exif?.make, 'Canon');
    assert.equal(image.exif?.gps, undefined);
    assert.equal(image.gpsRemoved, true);

    const keeping = await startTestServer({ METADATA_KEEP_GPS: 'true' });
    try {
      const kept = await uploadFile(
        keeping,
        await keeping.token(USER),
        'photo.jpg',
        bytes,
        'image/jpeg',
      );
      const withGps = kept.status.contentMetadata?.metadata;
      assert.ok(withGps && withGps.fileType === 'jpg');
      assert.ok(withGps.exif?.gps);
      assert.ok(Math.abs(withGps.exif.gps.latitude - 48.858) < 0.01);
    } finally {
      await keeping.stop();
    }
  });

  test('a zip bomb in a DOCX ends ready with partial metadata, never exhausting the server', async () => {
    const bytes = zipBombDocx(200 * 1024 * 1024, true);
    const up = await uploadFile(
      server,
      token,
      'bomb.docx',
      bytes,
      'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    );
    const status = (await api(server, token).status(up.fileId)).body;
    assert.equal(status.status, 'ready');
    assert.equal(status.contentMetadata?.partial, true);
    assert.ok(status.contentMetadata?.warnings.some((w) => w.code === 'limit'));
  });
});
