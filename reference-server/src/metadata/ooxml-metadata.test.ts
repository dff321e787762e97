import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { docx, xlsx, zipArchive } from '../../test/fixtures.js';
import {
  coreXml,
  docxWithProperties,
  noise,
  readerOf,
  xlsxWithSheets,
  zipBombDocx,
} from '../../test/fixtures/metadata-fixtures.js';
import { extractMetadata } from './extract-metadata.js';
import type { ExtractMetadataOptions } from './extract-metadata.js';
import { w3cDate } from './ooxml-metadata.js';

const extract = (
  file: Buffer,
  type: 'docx' | 'xlsx',
  options: Partial<ExtractMetadataOptions> = {},
) => extractMetadata(readerOf(file), file.length, type, { keepGps: false, ...options });

const PROPS = {
  title: 'Terms & <Conditions>',
  subject: 'Contracts',
  creator: 'Ann Smith',
  keywords: 'legal; draft',
  description: 'Second draft',
  lastModifiedBy: 'Bob',
  created: '2024-01-02T03:04:05Z',
  modified: '2024-02-03T04:05:06.123+01:00',
};

describe('DOCX and XLSX metadata', () => {
  it('reads DOCX core properties and the application', async () => {
    const result = await extract(docxWithProperties(PROPS), 'docx');
    assert.deepEqual(result, {
      metadata: {
        fileType: 'docx',
        title: 'Terms & <Conditions>',
        subject: 'Contracts',
        author: 'Ann Smith',
        keywords: 'legal; draft',
        description: 'Second draft',
        lastModifiedBy: 'Bob',
        created: '2024-01-02T03:04:05Z',
        modified: '2024-02-03T04:05:06+01:00',
        application: 'Microsoft Office Word',
      },
      partial: false,
      warnings: [],
      bytesRead: result.bytesRead,
      bytesInflated: result.bytesInflated,
    });
  });

  it('counts the sheets of an XLSX', async () => {
    const result = await extract(xlsxWithSheets(['Q1', 'Q2', 'Q3'], { title: 'Budget' }), 'xlsx');
    assert.deepEqual(result.metadata, {
      fileType: 'xlsx',
      title: 'Budget',
      application: 'Microsoft Excel',
      sheets: 3,
    });
    assert.equal(result.partial, false);
  });

  it('reads the shared DOCX and XLSX fixtures', async () => {
    assert.deepEqual((await extract(docx(), 'docx')).metadata, {
      fileType: 'docx',
      title: 'Sample',
    });
    assert.deepEqual((await extract(xlsx(), 'xlsx')).metadata, {
      fileType: 'xlsx',
      title: 'Sample',
      sheets: 1,
    });
  });

  it('skips entry data it does not need, however large', async () => {
    const result = await extract(xlsx({ size: 30 * 1024 * 1024 }), 'xlsx');
    assert.equal(result.metadata.fileType === 'xlsx' && result.metadata.sheets, 1);
    assert.ok(result.bytesRead <= 160 * 1024, `read ${result.bytesRead} bytes`);
  });

  it('refuses a zip bomb that states its size without inflating it', async () => {
    const result = await extract(zipBombDocx(50 * 1024 * 1024, false), 'docx');
    assert.equal(result.partial, true);
    assert.equal(result.warnings[0]?.code, 'limit');
    assert.ok(result.bytesInflated < 4096, `inflated ${result.bytesInflated}`);
    // The other parts are still read.
    assert.deepEqual(result.metadata, { fileType: 'docx', application: 'Microsoft Office Word' });
  });

  it('caps the inflate of a zip bomb that lies about its size', async () => {
    const result = await extract(zipBombDocx(50 * 1024 * 1024, true), 'docx');
    assert.equal(result.partial, true);
    assert.equal(result.warnings[0]?.code, 'limit');
    // One part of at most 1 MiB, plus the small relationship and app parts.
    assert.ok(result.bytesInflated <= 1024 * 1024 + 4096, `inflated ${result.bytesInflated}`);
    assert.equal(result.metadata.fileType === 'docx' && result.metadata.title, undefined);
  });

  it('honours the file-wide inflate budget', async () => {
    const result = await extract(zipBombDocx(50 * 1024 * 1024, true), 'docx', {
      maxInflatedBytes: 64 * 1024,
    });
    assert.equal(result.partial, true);
    assert.ok(result.bytesInflated <= 64 * 1024, `inflated ${result.bytesInflated}`);
  });

  it('ends a truncated archive with an error result', async () => {
    const file = docxWithProperties(PROPS);
    const result = await extract(file.subarray(0, file.length - 40), 'docx');
    assert.equal(result.partial, true);
    assert.equal(result.warnings[0]?.code, 'malformed');
    assert.deepEqual(result.metadata, { fileType: 'docx' });
  });

  it('ends random bytes behind a ZIP signature within the read cap', async () => {
    const file = Buffer.concat([Buffer.from('PK\x03\x04'), noise(1_000_000, 5)]);
    const result = await extract(file, 'xlsx', { maxBytes: 128 * 1024 });
    assert.equal(result.partial, true);
    assert.ok(result.bytesRead <= 128 * 1024);
  });

  it('reports an encrypted part as unsupported', async () => {
    const file = zipArchive([
      { name: '[Content_Types].xml', data: '<Types/>' },
      { name: 'docProps/core.xml', data: coreXml({ title: 'Secret' }) },
    ]);
    const name = Buffer.from('docProps/core.xml');
    for (let at = file.indexOf(name); at >= 0; at = file.indexOf(name, at + 1)) {
      if (file.readUInt32LE(at - 46) === 0x02014b50) file.writeUInt16LE(0x0801, at - 46 + 8);
    }
    const result = await extract(file, 'docx');
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['unsupported'],
    );
  });

  it('parses W3CDTF dates', () => {
    assert.equal(w3cDate('2024-01-02T03:04:05Z'), '2024-01-02T03:04:05Z');
    assert.equal(w3cDate('2024-01-02'), '2024-01-02T00:00:00');
    assert.equal(w3cDate(' 2024-01-02T03:04-05:00 '), '2024-01-02T03:04:00-05:00');
    assert.equal(w3cDate('2024-02-30T00:00:00Z'), undefined);
    assert.equal(w3cDate('soon'), undefined);
  });
});
