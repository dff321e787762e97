import exifr from 'exifr';
import type { ExifData, ImageMetadata } from '@file-uploader/protocol';
import type { MetadataContext } from './metadata-context.js';
import { MetadataError, limit, malformed } from './metadata-error.js';
import { assignDefined, cleanText, isoDate, positiveInt } from './metadata-text.js';

/** Real files have a few dozen segments or chunks before the image data; more is hostile. */
const MAX_SEGMENTS = 256;
/** An eXIf chunk larger than a JPEG APP1 segment can be is not worth reading. */
const MAX_EXIF_BYTES = 64 * 1024;
const EXIF_HEADER = Buffer.from('Exif\0\0', 'latin1');
const PNG_SIGNATURE_BYTES = 8;

/**
 * Width, height and EXIF of a JPEG: walks the segment headers with small reads (skipping
 * segment bodies, so large ICC profiles or thumbnails cost nothing) up to the start of scan,
 * keeping the first Exif APP1 segment and the frame header.
 */
export async function extractJpeg(ctx: MetadataContext, out: ImageMetadata): Promise<void> {
  const { reader } = ctx;
  let offset = 2;
  let exif: Uint8Array | undefined;
  for (let segment = 0; ; segment++) {
    if (segment >= MAX_SEGMENTS) limit(`more than ${MAX_SEGMENTS} JPEG segments`);
    const head = await reader.bytes(offset, 4);
    if (head[0] !== 0xff) malformed(`no JPEG marker at ${offset}`);
    const marker = head[1] ?? 0;
    if (marker === 0xff) {
      offset += 1; // fill byte
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) break; // end of image, start of scan
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8)) {
      offset += 2; // markers without a length
      continue;
    }
    const length = ((head[2] ?? 0) << 8) | (head[3] ?? 0);
    if (length < 2) malformed(`JPEG segment length ${length} at ${offset}`);
    if (isStartOfFrame(marker)) {
      const frame = await reader.bytes(offset + 4, 5);
      const view = new DataView(frame.buffer, frame.byteOffset, 5);
      assignDefined(out, {
        height: positiveInt(view.getUint16(1)),
        width: positiveInt(view.getUint16(3)),
      });
    } else if (marker === 0xe1 && !exif && length > 2 + EXIF_HEADER.length) {
      const body = await reader.bytes(offset + 4, length - 2);
      if (Buffer.from(body.subarray(0, EXIF_HEADER.length)).equals(EXIF_HEADER)) {
        exif = body.subarray(EXIF_HEADER.length);
      }
    }
    offset += 2 + length;
  }
  if (exif) await addExif(ctx, out, exif);
}

/** SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC), which share the range. */
function isStartOfFrame(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/** Width and height from IHDR, then EXIF from an eXIf chunk before the image data. */
export async function extractPng(ctx: MetadataContext, out: ImageMetadata): Promise<void> {
  const { reader } = ctx;
  let offset = PNG_SIGNATURE_BYTES;
  for (let chunk = 0; offset + 8 <= reader.size; chunk++) {
    if (chunk >= MAX_SEGMENTS) limit(`more than ${MAX_SEGMENTS} PNG chunks`);
    const head = await reader.bytes(offset, 8);
    const length = new DataView(head.buffer, head.byteOffset, 8).getUint32(0);
    const type = Buffer.from(head.subarray(4, 8)).toString('latin1');
    if (chunk === 0) {
      if (type !== 'IHDR' || length !== 13) malformed('PNG does not start with IHDR');
      const size = await reader.bytes(offset + 8, 8);
      const view = new DataView(size.buffer, size.byteOffset, 8);
      assignDefined(out, {
        width: positiveInt(view.getUint32(0)),
        height: positiveInt(view.getUint32(4)),
      });
    } else if (type === 'eXIf') {
      if (length > MAX_EXIF_BYTES) limit(`eXIf chunk of ${length} bytes`);
      await addExif(ctx, out, await reader.bytes(offset + 8, length));
      return;
    } else if (type === 'IDAT' || type === 'IEND') {
      return; // eXIf after the image data is not allowed by the PNG spec
    }
    offset += 12 + length;
  }
}

interface RawExif {
  Make?: unknown;
  Model?: unknown;
  Software?: unknown;
  LensModel?: unknown;
  Orientation?: unknown;
  DateTimeOriginal?: unknown;
  OffsetTimeOriginal?: unknown;
  ExposureTime?: unknown;
  FNumber?: unknown;
  ISO?: unknown;
  FocalLength?: unknown;
  GPSLatitude?: unknown;
  GPSLatitudeRef?: unknown;
  GPSLongitude?: unknown;
  GPSLongitudeRef?: unknown;
  GPSAltitude?: unknown;
  GPSAltitudeRef?: unknown;
}

/** Parses a TIFF-structured EXIF block (already in memory, at most 64 KiB) with exifr. */
async function addExif(ctx: MetadataContext, out: ImageMetadata, tiff: Uint8Array): Promise<void> {
  checkTiffHeader(tiff);
  let raw: RawExif | undefined;
  try {
    // Only the TIFF IFDs: no thumbnail, maker notes, XMP or ICC; values stay raw so dates keep
    // their written local time instead of being shifted by the server's zone.
    raw = (await exifr.parse(Buffer.from(tiff), {
      tiff: true,
      exif: true,
      gps: true,
      ifd1: false,
      interop: false,
      makerNote: false,
      userComment: false,
      xmp: false,
      icc: false,
      iptc: false,
      jfif: false,
      ihdr: false,
      translateKeys: true,
      translateValues: false,
      reviveValues: false,
      mergeOutput: true,
    })) as RawExif | undefined;
  } catch (error) {
    throw new MetadataError('malformed', `EXIF is unreadable: ${(error as Error).message}`);
  }
  if (!raw) return;
  const exif: ExifData = {};
  assignDefined(exif, {
    make: text(raw.Make),
    model: text(raw.Model),
    software: text(raw.Software),
    lensModel: text(raw.LensModel),
    orientation: orientation(raw.Orientation),
    dateTaken: exifDate(raw.DateTimeOriginal, raw.OffsetTimeOriginal),
    exposureTime: positiveNumber(raw.ExposureTime),
    fNumber: positiveNumber(raw.FNumber),
    iso: positiveInt(Array.isArray(raw.ISO) ? raw.ISO[0] : raw.ISO),
    focalLength: positiveNumber(raw.FocalLength),
  });
  const latitude = coordinate(raw.GPSLatitude, raw.GPSLatitudeRef, 'S', 90);
  const longitude = coordinate(raw.GPSLongitude, raw.GPSLongitudeRef, 'W', 180);
  const hasGps = raw.GPSLatitude !== undefined || raw.GPSLongitude !== undefined;
  if (hasGps && !ctx.keepGps) out.gpsRemoved = true;
  if (ctx.keepGps && latitude !== undefined && longitude !== undefined) {
    exif.gps = { latitude, longitude };
    const altitude = finiteNumber(raw.GPSAltitude);
    // GPSAltitudeRef is a BYTE: 1 means below sea level.
    const ref: unknown = raw.GPSAltitudeRef;
    const below = ref instanceof Uint8Array ? ref[0] === 1 : ref === 1;
    if (altitude !== undefined) exif.gps.altitude = below ? -altitude : altitude;
  }
  if (Object.keys(exif).length > 0) out.exif = exif;
}

/** exifr silently returns nothing for a broken header; that deserves a warning. */
function checkTiffHeader(tiff: Uint8Array): void {
  if (tiff.length < 8) malformed('EXIF block is truncated');
  const view = new DataView(tiff.buffer, tiff.byteOffset, tiff.byteLength);
  const order = view.getUint16(0);
  if (order !== 0x4949 && order !== 0x4d4d) malformed('EXIF block has no byte order mark');
  const little = order === 0x4949;
  if (view.getUint16(2, little) !== 42) malformed('EXIF block is not TIFF-structured');
  const ifd0 = view.getUint32(4, little);
  if (ifd0 < 8 || ifd0 + 2 > tiff.length) malformed('EXIF IFD0 lies outside the block');
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? cleanText(value) : undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function positiveNumber(value: unknown): number | undefined {
  const number = finiteNumber(value);
  return number !== undefined && number > 0 ? number : undefined;
}

function orientation(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 8
    ? value
    : undefined;
}

/** `YYYY:MM:DD HH:MM:SS` (EXIF's own format) plus an optional `+HH:MM` offset tag. */
function exifDate(value: unknown, offset: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const match = /^(\d{4}):(\d{2}):(\d{2})[ T](\d{2}):(\d{2}):(\d{2})/.exec(value.trim());
  if (!match) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as number[];
  const zone = typeof offset === 'string' ? /^([+-])(\d{2}):(\d{2})$/.exec(offset.trim()) : null;
  const offsetMinutes = zone
    ? (zone[1] === '-' ? -1 : 1) * (Number(zone[2]) * 60 + Number(zone[3]))
    : undefined;
  return isoDate(
    { year: year ?? 0, month: month ?? 0, day: day ?? 0, hour, minute, second },
    offsetMinutes,
  );
}

/** Degrees from EXIF's [degrees, minutes, seconds] and its hemisphere letter. */
function coordinate(
  value: unknown,
  ref: unknown,
  negative: string,
  max: number,
): number | undefined {
  if (!Array.isArray(value) || value.length !== 3) return undefined;
  const [d, m, s] = value as unknown[];
  if (![d, m, s].every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0)) {
    return undefined;
  }
  const degrees = (d as number) + (m as number) / 60 + (s as number) / 3600;
  if (degrees > max) return undefined;
  const sign = typeof ref === 'string' && ref.trim().toUpperCase() === negative ? -1 : 1;
  return Math.round(sign * degrees * 1e7) / 1e7;
}
