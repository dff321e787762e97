import type { PdfMetadata } from '@file-uploader/protocol';
import type { MetadataContext } from './metadata-context.js';
import { MetadataError, malformed } from './metadata-error.js';
import { assignDefined, cleanText, isoDate } from './metadata-text.js';
import { PdfDocument, loadSections } from './pdf-document.js';
import { recoverSection } from './pdf-recovery.js';
import { PdfString, latin1, pdf } from './pdf-syntax.js';

/** `startxref` sits in the last bytes; writers that append junk after %%EOF get some room. */
const TAIL_BYTES = 4 * 1024;
const LONG_TAIL_BYTES = 64 * 1024;
/** A page tree's /Count above this is not a real document. */
const MAX_PAGES = 10_000_000;

/**
 * Version, page count and document information of a PDF: finds `startxref`, follows the chain
 * of cross-reference sections (tables, streams, incremental updates), then reads the trailer's
 * /Info dictionary and the page tree root's /Count. A damaged chain falls back to scanning for
 * objects, and the result is then marked partial.
 */
export async function extractPdf(ctx: MetadataContext, out: PdfMetadata): Promise<void> {
  const head = latin1(await ctx.reader.upTo(0, 1024));
  const version = /%PDF-(\d\.\d)/.exec(head)?.[1];
  if (version) out.version = version;

  try {
    const document = new PdfDocument(ctx, await loadSections(ctx, await startXref(ctx)));
    await readDocument(ctx, document, out);
  } catch (error) {
    if (!(error instanceof MetadataError) || error.code !== 'malformed') throw error;
    ctx.warn('malformed', `${error.message}; objects found by scanning the file`);
    await readDocument(ctx, new PdfDocument(ctx, [await recoverSection(ctx)]), out);
  }
}

async function readDocument(
  ctx: MetadataContext,
  document: PdfDocument,
  out: PdfMetadata,
): Promise<void> {
  if (!document.trailerValue('Root')) malformed('no document catalog found');
  out.encrypted = document.trailerValue('Encrypt') !== undefined;
  try {
    await pageCount(document, out);
  } catch (error) {
    // A loop or limit in the page tree still leaves /Info worth reading.
    if (!(error instanceof MetadataError) || error.code !== 'limit') throw error;
    ctx.warn(error.code, error.message);
  }
  if (out.encrypted) {
    // Strings in an encrypted file's /Info are ciphertext; numbers such as /Count are not.
    ctx.warn('unsupported', 'the PDF is encrypted: document information is not readable');
    return;
  }
  const info = pdf.dict(await document.resolve(document.trailerValue('Info')));
  if (!info) return;
  const text = async (key: string) => {
    const value = await document.resolve(info.get(key));
    return value instanceof PdfString ? cleanText(decodeText(value.bytes)) : undefined;
  };
  assignDefined(out, {
    title: await text('Title'),
    author: await text('Author'),
    subject: await text('Subject'),
    keywords: await text('Keywords'),
    creator: await text('Creator'),
    producer: await text('Producer'),
    created: pdfDate(await text('CreationDate')),
    modified: pdfDate(await text('ModDate')),
  });
}

async function pageCount(document: PdfDocument, out: PdfMetadata): Promise<void> {
  const catalog = pdf.dict(await document.resolve(document.trailerValue('Root')));
  if (!catalog) malformed('no document catalog');
  const pages = pdf.dict(await document.resolve(catalog.get('Pages')));
  const count = pdf.int(await document.resolve(pages?.get('Count')));
  if (count === undefined || count < 0 || count > MAX_PAGES) malformed('page tree has no /Count');
  out.pages = count;
}

async function startXref(ctx: MetadataContext): Promise<number> {
  for (const length of [TAIL_BYTES, LONG_TAIL_BYTES]) {
    const start = Math.max(0, ctx.reader.size - length);
    const tail = latin1(await ctx.reader.upTo(start, length));
    const at = tail.lastIndexOf('startxref');
    const match = at < 0 ? null : /^startxref\s+(\d{1,15})/.exec(tail.slice(at));
    if (match) {
      const offset = Number(match[1]);
      if (offset >= ctx.reader.size) malformed('startxref points past the end of the file');
      return offset;
    }
    if (start === 0) break;
  }
  malformed('no startxref (truncated?)');
}

/** PDF text strings: UTF-16BE or UTF-8 with a byte order mark, else PDFDocEncoding. */
export function decodeText(bytes: Uint8Array): string {
  if (bytes[0] === 0xfe && bytes[1] === 0xff) {
    const swapped = Buffer.from(bytes.subarray(2, 2 + ((bytes.length - 2) & ~1)));
    return swapped.swap16().toString('utf16le');
  }
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    return Buffer.from(bytes.subarray(3)).toString('utf8');
  }
  return Array.from(bytes, (b) => PDF_DOC_HIGH[b - 0x80] ?? String.fromCharCode(b)).join('');
}

/** PDFDocEncoding 0x80-0x9F differs from Latin-1 (ISO 32000 Annex D); the rest matches. */
const PDF_DOC_HIGH = [
  '\u2022',
  '\u2020',
  '\u2021',
  '\u2026',
  '\u2014',
  '\u2013',
  '\u0192',
  '\u2044',
  '\u2039',
  '\u203a',
  '\u2212',
  '\u2030',
  '\u201e',
  '\u201c',
  '\u201d',
  '\u2018',
  '\u2019',
  '\u201a',
  '\u2122',
  '\ufb01',
  '\ufb02',
  '\u0141',
  '\u0152',
  '\u0160',
  '\u0178',
  '\u017d',
  '\u0131',
  '\u0142',
  '\u0153',
  '\u0161',
  '\u017e',
  '\ufffd',
];

/** `D:YYYYMMDDHHmmSSOHH'mm'` with every part after the year optional. */
export function pdfDate(value: string | undefined): string | undefined {
  const match =
    /^(?:D:)?(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:(Z)|([+-])(\d{2})'?(\d{2})?'?)?/.exec(
      value ?? '',
    );
  if (!match) return undefined;
  const n = (i: number, fallback: number) => (match[i] === undefined ? fallback : Number(match[i]));
  const offset =
    match[7] === 'Z'
      ? 0
      : match[8] === undefined
        ? undefined
        : (match[8] === '-' ? -1 : 1) * (n(9, 0) * 60 + n(10, 0));
  return isoDate(
    {
      year: n(1, 0),
      month: n(2, 1),
      day: n(3, 1),
      hour: n(4, 0),
      minute: n(5, 0),
      second: n(6, 0),
    },
    offset,
  );
}
