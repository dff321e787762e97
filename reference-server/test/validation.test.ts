import { strict as assert } from 'node:assert';
import { after, before, describe, test } from 'node:test';
import { FILE_TYPES } from '@file-uploader/protocol';
import {
  doc,
  docx,
  exe,
  jpeg,
  padTo,
  pdf,
  png,
  randomBytes,
  text,
  xls,
  xlsx,
  zip,
} from './fixtures.js';
import {
  api,
  expectError,
  expectStoredObject,
  listFilesDeep,
  objectsDir,
  request,
  startTestServer,
  storedChunks,
  uploadFile,
  type Api,
  type TestServer,
} from './harness.js';

const MiB = 1024 * 1024;
const USER = 'validator';

let server: TestServer;
let token: string;
let client: Api;

before(async () => {
  server = await startTestServer({
    MAX_FILE_BYTES: String(1 * MiB),
    MAX_SESSION_BYTES: String(2 * MiB),
    MAX_FILES: '3',
  });
  token = await server.token(USER);
  client = api(server, token);
});

after(async () => {
  await server.stop();
});

describe('content that does not match its name is rejected after assembly', () => {
  const spoofs: Array<{ what: string; name: string; type: string; bytes: () => Buffer }> = [
    {
      what: 'a Windows executable named .pdf (three chunks)',
      name: 'invoice.pdf',
      type: 'application/pdf',
      bytes: () => Buffer.concat([exe(), randomBytes(600 * 1024)]),
    },
    { what: 'plain text named .png', name: 'picture.png', type: 'image/png', bytes: () => text() },
    { what: 'a PNG named .pdf', name: 'scan.pdf', type: 'application/pdf', bytes: () => png() },
    { what: 'a JPEG named .png', name: 'photo.png', type: 'image/png', bytes: () => jpeg() },
    { what: 'a plain ZIP named .docx', name: 'letter.docx', type: '', bytes: () => zip() },
    { what: 'a DOCX named .xlsx', name: 'sheet.xlsx', type: '', bytes: () => docx() },
    { what: 'an XLSX named .docx', name: 'letter.docx', type: '', bytes: () => xlsx() },
    { what: 'an XLS named .doc', name: 'old.doc', type: '', bytes: () => xls() },
    { what: 'a DOC named .xls', name: 'old.xls', type: '', bytes: () => doc() },
    {
      what: 'random bytes named .jpg',
      name: 'noise.jpg',
      type: 'image/jpeg',
      bytes: () => randomBytes(5000),
    },
    {
      what: 'a PDF header with an executable after it is still a PDF, but an executable named .pdf with a PDF inside is not',
      name: 'tricky.pdf',
      type: 'application/pdf',
      bytes: () => Buffer.concat([exe(), pdf()]),
    },
  ];
  for (const spoof of spoofs) {
    test(`${spoof.what}: status rejected with type_mismatch, no object kept, not downloadable`, async () => {
      const bytes = spoof.bytes();
      const result = await uploadFile(server, token, spoof.name, bytes, spoof.type);
      // The chunk that completed the file reports the rejection (others, sent in parallel, may
      // have seen the file still uploading or being assembled).
      const statuses = result.chunks.map((c) => c.body.status);
      assert.ok(statuses.includes('rejected'), `a chunk reports the rejection: ${statuses.join()}`);
      assert.ok(statuses.every((s) => ['uploading', 'assembling', 'rejected'].includes(s)));
      assert.equal(result.status.status, 'rejected', JSON.stringify(result.status));
      assert.equal(result.status.error?.code, 'type_mismatch');
      assert.equal(typeof result.status.error?.message, 'string');
      // Nothing of the file stays on disk: no object, no chunks.
      const objects = await listFilesDeep(objectsDir(server.dataDir));
      assert.deepEqual(
        objects.filter((key) => key.includes(result.fileId)),
        [],
        'no final object for the rejected file',
      );
      assert.deepEqual(await storedChunks(server.dataDir, result.sessionId, result.fileId), []);
      expectError(await client.download(result.fileId), 409, 'conflict');
    });
  }

  test('a PNG named .pdf is reported with the type its bytes really are', async () => {
    const result = await uploadFile(server, token, 'scan.pdf', png(), 'application/pdf');
    assert.equal(result.status.status, 'rejected');
    assert.equal(result.status.fileType, 'png');
    assert.equal(result.status.detectedType, FILE_TYPES.png.mime);
  });

  test('an extension-less name is judged by its MIME type, and its content must match it', async () => {
    const pdfBytes = pdf();
    const ok = await uploadFile(server, token, 'scan', pdfBytes, 'application/pdf');
    assert.equal(ok.status.status, 'ready', JSON.stringify(ok.status));
    await expectStoredObject(server, USER, ok, pdfBytes);
    const bad = await uploadFile(server, token, 'scan', png(), 'application/pdf');
    assert.equal(bad.status.status, 'rejected');
    assert.equal(bad.status.error?.code, 'type_mismatch');
  });
});

