import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { jpeg, png } from '../../test/fixtures.js';
import {
  CAMERA_EXIF,
  jpegWithExif,
  noise,
  pngWithExif,
  readerOf,
} from '../../test/fixtures/metadata-fixtures.js';
import { extractMetadata } from './extract-metadata.js';
import type { ExtractMetadataOptions } from './extract-metadata.js';

const extract = (
  file: Buffer,
  type: 'jpg' | 'png',
  options: Partial<ExtractMetadataOptions> = {},
) => extractMetadata(readerOf(file), file.length, type, { keepGps: false, ...options });

const CAMERA = {
  make: 'Canon',
  model: 'Canon EOS 5D Mark IV',
  software: 'Firmware 1.2.3',
  lensModel: 'EF50mm f/1.8 STM',
  orientation: 6,
  dateTaken: '2024-05-01T10:20:30+02:00',
  exposureTime: 0.004,
  fNumber: 2.8,
  iso: 400,
  focalLength: 50,
};

describe('image metadata', () => {
  it('reads the size of plain PNG and JPEG files', async () => {
    assert.deepEqual(await extract(png(40, 30), 'png'), {
      metadata: { fileType: 'png', width: 40, height: 30 },
      partial: false,
      warnings: [],
      bytesRead: png(40, 30).length,
      bytesInflated: 0,
    });
    const result = await extract(jpeg(), 'jpg');
    assert.deepEqual(result.metadata, { fileType: 'jpg', width: 8, height: 8 });
    assert.equal(result.partial, false);
  });

  it('reports JPEG EXIF camera fields and leaves GPS out by default', async () => {
    const result = await extract(jpegWithExif(CAMERA_EXIF), 'jpg');
    assert.deepEqual(result.metadata, {
      fileType: 'jpg',
      width: 8,
      height: 8,
      exif: CAMERA,
      gpsRemoved: true,
    });
    assert.equal(JSON.stringify(result).includes('latitude'), false);
    assert.equal(result.partial, false);
  });

  it('reports the GPS position when configured to keep it', async () => {
    const result = await extract(jpegWithExif(CAMERA_EXIF), 'jpg', { keepGps: true });
    assert.deepEqual(result.metadata, {
      fileType: 'jpg',
      width: 8,
      height: 8,
      exif: { ...CAMERA, gps: { latitude: 48.8581944, longitude: 2.2944444, altitude: 35 } },
    });
  });

  it('signs southern and western positions and altitudes below sea level', async () => {
    const exif = {
      gps: {
        latitude: [33, 52, 4] as [number, number, number],
        latitudeRef: 'S' as const,
        longitude: [151, 12, 36] as [number, number, number],
        longitudeRef: 'W' as const,
        altitude: -12.5,
      },
    };
    const result = await extract(jpegWithExif(exif), 'jpg', { keepGps: true });
    assert.deepEqual(result.metadata.fileType === 'jpg' && result.metadata.exif?.gps, {
      latitude: -33.8677778,
      longitude: -151.21,
      altitude: -12.5,
    });
  });

  it('reads EXIF from a PNG eXIf chunk', async () => {
    const result = await extract(pngWithExif(3, 5, CAMERA_EXIF), 'png');
    assert.deepEqual(result.metadata, {
      fileType: 'png',
      width: 3,
      height: 5,
      exif: CAMERA,
      gpsRemoved: true,
    });
  });

  it('skips large segments before the EXIF instead of reading them', async () => {
    const file = jpegWithExif(CAMERA_EXIF, 60_000);
    const withTail = Buffer.concat([file, Buffer.alloc(4 * 1024 * 1024)]);
    const result = await extract(withTail, 'jpg');
    assert.equal(result.metadata.fileType === 'jpg' && result.metadata.exif?.make, 'Canon');
    assert.ok(result.bytesRead <= 64 * 1024, `read ${result.bytesRead} bytes`);
  });

  it('keeps the size of a JPEG whose EXIF is garbage, and says so', async () => {
    const base = jpeg();
    const app1 = Buffer.concat([
      Buffer.from([0xff, 0xe1, 0x01, 0x08]),
      Buffer.from('Exif\0\0', 'latin1'),
      Buffer.from('MM\0*\xff\xff\xff\xf0', 'latin1'),
      noise(248),
    ]);
    const file = Buffer.concat([base.subarray(0, 2), app1, base.subarray(2)]);
    const result = await extract(file, 'jpg');
    assert.equal(result.metadata.fileType === 'jpg' && result.metadata.width, 8);
    assert.equal(result.metadata.fileType === 'jpg' && result.metadata.exif, undefined);
    assert.deepEqual(result.warnings, [
      { code: 'malformed', message: 'EXIF IFD0 lies outside the block' },
    ]);
    assert.equal(result.partial, true);
  });

  it('ends a truncated JPEG with partial metadata', async () => {
    const file = jpegWithExif(CAMERA_EXIF);
    const result = await extract(file.subarray(0, 300), 'jpg');
    assert.equal(result.partial, true);
    assert.equal(result.warnings[0]?.code, 'malformed');
    assert.equal(result.metadata.fileType === 'jpg' && result.metadata.exif, undefined);
  });

  it('stops a JPEG made of endless empty segments at the segment limit', async () => {
    const empty = Buffer.from([0xff, 0xfe, 0x00, 0x02]); // comment segments with no text
    const file = Buffer.concat([Buffer.from([0xff, 0xd8]), ...Array(10_000).fill(empty)]);
    const result = await extract(file, 'jpg');
    assert.deepEqual(
      result.warnings.map((w) => w.code),
      ['limit'],
    );
    assert.ok(result.bytesRead <= 2 + 257 * 4 + 16 * 1024);
  });

  it('ends random bytes behind image signatures with an error result, within the read cap', async () => {
    const maxBytes = 256 * 1024;
    const jpegGarbage = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff]), noise(2_000_000, 7)]);
    const pngGarbage = Buffer.concat([png().subarray(0, 8), noise(2_000_000, 8)]);
    for (const [file, type] of [
      [jpegGarbage, 'jpg'],
      [pngGarbage, 'png'],
    ] as const) {
      const result = await extract(file, type, { maxBytes });
      assert.equal(result.partial, true, type);
      assert.equal(result.metadata.fileType, type);
      assert.ok(result.bytesRead <= maxBytes, `${type} read ${result.bytesRead}`);
    }
  });
});
