import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import fc from 'fast-check';
import { catalogs, objectHeaders } from './pdf-recovery.js';

/** The patterns as regular expressions over Latin-1 text: what the byte scanners must find. */
const OBJECT_HEADER = /(?<!\d)(\d{1,10})[\0\t\n\f\r ]+(\d{1,5})[\0\t\n\f\r ]+obj\b/g;
const CATALOG = /\/Type\s*\/Catalog\b/g;

/** Text made of the pieces headers are made of, so near-misses of every kind come up. */
const pdfish = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        'obj',
        ' ',
        '\n',
        '\r\n',
        '\0',
        '\t',
        '/Type',
        '/Catalog',
        'x',
        '_',
        'endobj',
      ),
      fc.stringMatching(/^\d{1,12}$/),
    ),
    { maxLength: 40 },
  )
  .map((parts) => Buffer.from(parts.join(''), 'latin1'));

test('the byte scan finds the object headers the regular expression finds', () => {
  fc.assert(
    fc.property(pdfish, (text) => {
      const expected = [...text.toString('latin1').matchAll(OBJECT_HEADER)].map((m) => ({
        num: Number(m[1]),
        at: m.index,
      }));
      assert.deepEqual(objectHeaders(text), expected);
    }),
    { numRuns: 2000 },
  );
});

test('the byte scan finds /Type /Catalog where the regular expression does', () => {
  fc.assert(
    fc.property(pdfish, (text) => {
      const expected = [...text.toString('latin1').matchAll(CATALOG)].map((m) => m.index);
      assert.deepEqual(catalogs(text), expected);
    }),
    { numRuns: 2000 },
  );
});

test('headers in real syntax', () => {
  const text = Buffer.from(
    '%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n12 3 obj 4 0 obj9 0 object',
  );
  assert.deepEqual(objectHeaders(text), [
    { num: 1, at: 9 },
    { num: 12, at: 45 }, // `4 0 obj9` is no header: a word character follows
  ]);
  assert.deepEqual(catalogs(text), [20]);
});
