import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pdf } from '../../test/fixtures.js';
import {
  appendUpdate,
  deeplyNestedPdf,
  infoDictionary,
  noise,
  pdfFromObjects,
  pdfWithInfo,
  pdfWithXrefStream,
  readerOf,
  referenceLoopPdf,
} from '../../test/fixtures/metadata-fixtures.js';
import { extractMetadata } from './extract-metadata.js';
import type { ExtractMetadataOptions } from './extract-metadata.js';
import { decodeText, pdfDate } from './pdf-metadata.js';

const extract = (file: Buffer, options: Partial<ExtractMetadataOptions> = {}) =>
  extractMetadata(readerOf(file), file.length, 'pdf', { keepGps: false, ...options });

const INFO = {
  title: 'Quarterly (report) \\ 2024',
  author: 'Ada Lovelace',
  subject: 'Numbers',
  creator: 'Writer',
  producer: 'PDF Maker 1.0',
  creationDate: "D:20240501102030+02'00'",
};

describe('PDF metadata', () => {
  it('reads pages and document information through a cross-reference table', async () => {
    const result = await extract(pdfWithInfo(3, INFO));
    assert.deepEqual(result.metadata, {
      fileType: 'pdf',
      version: '1.7',
      encrypted: false,
      pages: 3,
      title: 'Quarterly (report) \\ 2024',
      author: 'Ada Lovelace',
      subject: 'Numbers',
      creator: 'Writer',
      producer: 'PDF Maker 1.0',
      created: '2024-05-01T10:20:30+02:00',
    });
    assert.equal(result.partial, false);
  });

  it('reads the shared one-page fixture', async () => {
    const result = await extract(pdf());
    assert.deepEqual(result.metadata, {
      fileType: 'pdf',
      version: '1.4',
      encrypted: false,
      pages: 1,
    });
  });

  it('follows an incremental update to the newest /Info', async () => {
    const base = pdfWithInfo(2, { title: 'Draft', author: 'Ada' });
    const updated = appendUpdate(
      base,
      new Map([[6, infoDictionary({ title: 'Final', author: 'Ada' })]]),
      '/Root 1 0 R /Info 6 0 R',
    );
    const result = await extract(updated);
    assert.equal(result.partial, false);
    assert.deepEqual(result.metadata, {
      fileType: 'pdf',
      version: '1.7',
      encrypted: false,
      pages: 2,
      title: 'Final',
      author: 'Ada',
    });
  });

  it('takes a page tree replaced by an update from the newest section', async () => {
    const base = pdfWithInfo(2, { title: 'Two pages' });
    const updated = appendUpdate(
      base,
      new Map([
        [2, '<< /Type /Pages /Kids [3 0 R 4 0 R 6 0 R] /Count 3 >>'],
        [6, '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>'],
      ]),
      '/Root 1 0 R /Info 5 0 R',
    );
    const result = await extract(updated);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.pages, 3);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.title, 'Two pages');
  });

  it('reads cross-reference streams and objects inside object streams', async () => {
    const result = await extract(pdfWithXrefStream(4, { unicodeTitle: 'Résumé ✓', author: 'Bob' }));
    assert.deepEqual(result.metadata, {
      fileType: 'pdf',
      version: '1.7',
      encrypted: false,
      pages: 4,
      title: 'Résumé ✓',
      author: 'Bob',
    });
    assert.equal(result.partial, false);
    assert.ok(result.bytesInflated > 0);
  });

  it('follows /XRefStm from a classic trailer (hybrid files)', async () => {
    const modern = pdfWithXrefStream(2, { title: 'Hybrid' });
    const text = modern.toString('latin1');
    const xrefStream = /startxref\n(\d+)/.exec(text)?.[1];
    const infoRef = /\/Info (\d+ 0 R)/.exec(text)?.[1];
    // A table that lists nothing but object 0 leaves every lookup to the stream it names.
    const table =
      'xref\n0 1\n0000000000 65535 f \n' +
      `trailer\n<< /Size 9 /Root 1 0 R /Info ${infoRef} /XRefStm ${xrefStream} >>\n` +
      `startxref\n${modern.length}\n%%EOF\n`;
    const result = await extract(Buffer.concat([modern, Buffer.from(table, 'latin1')]));
    assert.equal(result.partial, false);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.pages, 2);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.title, 'Hybrid');
  });

  it('reads only the tail and a few objects of a large file', async () => {
    const file = pdf({ size: 20 * 1024 * 1024 });
    const result = await extract(file);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.pages, 1);
    assert.ok(result.bytesRead <= 64 * 1024, `read ${result.bytesRead} bytes`);
  });

  it('recovers pages from a truncated file by scanning, marked partial', async () => {
    const file = pdfWithInfo(5, INFO);
    const cut = file.subarray(0, file.indexOf('xref'));
    const result = await extract(cut);
    assert.equal(result.partial, true);
    assert.equal(result.warnings[0]?.code, 'malformed');
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.pages, 5);
  });

  it('recovers when startxref points at the wrong bytes', async () => {
    const file = pdfWithInfo(2, INFO).toString('latin1');
    const broken = Buffer.from(file.replace(/startxref\n\d+/, 'startxref\n20'), 'latin1');
    const result = await extract(broken);
    assert.equal(result.partial, true);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.pages, 2);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.title, INFO.title);
  });

  it('stops at the nesting limit on deeply nested arrays', async () => {
    const result = await extract(deeplyNestedPdf(100_000));
    assert.equal(result.partial, true);
    assert.ok(result.warnings.some((w) => w.code === 'limit'));
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.pages, undefined);
  });

  it('ends reference loops with a limit warning', async () => {
    const result = await extract(referenceLoopPdf());
    assert.equal(result.partial, true);
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['limit', 'limit'],
    );
  });

  it('ignores a /Prev chain that loops back on itself', async () => {
    const file = pdfWithInfo(2, INFO).toString('latin1');
    const xref = /startxref\n(\d+)/.exec(file)?.[1];
    const looped = Buffer.from(file.replace('<< /Size', `<< /Prev ${xref} /Size`), 'latin1');
    const result = await extract(looped);
    assert.equal(result.partial, false);
    assert.equal(result.metadata.fileType === 'pdf' && result.metadata.pages, 2);
  });

  it('reports an encrypted file as such, with its page count', async () => {
    const file = pdfFromObjects(
      [
        '<< /Type /Catalog /Pages 2 0 R >>',
        '<< /Type /Pages /Kids [] /Count 7 >>',
        '<< /Title <8f2a91> >>',
        '<< /Filter /Standard /V 2 /R 3 /Length 128 /P -4 /O <00> /U <00> >>',
      ],
      '/Root 1 0 R /Info 3 0 R /Encrypt 4 0 R',
    );
    const result = await extract(file);
    assert.deepEqual(result.metadata, {
      fileType: 'pdf',
      version: '1.7',
      encrypted: true,
      pages: 7,
    });
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['unsupported'],
    );
  });

  it('stops scanning random bytes behind a PDF header at the read cap', async () => {
    const file = Buffer.concat([Buffer.from('%PDF-1.7\n'), noise(3 * 1024 * 1024, 11)]);
    const maxBytes = 1024 * 1024;
    const result = await extract(file, { maxBytes });
    assert.equal(result.partial, true);
    assert.ok(result.warnings.some((w) => w.code === 'limit'));
    assert.ok(result.bytesRead <= maxBytes, `read ${result.bytesRead}`);
    assert.deepEqual(result.metadata, { fileType: 'pdf', version: '1.7' });
  });

  it('caps a Flate stream that inflates far beyond its size', async () => {
    // A cross-reference stream of zeros (a flate bomb) in place of the real one.
    const { deflateSync } = await import('node:zlib');
    const bomb = deflateSync(Buffer.alloc(64 * 1024 * 1024));
    const head = Buffer.from(
      `%PDF-1.7\n1 0 obj\n<< /Type /XRef /Size 2 /W [1 4 2] /Root 1 0 R /Filter /FlateDecode /Length ${bomb.length} >>\nstream\n`,
      'latin1',
    );
    const file = Buffer.concat([
      head,
      bomb,
      Buffer.from('\nendstream\nendobj\nstartxref\n9\n%%EOF\n'),
    ]);
    const maxInflatedBytes = 4 * 1024 * 1024;
    const result = await extract(file, { maxInflatedBytes });
    assert.equal(result.partial, true);
    assert.ok(result.warnings.some((w) => w.code === 'limit'));
    assert.ok(result.bytesInflated <= maxInflatedBytes, `inflated ${result.bytesInflated}`);
  });
});

describe('PDF text and dates', () => {
  it('decodes UTF-16BE, UTF-8 and PDFDocEncoding strings', () => {
    assert.equal(decodeText(Buffer.from('feff00e9263a', 'hex')), 'é☺');
    assert.equal(decodeText(Buffer.from('efbbbfc3a9', 'hex')), 'é');
    assert.equal(decodeText(Buffer.from([0x93, 0xe9, 0x84])), '\ufb01é\u2014');
  });

  it('parses PDF dates with and without zones', () => {
    assert.equal(pdfDate("D:20240501102030+02'00'"), '2024-05-01T10:20:30+02:00');
    assert.equal(pdfDate('D:20240501102030Z'), '2024-05-01T10:20:30Z');
    assert.equal(pdfDate('D:2024'), '2024-01-01T00:00:00');
    assert.equal(pdfDate("D:20241301102030-05'30"), undefined);
    assert.equal(pdfDate('yesterday'), undefined);
  });
});