describe('initiate refuses what can never be accepted', () => {
  for (const { name, type } of [
    { name: 'setup.exe', type: 'application/x-msdownload' },
    { name: 'notes.txt', type: 'text/plain' },
    { name: 'anim.gif', type: 'image/gif' },
    { name: 'report.pdf.exe', type: 'application/pdf' },
    { name: 'no-extension', type: 'application/octet-stream' },
    { name: 'page.html', type: 'text/html' },
    { name: 'vector.svg', type: 'image/svg+xml' },
  ]) {
    test(`${name} (${type}) gets 415 type_not_allowed`, async () => {
      const res = await client.initiate({ files: [{ name, size: 100, type }] });
      expectError(res, 415, 'type_not_allowed');
      assert.deepEqual((res.body.error?.details as { files: unknown }).files, [{ index: 0, name }]);
    });
  }

  test('one disallowed file refuses the whole session and names the culprit', async () => {
    const res = await client.initiate({
      files: [
        { name: 'a.pdf', size: 100, type: 'application/pdf' },
        { name: 'b.exe', size: 100, type: '' },
      ],
    });
    expectError(res, 415, 'type_not_allowed');
    assert.deepEqual((res.body.error?.details as { files: unknown }).files, [
      { index: 1, name: 'b.exe' },
    ]);
  });

  test('an empty file gets 400 validation_failed', async () => {
    const res = await client.initiate({
      files: [{ name: 'empty.pdf', size: 0, type: 'application/pdf' }],
    });
    expectError(res, 400, 'validation_failed');
    assert.equal((res.body.error?.details as { reason?: string }).reason, 'empty_file');
  });

  test('a file over MAX_FILE_BYTES gets 413 file_too_large, one at the limit is accepted', async () => {
    const over = await client.initiate({
      files: [{ name: 'big.pdf', size: MiB + 1, type: 'application/pdf' }],
    });
    expectError(over, 413, 'file_too_large');
    const at = await client.initiate({
      files: [{ name: 'big.pdf', size: MiB, type: 'application/pdf' }],
    });
    assert.equal(at.status, 201, JSON.stringify(at.body));
    assert.equal(at.body.files[0]?.totalChunks, 4);
  });

  test('files together over MAX_SESSION_BYTES get 413 session_too_large', async () => {
    const res = await client.initiate({
      files: [
        { name: 'a.pdf', size: MiB, type: 'application/pdf' },
        { name: 'b.pdf', size: MiB, type: 'application/pdf' },
        { name: 'c.pdf', size: 1, type: 'application/pdf' },
      ],
    });
    expectError(res, 413, 'session_too_large');
  });

  test('more files than MAX_FILES get 413 too_many_files', async () => {
    const file = { name: 'a.pdf', size: 10, type: 'application/pdf' };
    expectError(await client.initiate({ files: [file, file, file, file] }), 413, 'too_many_files');
    assert.equal((await client.initiate({ files: [file, file, file] })).status, 201);
  });

  test('a refused initiate creates no session and nothing on disk', async () => {
    const before = await listFilesDeep(server.dataDir);
    expectError(
      await client.initiate({ files: [{ name: 'x.exe', size: 10, type: '' }] }),
      415,
      'type_not_allowed',
    );
    const afterwards = await listFilesDeep(server.dataDir);
    assert.deepEqual(
      afterwards.filter((f) => !f.startsWith('sessions.db')),
      before.filter((f) => !f.startsWith('sessions.db')),
    );
  });

  const invalid: Array<{ what: string; body?: unknown; raw?: string; contentType?: string }> = [
    { what: 'a body without files', body: { metadata: {} } },
    { what: 'an empty files list', body: { files: [] } },
    { what: 'files that is not a list', body: { files: { name: 'a.pdf', size: 1, type: '' } } },
    {
      what: 'a negative size',
      body: { files: [{ name: 'a.pdf', size: -1, type: 'application/pdf' }] },
    },
    {
      what: 'a fractional size',
      body: { files: [{ name: 'a.pdf', size: 1.5, type: 'application/pdf' }] },
    },
    {
      what: 'a size given as a string',
      body: { files: [{ name: 'a.pdf', size: '10', type: 'application/pdf' }] },
    },
    { what: 'a missing name', body: { files: [{ size: 10, type: 'application/pdf' }] } },
    { what: 'an empty name', body: { files: [{ name: '', size: 10, type: 'application/pdf' }] } },
    {
      what: 'a name over 1024 characters',
      body: { files: [{ name: `${'a'.repeat(1100)}.pdf`, size: 10, type: '' }] },
    },
    {
      what: 'an upper-case content hash',
      body: { files: [{ name: 'a.pdf', size: 10, type: '', contentHash: 'A'.repeat(64) }] },
    },
    {
      what: 'a short content hash',
      body: { files: [{ name: 'a.pdf', size: 10, type: '', contentHash: 'ab' }] },
    },
    {
      what: 'metadata with a non-string value',
      body: { files: [{ name: 'a.pdf', size: 10, type: '' }], metadata: { n: 1 } },
    },
    {
      what: 'an unknown top-level field',
      body: { files: [{ name: 'a.pdf', size: 10, type: '' }], extra: true },
    },
    { what: 'a JSON array', body: [{ name: 'a.pdf', size: 10, type: '' }] },
    { what: 'JSON null', raw: 'null' },
    { what: 'broken JSON', raw: '{"files": [' },
    { what: 'an empty body', raw: '' },
    {
      what: 'a text/plain body',
      raw: '{"files":[{"name":"a.pdf","size":10,"type":""}]}',
      contentType: 'text/plain',
    },
    { what: 'a form body', raw: 'files=a.pdf', contentType: 'application/x-www-form-urlencoded' },
  ];
  for (const { what, body, raw, contentType } of invalid) {
    test(`${what} gets 400 validation_failed`, async () => {
      const res = await client.initiate(body, {
        ...(raw !== undefined ? { raw } : {}),
        ...(contentType ? { contentType } : {}),
      });
      expectError(res, 400, 'validation_failed');
    });
  }

  test('a body over the JSON limit is refused with a protocol error, not a crash', async () => {
    const files = Array.from({ length: 3 }, () => ({
      name: `${'n'.repeat(1000)}.pdf`,
      size: 1,
      type: '',
    }));
    const res = await client.initiate({
      files,
      metadata: { big: 'x'.repeat(1000) },
      pad: 'p'.repeat(300_000),
    });
    assert.ok(res.status === 400 || res.status === 413, `status ${res.status}`);
    assert.ok(res.body.error?.code, JSON.stringify(res.body));
  });
});

