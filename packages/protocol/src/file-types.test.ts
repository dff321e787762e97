import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import {
  claimedType,
  extensionOf,
  resolveFileType,
  sniffContainer,
  typesForHead,
} from '@file-uploader/protocol';

const bytes = (...values: number[]) => Uint8Array.from(values);

test('first bytes map to container families and candidate types', () => {
  assert.equal(sniffContainer(new TextEncoder().encode('%PDF-1.7')), 'pdf');
  assert.equal(sniffContainer(bytes(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)), 'png');
  assert.equal(sniffContainer(bytes(0xff, 0xd8, 0xff, 0xe0)), 'jpeg');
  assert.deepEqual(typesForHead(bytes(0x50, 0x4b, 0x03, 0x04)), ['docx', 'xlsx']);
  assert.deepEqual(typesForHead(bytes(0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1)), [
    'doc',
    'xls',
  ]);
  assert.deepEqual(typesForHead(new TextEncoder().encode('MZ\x90\x00')), []);
  assert.deepEqual(typesForHead(new Uint8Array()), []);
});

test('claimed type comes from the extension first, then the MIME type', () => {
  assert.equal(extensionOf('a/b.c/Report.PDF'), '.pdf');
  assert.equal(extensionOf('.hidden'), '.hidden');
  assert.equal(extensionOf('README'), '');
  assert.equal(claimedType('.exe', 'application/pdf'), undefined);
  assert.equal(claimedType('photo.JPEG', 'application/octet-stream'), 'jpg');
  assert.equal(claimedType('scan', 'application/pdf'), 'pdf');
  assert.equal(claimedType('run.exe', 'application/pdf'), undefined);
  assert.equal(resolveFileType('application/msword'), 'doc');
  assert.equal(resolveFileType('.xlsx'), 'xlsx');
  assert.equal(resolveFileType('JPEG'), 'jpg');
  assert.equal(resolveFileType('gif'), undefined);
});
