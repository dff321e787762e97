import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_METADATA_TEXT } from '@file-uploader/protocol';
import type { FileTypeId } from '@file-uploader/protocol';
import {
  CAMERA_EXIF,
  docxWithProperties,
  jpegWithExif,
  oleDocument,
  pdfWithInfo,
  pdfWithXrefStream,
  pngWithExif,
  readerOf,
  xlsxWithSheets,
} from '../../test/fixtures/metadata-fixtures.js';
import { extractMetadata } from './extract-metadata.js';

const SAMPLES: ReadonlyArray<[FileTypeId, Buffer]> = [
  ['jpg', jpegWithExif(CAMERA_EXIF)],
  ['png', pngWithExif(4, 4, CAMERA_EXIF)],
  ['pdf', pdfWithInfo(3, { title: 'Title', author: 'Author' })],
  ['pdf', pdfWithXrefStream(3, { title: 'Title', author: 'Author' })],
  ['docx', docxWithProperties({ title: 'Title', creator: 'Author' })],
  ['xlsx', xlsxWithSheets(['a', 'b', 'c'], { title: 'Title' })],
  ['doc', oleDocument('doc', { title: 'Title', author: 'Author' })],
  ['xls', oleDocument('xls', { title: 'Title', author: 'Author' })],
];

const LIMITS = { maxBytes: 256 * 1024, maxInflatedBytes: 1024 * 1024 };

/** Byte overwrites anywhere in the file, then an optional cut. */
const mutation = fc.record({
  writes: fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
    minLength: 1,
    maxLength: 24,
  }),
  cut: fc.option(fc.nat(), { nil: undefined }),
});

describe('metadata extraction of damaged files', () => {
  for (const [type, sample] of SAMPLES) {
    it(`ends every mutated ${type} with a bounded result`, { timeout: 120_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(mutation, async ({ writes, cut }) => {
          const file = Buffer.from(sample);
          for (const { at, value } of writes) file[at % file.length] = value;
          const bytes = cut === undefined ? file : file.subarray(0, cut % file.length);
          const result = await extractMetadata(readerOf(bytes), bytes.length, type, {
            keepGps: false,
            ...LIMITS,
          });
          assert.equal(result.metadata.fileType, type);
          assert.equal(result.partial, result.warnings.length > 0);
          assert.ok(result.bytesRead <= Math.min(LIMITS.maxBytes, bytes.length));
          assert.ok(result.bytesInflated <= LIMITS.maxInflatedBytes);
          for (const value of Object.values(result.metadata)) {
            if (typeof value === 'string') assert.ok(value.length <= MAX_METADATA_TEXT);
          }
          assert.equal(JSON.stringify(result).includes('latitude'), false);
        }),
        { seed: 20_241_129, numRuns: 150 },
      );
    });
  }
});