describe('unknown routes and methods', () => {
  test('an unknown API route is 404 not_found and a wrong method on a known one is 405', async () => {
    const auth = { Authorization: `Bearer ${token}` };
    const unknown = await request(`${server.url}/api/v1/upload/nothing/here`, { headers: auth });
    expectError(unknown, 404, 'not_found');
    const wrong = await request(`${server.url}/api/v1/upload/initiate`, {
      method: 'PUT',
      headers: auth,
    });
    expectError(wrong, 405, 'method_not_allowed');
  });
});

describe('type limits of a narrower allow-list', () => {
  let narrow: TestServer;
  before(async () => {
    narrow = await startTestServer({ ALLOWED_TYPES: 'pdf,image/png' });
  });
  after(async () => {
    await narrow.stop();
  });

  test('ALLOWED_TYPES=pdf,image/png accepts PDF and PNG and refuses DOCX and JPEG at initiate', async () => {
    const narrowClient = api(narrow, await narrow.token(USER));
    for (const name of ['a.docx', 'b.jpg']) {
      expectError(
        await narrowClient.initiate({ files: [{ name, size: 10, type: '' }] }),
        415,
        'type_not_allowed',
      );
    }
    const pdfBytes = pdf();
    const okPdf = await uploadFile(narrow, await narrow.token(USER), 'a.pdf', pdfBytes, '');
    assert.equal(okPdf.status.status, 'ready');
    await expectStoredObject(narrow, USER, okPdf, pdfBytes);
    const pngBytes = padTo(png(), 1000);
    const okPng = await uploadFile(narrow, await narrow.token(USER), 'a.png', pngBytes, '');
    assert.equal(okPng.status.status, 'ready');
    await expectStoredObject(narrow, USER, okPng, pngBytes);
  });
});
