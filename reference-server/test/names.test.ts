import { strict as assert } from 'node:assert';
import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  expectDownload,
  expectStoredObject,
  listFilesDeep,
  startTestServer,
  tempDir,
  uploadFile,
  type TestServer,
} from './harness.js';

const USER = 'namer';
let root: string;
let server: TestServer;
let token: string;

before(async () => {
  // DATA_DIR sits one level below a private root, so anything written "outside" it would show
  // up in the root (a traversal would have to climb out of blobs/objects/<user>/<session>/ first).
  root = await tempDir('fu-names-');
  const dataDir = path.join(root, 'data');
  await mkdir(dataDir);
  server = await startTestServer({}, { dataDir });
  token = await server.token(USER);
});

after(async () => {
  await server.stop();
});

/** A two-chunk PDF, so names travel through a real multi-chunk upload. */
function sample(): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(300 * 1024 - head.length)]);
}

/** Characters a stored name or download name must never contain. */
// eslint-disable-next-line no-control-regex -- control characters are the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f/\\\u202a-\u202e\u2066-\u2069]/u;

/** RFC 8187 attr-char: what may appear unencoded in `filename*=UTF-8''…`. */
const ATTR_CHARS = /^(?:[A-Za-z0-9!#$&+\-.^_`|~]|%[0-9A-F]{2})*$/;

const NAMES: Array<{ what: string; name: string; expected?: string }> = [
  { what: 'a relative path climbing out', name: '../../etc/passwd.pdf', expected: 'passwd.pdf' },
  { what: 'an absolute path', name: '/etc/shadow.pdf', expected: 'shadow.pdf' },
  { what: 'a Windows path climbing out', name: '..\\..\\x.pdf', expected: 'x.pdf' },
  { what: 'a NUL byte', name: 'a\u0000b.pdf', expected: 'ab.pdf' },
  {
    what: 'control characters, DEL and C1 controls',
    name: '\u0001bad\u001b[31m\u007fname\u0085.pdf',
    expected: 'bad[31mname.pdf',
  },
  {
    what: 'tabs and line breaks',
    name: 'line\r\nbreak\tname.pdf',
    expected: 'line break name.pdf',
  },
  {
    what: 'a right-to-left override disguising the extension',
    name: 'report\u202egnp.pdf',
    expected: 'reportgnp.pdf',
  },
  {
    what: 'unicode letters and an emoji',
    name: 'Résumé 履歴書 😀.pdf',
    expected: 'Résumé 履歴書 😀.pdf',
  },
  {
    what: 'decomposed accents (normalised to NFC)',
    name: 'Re\u0301sume\u0301.pdf',
    expected: 'Résumé.pdf',
  },
  { what: 'a 300-character name', name: `${'a'.repeat(296)}.pdf` },
  { what: 'a 300-character name of 3-byte characters', name: `${'履'.repeat(296)}.pdf` },
  {
    what: 'characters Windows forbids',
    name: 'a<b>c:d"e|f?g*h.pdf',
    expected: 'a_b_c_d_e_f_g_h.pdf',
  },
  { what: 'a reserved device name', name: 'CON.pdf', expected: '_CON.pdf' },
  { what: 'only an extension', name: '.pdf', expected: 'file.pdf' },
  {
    what: 'leading dots and spaces',
    name: '. . .hidden report.pdf',
    expected: 'hidden report.pdf',
  },
  { what: 'quotes, percent signs and parentheses', name: "O'Brien (100%) draft;v=2.pdf" },
];

for (const { what, name, expected } of NAMES) {
  test(`a name with ${what} is stored safely inside the user's session folder and downloads with a sane Content-Disposition`, async () => {
    const bytes = sample();
    const result = await uploadFile(server, token, name, bytes, 'application/pdf');
    assert.equal(result.status.status, 'ready', JSON.stringify(result.status));
    const stored = result.initiated.files[0]?.name ?? '';
    assert.equal(result.status.name, stored, 'GET /status shows the stored name');
    if (expected !== undefined) assert.equal(stored, expected);

    // The stored name: one safe path segment of at most 255 bytes, keeping the extension.
    assert.doesNotMatch(stored, UNSAFE);
    assert.ok(stored.length > 0 && stored !== '.' && stored !== '..');
    assert.ok(Buffer.byteLength(stored, 'utf8') <= 255, `${Buffer.byteLength(stored)} bytes`);
    assert.ok(stored.endsWith('.pdf'), stored);
    assert.equal(stored, stored.normalize('NFC'));

    // The object is exactly at objects/<user>/<session>/<timestamp>-<fileId>/<name>.
    const object = await expectStoredObject(server, USER, result, bytes);
    const segments = object.key.split('/');
    assert.equal(segments.length, 4, object.key);
    assert.equal(segments[0], USER);
    assert.equal(segments[1], result.sessionId);
    assert.match(segments[2] ?? '', new RegExp(`^\\d+-${result.fileId}$`));
    assert.equal(segments[3], stored);

    // Nothing was written anywhere else.
    assert.deepEqual(await readdir(root), ['data']);
    const everything = await listFilesDeep(root);
    const unexpected = everything.filter(
      (f) =>
        !/^data\/sessions\.db(-wal|-shm|-journal)?$/.test(f) &&
        !f.startsWith(`data/blobs/objects/${USER}/`),
    );
    assert.deepEqual(unexpected, []);
    assert.equal(existsSync('/etc/passwd.pdf'), false);
    assert.equal(existsSync('/etc/shadow.pdf'), false);

    // The download is an attachment whose names are well-formed and decode to the stored name.
    const download = await expectDownload(api(server, token), result.fileId, bytes);
    const disposition = download.headers.get('content-disposition') ?? '';
    const match = /^attachment; filename="([^"]*)"; filename\*=UTF-8''(\S+)$/.exec(disposition);
    assert.ok(match, `Content-Disposition is well-formed: ${disposition}`);
    const [, ascii = '', encoded = ''] = match;
    assert.match(ascii, /^[\x20-\x7e]*$/, 'the fallback name is printable ASCII');
    assert.doesNotMatch(ascii, /["\\]/);
    assert.match(encoded, ATTR_CHARS, `filename* uses only RFC 8187 attr-chars: ${encoded}`);
    assert.equal(decodeURIComponent(encoded), stored);
  });
}

test('two uploads with the same name in one session do not overwrite each other', async () => {
  const client = api(server, token);
  const a = sample();
  const b = sample();
  const init = await client.initiate({
    files: [
      { name: 'same.pdf', size: a.length, type: 'application/pdf' },
      { name: '../same.pdf', size: b.length, type: 'application/pdf' },
    ],
  });
  assert.equal(init.status, 201);
  const [fa, fb] = init.body.files;
  assert.ok(fa && fb);
  assert.equal(fa.name, fb.name);
  for (const [file, bytes] of [
    [fa, a],
    [fb, b],
  ] as const) {
    const ids = { sessionId: init.body.sessionId, fileId: file.fileId };
    for (let i = 0; i < file.totalChunks; i++) {
      assert.equal((await client.chunk({ ...chunkOf(ids, bytes, i), digest: true })).status, 200);
    }
  }
  await expectStoredObject(server, USER, { sessionId: init.body.sessionId, fileId: fa.fileId }, a);
  await expectStoredObject(server, USER, { sessionId: init.body.sessionId, fileId: fb.fileId }, b);
  await expectDownload(client, fa.fileId, a);
  await expectDownload(client, fb.fileId, b);
});
