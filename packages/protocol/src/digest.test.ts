import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  formatContentDigest,
  parseContentDigest,
  formatContentRange,
  parseContentRange,
} from '@file-uploader/protocol';

test('Content-Digest round-trips a SHA-256 and matches RFC 9530 form', () => {
  const digest = createHash('sha256').update('hello').digest();
  const header = formatContentDigest(digest);
  assert.equal(header, `sha-256=:${digest.toString('base64')}:`);
  assert.deepEqual(Buffer.from(parseContentDigest(header) ?? []), digest);
});

test('Content-Digest picks sha-256 among other algorithms and rejects malformed values', () => {
  const digest = createHash('sha256').update('x').digest();
  const header = `sha-512=:AAAA:, sha-256=:${digest.toString('base64')}:`;
  assert.deepEqual(Buffer.from(parseContentDigest(header) ?? []), digest);
  assert.equal(parseContentDigest('md5=:AAAA:'), null);
  assert.throws(() => parseContentDigest('sha-256=:bm90IDMyIGJ5dGVz:'), TypeError);
  assert.throws(() => parseContentDigest('sha-256=abc'), TypeError);
});

test('Content-Range parses only consistent byte ranges', () => {
  assert.deepEqual(parseContentRange('bytes 0-9/10'), { start: 0, end: 9, size: 10 });
  assert.equal(formatContentRange({ start: 5, end: 9, size: 10 }), 'bytes 5-9/10');
  for (const bad of [
    'bytes 5-4/10',
    'bytes 0-10/10',
    'bytes -1-3/10',
    'bytes 0-3/*',
    'items 0-3/10',
    'bytes 0-3',
  ]) {
    assert.equal(parseContentRange(bad), null, bad);
  }
});
