import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { doc, xls } from '../../test/fixtures.js';
import {
  compoundFile,
  noise,
  oleDocument,
  readerOf,
  summaryInformation,
} from '../../test/fixtures/metadata-fixtures.js';
import { extractMetadata } from './extract-metadata.js';
import { summaryProperties } from './ole-metadata.js';

const extract = (file: Buffer, type: 'doc' | 'xls', maxBytes?: number) =>
  extractMetadata(readerOf(file), file.length, type, { keepGps: false, maxBytes });

const SUMMARY = {
  title: 'Mémo interne',
  subject: 'Budget',
  author: 'Zoé Martin',
  keywords: 'finance',
  comments: 'Draft',
  lastAuthor: 'Luc',
  appName: 'Microsoft Office Word',
  created: new Date('2024-03-04T05:06:07Z'),
  saved: new Date('2024-03-05T06:07:08Z'),
};

describe('DOC and XLS metadata', () => {
  it('reads summary information of a .doc from the mini stream', async () => {
    const result = await extract(oleDocument('doc', SUMMARY), 'doc');
    assert.deepEqual(result.metadata, {
      fileType: 'doc',
      title: 'Mémo interne',
      subject: 'Budget',
      author: 'Zoé Martin',
      keywords: 'finance',
      description: 'Draft',
      lastModifiedBy: 'Luc',
      created: '2024-03-04T05:06:07Z',
      modified: '2024-03-05T06:07:08Z',
      application: 'Microsoft Office Word',
    });
    assert.equal(result.partial, false);
  });

  it('reads summary information of an .xls', async () => {
    const result = await extract(oleDocument('xls', { title: 'Q1', author: 'Excel user' }), 'xls');
    assert.deepEqual(result.metadata, { fileType: 'xls', title: 'Q1', author: 'Excel user' });
  });

  it('reads a summary stream stored in regular sectors', async () => {
    const padded = Buffer.concat([summaryInformation({ title: 'Big' }), Buffer.alloc(5000)]);
    const file = compoundFile([
      { name: 'WordDocument', data: Buffer.alloc(4096) },
      { name: '\u0005SummaryInformation', data: padded },
    ]);
    assert.deepEqual((await extract(file, 'doc')).metadata, { fileType: 'doc', title: 'Big' });
  });

  it('reports nothing, completely, for files without summary information', async () => {
    assert.deepEqual(await extract(doc(), 'doc').then((r) => [r.metadata, r.partial]), [
      { fileType: 'doc' },
      false,
    ]);
    assert.deepEqual(await extract(xls(), 'xls').then((r) => [r.metadata, r.partial]), [
      { fileType: 'xls' },
      false,
    ]);
  });

  it('ends a truncated compound file with an error result', async () => {
    const file = oleDocument('doc', SUMMARY);
    const result = await extract(file.subarray(0, 1024), 'doc');
    assert.equal(result.partial, true);
    assert.equal(result.warnings[0]?.code, 'malformed');
  });

  it('ends a sector chain that loops back on itself', async () => {
    const file = oleDocument('doc', SUMMARY);
    // The directory starts at sector 1; make its FAT entry point back at itself.
    file.writeUInt32LE(1, 512 + 4);
    const result = await extract(file, 'doc');
    assert.equal(result.partial, true);
    assert.match(result.warnings[0]?.message ?? '', /repeated OLE2 sector/);
  });

  it('ends random bytes behind an OLE2 signature within the read cap', async () => {
    const header = Buffer.from('d0cf11e0a1b11ae1', 'hex');
    const file = Buffer.concat([header, noise(2_000_000, 9)]);
    const result = await extract(file, 'xls', 64 * 1024);
    assert.equal(result.partial, true);
    assert.ok(result.bytesRead <= 64 * 1024);
  });

  it('rejects a property set whose offsets point outside the stream', () => {
    const stream = summaryInformation({ title: 'x' });
    stream.writeUInt32LE(0xfffffff0, 48 + 8 + 4); // first property's offset
    assert.throws(() => summaryProperties(stream), /truncated/);
  });
});
