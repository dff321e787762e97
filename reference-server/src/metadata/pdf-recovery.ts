import type { MetadataContext } from './metadata-context.js';
import { MetadataError, limit } from './metadata-error.js';
import { PdfParser, PdfRef, latin1, pdf } from './pdf-syntax.js';
import type { PdfDict } from './pdf-syntax.js';
import type { XrefSection } from './pdf-document.js';

const SCAN_CHUNK = 256 * 1024;
/** Chunks overlap so a header split across two chunks is still seen whole. */
const OVERLAP = 64;
/** Bounds on what a scan keeps: hostile files can repeat headers and keywords endlessly. */
const MAX_OBJECTS = 100_000;
const MAX_TRAILERS_TRIED = 8;
const OBJECT_HEADER = /(?<!\d)(\d{1,10})[\0\t\n\f\r ]+(\d{1,5})[\0\t\n\f\r ]+obj\b/g;

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
      const text = latin1(await ctx.reader.upTo(start, SCAN_CHUNK + OVERLAP));
      for (const match of text.matchAll(OBJECT_HEADER)) {
        if (match.index >= SCAN_CHUNK && start + SCAN_CHUNK < ctx.reader.size) continue;
        offsets.set(Number(match[1]), start + match.index);
        if (offsets.size > MAX_OBJECTS) limit(`more than ${MAX_OBJECTS} objects`);
      }
      for (let at = text.indexOf('trailer'); at >= 0; at = text.indexOf('trailer', at + 1)) {
        if (at >= SCAN_CHUNK) continue;
        trailers.push(start + at + 'trailer'.length);
        if (trailers.length > MAX_TRAILERS_TRIED) trailers.shift();
      }
      for (const match of text.matchAll(/\/Type\s*\/Catalog\b/g)) {
        if (match.index < SCAN_CHUNK) lastCatalog = start + match.index;
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
