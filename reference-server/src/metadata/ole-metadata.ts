import type { DocMetadata, DocumentProperties, XlsMetadata } from '@file-uploader/protocol';
import { TextDecoder } from 'node:util';
import { readCfbRootStream } from './cfb-stream.js';
import type { MetadataContext } from './metadata-context.js';
import { malformed } from './metadata-error.js';
import { assignDefined, cleanText, isoDate } from './metadata-text.js';

const SUMMARY_STREAM = '\u0005SummaryInformation';
/** Summary information is a few hundred bytes; thumbnails can make it larger. */
const MAX_SUMMARY_BYTES = 256 * 1024;
const SUMMARY_FMTID = 'e0859ff2f94f6810ab9108002b27b3d9'; // F29F85E0-4FF9-1068-AB91-08002B27B3D9
const MAX_PROPERTIES = 1024;

const [VT_I2, VT_LPSTR, VT_LPWSTR, VT_FILETIME] = [0x02, 0x1e, 0x1f, 0x40];
const PID = {
  codepage: 1,
  title: 2,
  subject: 3,
  author: 4,
  keywords: 5,
  comments: 6,
  lastAuthor: 8,
  created: 12,
  saved: 13,
  appName: 18,
} as const;

/**
 * Title, author and the other summary properties of a .doc or .xls, from the
 * `\x05SummaryInformation` property set stream (MS-OLEPS). Files without one have none.
 */
export async function extractOle(ctx: MetadataContext, out: DocMetadata | XlsMetadata) {
  const stream = await readCfbRootStream(ctx.reader, SUMMARY_STREAM, MAX_SUMMARY_BYTES);
  if (stream) assignDefined(out, summaryProperties(stream));
}

/** Parses the first property set of a SummaryInformation stream. */
export function summaryProperties(stream: Uint8Array): DocumentProperties {
  const data = new DataView(stream.buffer, stream.byteOffset, stream.byteLength);
  const check = (offset: number, length: number) => {
    if (offset < 0 || offset + length > stream.length) malformed('property set is truncated');
  };
  check(0, 48);
  if (data.getUint16(0, true) !== 0xfffe) malformed('property set byte order');
  if (data.getUint32(24, true) < 1) malformed('no property set');
  const fmtid = Buffer.from(stream.subarray(28, 44)).toString('hex');
  if (fmtid !== SUMMARY_FMTID) malformed('not a SummaryInformation property set');
  const setStart = data.getUint32(44, true);
  check(setStart, 8);
  const count = data.getUint32(setStart + 4, true);
  if (count > MAX_PROPERTIES) malformed(`${count} properties`);
  check(setStart + 8, count * 8);

  const values = new Map<number, { type: number; at: number }>();
  for (let i = 0; i < count; i++) {
    const id = data.getUint32(setStart + 8 + i * 8, true);
    const at = setStart + data.getUint32(setStart + 12 + i * 8, true);
    check(at, 4);
    values.set(id, { type: data.getUint16(at, true), at: at + 4 });
  }
  const codepageValue = values.get(PID.codepage);
  const codepage = codepageValue?.type === VT_I2 ? data.getUint16(codepageValue.at, true) : 1252;
  const decoder = decoderFor(codepage);

  const text = (id: number): string | undefined => {
    const value = values.get(id);
    if (!value) return undefined;
    check(value.at, 4);
    const length = data.getUint32(value.at, true);
    if (value.type === VT_LPSTR) {
      check(value.at + 4, length);
      return cleanText(
        decoder.decode(stream.subarray(value.at + 4, value.at + 4 + length)).replace(/\0.*$/s, ''),
      );
    }
    if (value.type === VT_LPWSTR) {
      check(value.at + 4, length * 2);
      const chars = Buffer.from(stream.subarray(value.at + 4, value.at + 4 + length * 2));
      return cleanText(chars.toString('utf16le').replace(/\0.*$/s, ''));
    }
    return undefined;
  };
  const time = (id: number): string | undefined => {
    const value = values.get(id);
    if (value?.type !== VT_FILETIME) return undefined;
    check(value.at, 8);
    const ticks = data.getBigUint64(value.at, true);
    if (ticks === 0n) return undefined;
    // FILETIME counts 100 ns ticks since 1601-01-01 UTC.
    const date = new Date(Number(ticks / 10_000n) - 11_644_473_600_000);
    if (Number.isNaN(date.getTime())) return undefined;
    return isoDate(
      {
        year: date.getUTCFullYear(),
        month: date.getUTCMonth() + 1,
        day: date.getUTCDate(),
        hour: date.getUTCHours(),
        minute: date.getUTCMinutes(),
        second: date.getUTCSeconds(),
      },
      0,
    );
  };
  return {
    title: text(PID.title),
    subject: text(PID.subject),
    author: text(PID.author),
    keywords: text(PID.keywords),
    description: text(PID.comments),
    lastModifiedBy: text(PID.lastAuthor),
    created: time(PID.created),
    modified: time(PID.saved),
    application: text(PID.appName),
  };
}

/** A decoder for a Windows code page, falling back to Windows-1252 for unknown ones. */
function decoderFor(codepage: number): TextDecoder {
  const labels: Record<number, string> = {
    1200: 'utf-16le',
    65001: 'utf-8',
    932: 'shift_jis',
    936: 'gbk',
    949: 'euc-kr',
    950: 'big5',
    874: 'windows-874',
    10000: 'macintosh',
  };
  const label =
    labels[codepage] ??
    (codepage >= 1250 && codepage <= 1258
      ? `windows-${codepage}`
      : codepage >= 28591 && codepage <= 28605
        ? `iso-8859-${codepage - 28590}`
        : 'windows-1252');
  try {
    return new TextDecoder(label);
  } catch {
    return new TextDecoder('windows-1252');
  }
}
