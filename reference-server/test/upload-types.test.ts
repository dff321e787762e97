import { strict as assert } from 'node:assert';
import { after, before, test } from 'node:test';
import { FILE_TYPES, type FileTypeId } from '@file-uploader/protocol';
import { doc, docx, jpeg, pdf, png, randomBytes, xls, xlsx } from './fixtures.js';
import {
  api,
  contentHash,
  expectDownload,
  expectStoredObject,
  sha256,
  startTestServer,
  uploadFile,
  type TestServer,
} from './harness.js';

/** ~600 KiB: three chunks of 256 KiB, the last one partial. */
const SIZE = 600 * 1024 + 123;

/** A valid file of `SIZE` bytes whose trailing data the format ignores, made random. */
function withRandomTail(file: Buffer): Buffer {
  return Buffer.concat([file, randomBytes(SIZE - file.length)]);
}

const SAMPLES: Array<{ type: FileTypeId; name: string; bytes: () => Buffer }> = [
  // Bytes after %%EOF, after PNG's IEND, after JPEG's EOI and after an OLE2 file's last sector
  // are ignored by readers; OOXML grows with a stored padding part inside the archive.
  { type: 'pdf', name: 'report.pdf', bytes: () => withRandomTail(pdf()) },
  { type: 'png', name: 'picture.png', bytes: () => withRandomTail(png(64, 64)) },
  { type: 'jpg', name: 'photo.jpg', bytes: () => withRandomTail(jpeg()) },
  { type: 'docx', name: 'letter.docx', bytes: () => docx({ size: SIZE }) },
  { type: 'xlsx', name: 'numbers.xlsx', bytes: () => xlsx({ size: SIZE }) },
  { type: 'doc', name: 'old-letter.doc', bytes: () => withRandomTail(doc()) },
  { type: 'xls', name: 'old-numbers.xls', bytes: () => withRandomTail(xls()) },
];

let server: TestServer;
let token: string;
const USER = 'alice';

before(async () => {
  server = await startTestServer();
  token = await server.token(USER);
});

after(async () => {
  await server.stop();
});

for (const sample of SAMPLES) {
  test(`a multi-chunk ${sample.type.toUpperCase()} uploads in parallel, ends ready, is stored and downloads byte for byte`, async () => {
    const bytes = sample.bytes();
    const mime = FILE_TYPES[sample.type].mime;
    const result = await uploadFile(server, token, sample.name, bytes, mime, {
      metadata: { purpose: 'e2e' },
    });

    const initiated = result.initiated.files[0];
    assert.equal(result.initiated.chunkSize, 256 * 1024);
    assert.equal(initiated?.totalChunks, 3);
    assert.equal(initiated?.status, 'pending');

    // The chunk that completed the file answered with the outcome of the assembly.
    assert.ok(
      result.chunks.some((c) => c.body.status === 'ready'),
      `a chunk response says ready: ${JSON.stringify(result.chunks.map((c) => c.body.status))}`,
    );

    const status = result.status;
    assert.equal(status.status, 'ready', JSON.stringify(status));
    assert.equal(status.fileId, result.fileId);
    assert.equal(status.sessionId, result.sessionId);
    assert.equal(status.name, sample.name);
    assert.equal(status.size, bytes.length);
    assert.equal(status.receivedBytes, bytes.length);
    assert.equal(status.fileType, sample.type);
    assert.equal(status.detectedType, mime);
    assert.equal(status.contentHash, contentHash(bytes));
    assert.deepEqual(status.metadata, { purpose: 'e2e' });
    assert.equal(status.error, undefined);

    const stored = await expectStoredObject(server, USER, result, bytes);
    assert.ok(stored.key.startsWith(`${USER}/${result.sessionId}/`), stored.key);
    assert.ok(stored.key.endsWith(`-${result.fileId}/${sample.name}`), stored.key);

    const download = await expectDownload(api(server, token), result.fileId, bytes);
    assert.equal(download.headers.get('content-type')?.split(';')[0], mime);
    assert.equal(sha256(download.raw), sha256(stored.bytes));

    // GET /session agrees: the whole file is received.
    const session = await api(server, token).session(result.sessionId);
    assert.equal(session.status, 200);
    const listed = session.body.files.find((f) => f.fileId === result.fileId);
    assert.equal(listed?.status, 'ready');
    assert.deepEqual(listed?.receivedChunks, [0, 1, 2]);
    assert.equal(listed?.receivedBytes, bytes.length);
  });
}
