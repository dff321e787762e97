import type { MetadataContext } from './metadata-context.js';
import { MetadataError, limit } from './metadata-error.js';
import { PdfParser, PdfRef, pdf } from './pdf-syntax.js';
import type { PdfDict } from './pdf-syntax.js';
import type { XrefSection } from './pdf-document.js';

const SCAN_CHUNK = 1024 * 1024;
/** Chunks overlap so a header split across two chunks is still seen whole. */
const OVERLAP = 64;
/** Bounds on what a scan keeps: hostile files can repeat headers and keywords endlessly. */
const MAX_OBJECTS = 100_000;
const MAX_TRAILERS_TRIED = 8;
const OBJ = Buffer.from('obj');
const TRAILER = Buffer.from('trailer');
const CATALOG = Buffer.from('/Catalog');
const TYPE = Buffer.from('/Type');

/** PDF whitespace between the parts of an object header. */
const isHeaderSpace = (c: number | undefined) =>
  c === 0 || c === 9 || c === 10 || c === 12 || c === 13 || c === 32;
const isDigit = (c: number | undefined) => c !== undefined && c >= 48 && c <= 57;
/** A regex word character: what may not follow a keyword. */
const isWord = (c: number | undefined) =>
  c !== undefined && (isDigit(c) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95);
/** Whitespace as a regex's `\s` sees it in Latin-1 text. */
const isSpace = (c: number | undefined) =>
  c !== undefined && ((c >= 9 && c <= 13) || c === 32 || c === 160 || c === 0x85);

/**
 * Object headers (`12 0 obj`) in `text`, where each starts. Scans the bytes themselves, without
 * making a string of them: a file without a usable cross-reference table (or random bytes behind
 * a PDF header) is read to the end of the budget this way, so it must cost little.
 */
export function objectHeaders(text: Buffer): Array<{ num: number; at: number }> {
  const found: Array<{ num: number; at: number }> = [];
  for (let at = text.indexOf(OBJ); at >= 0; at = text.indexOf(OBJ, at + 1)) {
    if (isWord(text[at + 3])) continue;
    let i = at - 1;
    if (!isHeaderSpace(text[i])) continue;
    while (isHeaderSpace(text[i])) i--;
    const genEnd = i;
    while (isDigit(text[i])) i--;
    if (genEnd - i < 1 || genEnd - i > 5 || !isHeaderSpace(text[i])) continue;
    while (isHeaderSpace(text[i])) i--;
    const numEnd = i;
    while (isDigit(text[i])) i--;
    // A number that runs into the start of the text may be cut; the caller checks.
    if (numEnd - i < 1 || numEnd - i > 10) continue;
    found.push({ num: Number(text.toString('latin1', i + 1, numEnd + 1)), at: i + 1 });
  }
  return found;
}

/** Where `/Type /Catalog` (any whitespace between, a word boundary after) occurs in `text`. */
export function catalogs(text: Buffer): number[] {
  const found: number[] = [];
  for (let at = text.indexOf(CATALOG); at >= 0; at = text.indexOf(CATALOG, at + 1)) {
    if (isWord(text[at + CATALOG.length])) continue;
    let i = at - 1;
    while (i >= 0 && isSpace(text[i])) i--;
    const type = i - TYPE.length + 1;
    if (type >= 0 && text.subarray(type, i + 1).equals(TYPE)) found.push(type);
  }
  return found;
}

/**
 * Rebuilds a cross-reference section by scanning the file for `n g obj` headers, as viewers do
 * when the table is missing, damaged or points at the wrong bytes (a truncated download).
 * Later definitions win, as incremental updates append. The scan stops where the read budget
 * does; what it found up to there is used.
 */
export async function recoverSection(ctx: MetadataContext): Promise<XrefSection> {
  const offsets = new Map<number, number>();
  const trailers: number[] = [];
  let lastCatalog: number | undefined;
  let stopped: MetadataError | undefined;
  try {
    for (let start = 0; start < ctx.reader.size; start += SCAN_CHUNK) {
      const bytes = await ctx.reader.upTo(start, SCAN_CHUNK + OVERLAP);
      const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      for (const { num, at } of objectHeaders(text)) {
        if (at >= SCAN_CHUNK && start + SCAN_CHUNK < ctx.reader.size) continue;
        if (at === 0 && start > 0) {
          // A number cut by the start of this piece was seen whole in the previous one.
          const before = await ctx.reader.upTo(start - 1, 1);
          if (isDigit(before[0])) continue;
        }
        offsets.set(num, start + at);
        if (offsets.size > MAX_OBJECTS) limit(`more than ${MAX_OBJECTS} objects`);
      }
      for (let at = text.indexOf(TRAILER); at >= 0; at = text.indexOf(TRAILER, at + 1)) {
        if (at >= SCAN_CHUNK) continue;
        trailers.push(start + at + TRAILER.length);
        if (trailers.length > MAX_TRAILERS_TRIED) trailers.shift();
      }
      for (const at of catalogs(text)) {
        if (at < SCAN_CHUNK) lastCatalog = start + at;
      }
    }
  } catch (error) {
    if (!(error instanceof MetadataError) || error.code !== 'limit') throw error;
    stopped = error;
  }

  const trailer: PdfDict = new Map();
  for (const at of trailers.reverse()) {
    const dict = await trailerAt(ctx, at);
    if (dict?.has('Root')) {
      for (const [key, value] of dict)
        if (key !== 'Prev' && key !== 'XRefStm') trailer.set(key, value);
      break;
    }
  }
  if (!trailer.has('Root')) {
    // Files with cross-reference streams have no `trailer`: find the catalog object itself.
    const owner = lastCatalog === undefined ? undefined : ownerOf(offsets, lastCatalog);
    if (owner !== undefined) trailer.set('Root', new PdfRef(owner, 0));
  }
  if (stopped) ctx.warn(stopped.code, `${stopped.message} while scanning for objects`);
  return {
    trailer,
    lookup: async (num) => {
      const offset = offsets.get(num);
      return offset === undefined ? undefined : { kind: 'offset', offset };
    },
  };
}

/** The object whose header is the last one before `position`. */
function ownerOf(offsets: Map<number, number>, position: number): number | undefined {
  let best: number | undefined;
  let bestAt = -1;
  for (const [num, at] of offsets) {
    if (at < position && at > bestAt) {
      best = num;
      bestAt = at;
    }
  }
  return best;
}

async function trailerAt(ctx: MetadataContext, offset: number): Promise<PdfDict | undefined> {
  try {
    // A trailer dictionary is small; one larger than this window is not worth recovering.
    const bytes = await ctx.reader.upTo(offset, 64 * 1024);
    return pdf.dict(new PdfParser(bytes, 0, true).value());
  } catch (error) {
    if (error instanceof MetadataError && error.code !== 'malformed') throw error;
    return undefined;
  }
}
