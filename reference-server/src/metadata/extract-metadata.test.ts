import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CAMERA_EXIF,
  docxWithProperties,
  jpegWithExif,
  oleDocument,
  pdfWithInfo,
  pngWithExif,
  readerOf,
  xlsxWithSheets,
} from '../../test/fixtures/metadata-fixtures.js';
import { extractMetadata } from './extract-metadata.js';

describe('extractMetadata', () => {
  it('describes every supported type from real bytes', async () => {
    const samples = [
      ['png', pngWithExif(2, 2, CAMERA_EXIF), { width: 2, height: 2 }],
      ['jpg', jpegWithExif(CAMERA_EXIF), { width: 8, height: 8 }],
      ['pdf', pdfWithInfo(2, { title: 'T', author: 'A' }), { pages: 2, title: 'T', author: 'A' }],
      ['docx', docxWithProperties({ title: 'T', creator: 'A' }), { title: 'T', author: 'A' }],
      ['xlsx', xlsxWithSheets(['a', 'b'], { title: 'T' }), { title: 'T', sheets: 2 }],
      ['doc', oleDocument('doc', { title: 'T', author: 'A' }), { title: 'T', author: 'A' }],
      ['xls', oleDocument('xls', { title: 'T', author: 'A' }), { title: 'T', author: 'A' }],
    ] as const;
    for (const [type, file, expected] of samples) {
      const result = await extractMetadata(readerOf(file), file.length, type, { keepGps: false });
      assert.equal(result.metadata.fileType, type);
      assert.equal(result.partial, false, type);
      for (const [key, value] of Object.entries(expected)) {
        assert.equal(
          (result.metadata as unknown as Record<string, unknown>)[key],
          value,
          `${type}.${key}`,
        );
      }
      assert.ok(result.bytesRead <= file.length, type);
    }
  });

  it('passes a storage failure on as a rejection, not as partial metadata', async () => {
    const failure = new Error('disk unplugged');
    await assert.rejects(
      extractMetadata(() => Promise.reject(failure), 5000, 'pdf', { keepGps: false }),
      (error) => error === failure,
    );
  });

  it('ends with a timeout warning when storage stops answering', async () => {
    // The first block (the header) arrives; the read of the tail never does.
    const file = Buffer.concat([pdfWithInfo(2, { title: 'T' }), Buffer.alloc(1024 * 1024)]);
    const result = await extractMetadata(
      (start, end) => (start === 0 ? readerOf(file)(start, end) : new Promise<Buffer>(() => {})),
      file.length,
      'pdf',
      { keepGps: false, timeoutMs: 50 },
    );
    assert.equal(result.partial, true);
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['timeout'],
    );
    assert.deepEqual(result.metadata, { fileType: 'pdf', version: '1.7' });
  });

  it('rejects with the abort reason when the caller cancels', async () => {
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = extractMetadata(
      () => {
        controller.abort(reason);
        return new Promise<Buffer>(() => {});
      },
      5000,
      'doc',
      { keepGps: false, signal: controller.signal },
    );
    await assert.rejects(pending, (error) => error === reason);
  });

  it('reports an empty file as malformed', async () => {
    const result = await extractMetadata(readerOf(Buffer.alloc(0)), 0, 'png', { keepGps: false });
    assert.deepEqual(result.metadata, { fileType: 'png' });
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['malformed'],
    );
    assert.equal(result.bytesRead, 0);
  });

  it('never reads past the byte budget', async () => {
    const file = jpegWithExif(CAMERA_EXIF, 60_000);
    const result = await extractMetadata(readerOf(file), file.length, 'jpg', {
      keepGps: false,
      maxBytes: 16 * 1024,
    });
    assert.equal(result.partial, true);
    assert.equal(result.warnings[0]?.code, 'limit');
    assert.ok(result.bytesRead <= 16 * 1024);
    assert.equal(result.metadata.fileType === 'jpg' && result.metadata.exif, undefined);
  });
});
