import type { MetadataContext } from './metadata-context.js';
import { MetadataError, limit, malformed } from './metadata-error.js';
import { NeedMoreBytes, PdfParser, PdfRef, latin1, pdf } from './pdf-syntax.js';
import type { PdfDict, PdfValue } from './pdf-syntax.js';

/** Where an object lives, as a cross-reference section records it. */
type XrefEntry =
  | { kind: 'free' }
  | { kind: 'offset'; offset: number }
  | { kind: 'compressed'; stream: number; index: number };

/** One cross-reference section: a table or stream with its trailer, newest first in a chain. */
export interface XrefSection {
  trailer: PdfDict;
  /** The entry for `num`, or undefined when this section does not mention it. */
  lookup(num: number): Promise<XrefEntry | undefined>;
}

/** An indirect object: its value, and where its stream data starts when it has one. */
export interface PdfObject {
  value: PdfValue;
  streamStart?: number;
}

/** Incremental updates add one section each; real files have a few, hostile ones loop. */
const MAX_SECTIONS = 64;
const MAX_OBJECT_LOADS = 256;
const MAX_REFERENCE_HOPS = 16;
const FIRST_WINDOW = 4 * 1024;
/** The largest single object (not counting stream data) the reader will take. */
const MAX_OBJECT_BYTES = 1024 * 1024;
/** Decoded object and cross-reference streams are capped at this, within the inflate budget. */
const MAX_STREAM_BYTES = 8 * 1024 * 1024;
const XREF_ENTRY_BYTES = 20;
const MAX_SUBSECTIONS = 100_000;

/** Reads objects of one PDF through its cross-reference sections, within fixed limits. */
export class PdfDocument {
  private loads = 0;
  private readonly objectStreams = new Map<
    number,
    { data: Buffer; offsets: Map<number, number> }
  >();

  constructor(
    private readonly ctx: MetadataContext,
    readonly sections: XrefSection[],
  ) {}

  /** The newest trailer value for `key` across the chain of sections. */
  trailerValue(key: string): PdfValue | undefined {
    for (const section of this.sections) {
      const value = section.trailer.get(key);
      if (value !== undefined) return value;
    }
    return undefined;
  }

  /** Follows references (bounded, loop-checked) until a direct value. */
  async resolve(value: PdfValue | undefined): Promise<PdfValue | undefined> {
    const seen = new Set<number>();
    let current = value;
    for (let hop = 0; current instanceof PdfRef; hop++) {
      if (hop >= MAX_REFERENCE_HOPS || seen.has(current.num)) {
        limit(`reference chain through object ${current.num} loops or is too long`);
      }
      seen.add(current.num);
      current = (await this.object(current.num))?.value;
    }
    return current;
  }

  /** Object `num` as the newest section that mentions it says, or undefined when free. */
  async object(num: number): Promise<PdfObject | undefined> {
    if (++this.loads > MAX_OBJECT_LOADS) limit(`more than ${MAX_OBJECT_LOADS} PDF objects read`);
    for (const section of this.sections) {
      const entry = await section.lookup(num);
      if (!entry) continue;
      if (entry.kind === 'free') return undefined;
      if (entry.kind === 'offset') return readObjectAt(this.ctx, entry.offset, num);
      return { value: await this.compressedObject(entry.stream, entry.index, num) };
    }
    return undefined;
  }

  /** The decoded data of a stream object. Only Flate (with PNG predictors) is supported. */
  async streamData(object: PdfObject): Promise<Buffer> {
    const dict = pdf.dict(object.value);
    if (!dict || object.streamStart === undefined) malformed('object has no stream');
    const length = pdf.int(await this.resolve(dict.get('Length')));
    if (length === undefined || length < 0) malformed('stream without a usable /Length');
    if (length > MAX_STREAM_BYTES) limit(`stream of ${length} bytes`);
    return decodeStream(this.ctx, dict, await this.ctx.reader.bytes(object.streamStart, length));
  }

  private async compressedObject(streamNum: number, index: number, num: number) {
    let stream = this.objectStreams.get(streamNum);
    if (!stream) {
      const object = await this.object(streamNum);
      if (!object) malformed(`object stream ${streamNum} is missing`);
      const dict = pdf.dict(object.value);
      const count = pdf.int(dict?.get('N'));
      const first = pdf.int(dict?.get('First'));
      if (count === undefined || first === undefined) malformed('object stream without /N /First');
      const data = await this.streamData(object);
      const header = new PdfParser(data, 0, true);
      const offsets = new Map<number, number>();
      for (let i = 0; i < count && header.pos < first; i++) {
        const objectNum = header.integer('object number');
        offsets.set(objectNum, first + header.integer('object offset'));
      }
      stream = { data, offsets };
      this.objectStreams.set(streamNum, stream);
    }
    const at = stream.offsets.get(num);
    if (at === undefined)
      malformed(`object ${num} is not in object stream ${streamNum} (${index})`);
    return new PdfParser(stream.data, at, true).value();
  }
}

/** Parses `num gen obj value [stream]` at `offset`, widening the window as needed. */
export async function readObjectAt(
  ctx: MetadataContext,
  offset: number,
  expected?: number,
): Promise<PdfObject> {
  for (let window = FIRST_WINDOW; ; window *= 2) {
    const bytes = await ctx.reader.upTo(offset, window);
    const complete = offset + bytes.length >= ctx.reader.size;
    try {
      const parser = new PdfParser(bytes, 0, complete);
      const num = parser.integer('object number');
      parser.integer('generation');
      if (parser.word() !== 'obj') malformed(`no object at ${offset}`);
      if (expected !== undefined && num !== expected)
        malformed(`object ${expected} not at ${offset}`);
      const value = parser.value();
      parser.skipSpace();
      if (parser.atEnd() || parser.word() !== 'stream') return { value };
      // The keyword is followed by CRLF or LF, then the data.
      if (parser.peek() === 13) parser.pos++;
      if (parser.peek() === 10) parser.pos++;
      return { value, streamStart: offset + parser.pos };
    } catch (error) {
      if (!(error instanceof NeedMoreBytes)) throw error;
      if (complete) malformed('PDF ends inside an object');
      if (window >= MAX_OBJECT_BYTES)
        limit(`object at ${offset} is over ${MAX_OBJECT_BYTES} bytes`);
    }
  }
}

/** The section chain from `startxref`, following /Prev and hybrid files' /XRefStm. */
export async function loadSections(ctx: MetadataContext, start: number): Promise<XrefSection[]> {
  const sections: XrefSection[] = [];
  const seen = new Set<number>();
  const pending = [start];
  for (let offset = pending.shift(); offset !== undefined; offset = pending.shift()) {
    if (seen.has(offset)) continue; // a /Prev loop
    if (sections.length >= MAX_SECTIONS)
      limit(`more than ${MAX_SECTIONS} cross-reference sections`);
    seen.add(offset);
    const section = await loadSection(ctx, offset);
    sections.push(section);
    const hybrid = pdf.int(section.trailer.get('XRefStm'));
    if (hybrid !== undefined) pending.push(hybrid);
    const prev = pdf.int(section.trailer.get('Prev'));
    if (prev !== undefined) pending.push(prev);
  }
  return sections;
}

async function loadSection(ctx: MetadataContext, offset: number): Promise<XrefSection> {
  const head = latin1(await ctx.reader.upTo(offset, 4));
  return head === 'xref' ? loadTable(ctx, offset + 4) : loadStream(ctx, offset);
}

/** A classic table: subsection headers are read now, their 20-byte entries on lookup. */
async function loadTable(ctx: MetadataContext, offset: number): Promise<XrefSection> {
  const subsections: Array<{ first: number; count: number; at: number }> = [];
  let position = offset;
  for (;;) {
    if (subsections.length >= MAX_SUBSECTIONS) limit('too many cross-reference subsections');
    const bytes = await ctx.reader.upTo(position, 256);
    const parser = new PdfParser(bytes, 0, true);
    const word = parser.word();
    if (word === 'trailer') {
      const { value } = await readTrailer(ctx, position + parser.pos);
      const trailer = pdf.dict(value);
      if (!trailer) malformed('trailer is not a dictionary');
      return { trailer, lookup: (num) => tableLookup(ctx, subsections, num) };
    }
    const first = Number(word);
    const count = parser.integer('subsection count');
    if (!Number.isSafeInteger(first) || first < 0 || count < 0) malformed('bad xref subsection');
    parser.skipSpace();
    subsections.push({ first, count, at: position + parser.pos });
    position += parser.pos + count * XREF_ENTRY_BYTES;
    if (position > ctx.reader.size) malformed('cross-reference table runs past the end');
  }
}

async function readTrailer(ctx: MetadataContext, offset: number): Promise<PdfObject> {
  for (let window = FIRST_WINDOW; ; window *= 2) {
    const bytes = await ctx.reader.upTo(offset, window);
    const complete = offset + bytes.length >= ctx.reader.size;
    try {
      return { value: new PdfParser(bytes, 0, complete).value() };
    } catch (error) {
      if (!(error instanceof NeedMoreBytes)) throw error;
      if (window >= MAX_OBJECT_BYTES) limit('trailer too large');
    }
  }
}

async function tableLookup(
  ctx: MetadataContext,
  subsections: ReadonlyArray<{ first: number; count: number; at: number }>,
  num: number,
): Promise<XrefEntry | undefined> {
  // Later subsections win when a broken writer lists an object twice.
  for (let i = subsections.length - 1; i >= 0; i--) {
    const sub = subsections[i];
    if (!sub || num < sub.first || num >= sub.first + sub.count) continue;
    const entry = latin1(await ctx.reader.bytes(sub.at + (num - sub.first) * 20, 18));
    const match = /^(\d{10}) (\d{5}) ([nf])$/.exec(entry);
    if (!match) malformed(`bad cross-reference entry for object ${num}`);
    return match[3] === 'f' ? { kind: 'free' } : { kind: 'offset', offset: Number(match[1]) };
  }
  return undefined;
}

/** A cross-reference stream (PDF 1.5): binary entries with field widths /W over /Index. */
async function loadStream(ctx: MetadataContext, offset: number): Promise<XrefSection> {
  const object = await readObjectAt(ctx, offset);
  const dict = pdf.dict(object.value);
  if (!dict || pdf.name(dict.get('Type')) !== 'XRef' || object.streamStart === undefined) {
    malformed(`no cross-reference at ${offset}`);
  }
  const widths = (pdf.array(dict.get('W')) ?? []).map((w) => pdf.int(w) ?? -1);
  const [w0 = -1, w1 = -1, w2 = -1] = widths;
  if (widths.length !== 3 || [w0, w1, w2].some((w) => w < 0 || w > 8)) malformed('bad /W');
  const size = pdf.int(dict.get('Size')) ?? 0;
  const index = (pdf.array(dict.get('Index')) ?? [0, size]).map((n) => pdf.int(n) ?? -1);
  const length = pdf.int(dict.get('Length'));
  if (length === undefined || length < 0) malformed('cross-reference stream without /Length');
  if (length > MAX_STREAM_BYTES) limit(`cross-reference stream of ${length} bytes`);
  const data = await decodeStream(ctx, dict, await ctx.reader.bytes(object.streamStart, length));
  const rowBytes = w0 + w1 + w2;
  const field = (at: number, width: number) => {
    let value = 0;
    for (let i = 0; i < width; i++) value = value * 256 + (data[at + i] ?? 0);
    return value;
  };
  const lookup = async (num: number): Promise<XrefEntry | undefined> => {
    let row = 0;
    for (let i = 0; i + 1 < index.length; i += 2) {
      const first = index[i] ?? -1;
      const count = index[i + 1] ?? -1;
      if (first < 0 || count < 0) malformed('bad /Index');
      if (num >= first && num < first + count) {
        const at = (row + num - first) * rowBytes;
        if (at + rowBytes > data.length) malformed('cross-reference stream is short');
        const type = w0 === 0 ? 1 : field(at, w0);
        const second = field(at + w0, w1);
        if (type === 0) return { kind: 'free' };
        if (type === 1) return { kind: 'offset', offset: second };
        if (type === 2)
          return { kind: 'compressed', stream: second, index: field(at + w0 + w1, w2) };
        return undefined; // unknown types are to be ignored (ISO 32000 §7.5.8.3)
      }
      row += count;
    }
    return undefined;
  };
  return { trailer: dict, lookup };
}

/** Applies the stream's filters: none, or FlateDecode with an optional PNG predictor. */
async function decodeStream(ctx: MetadataContext, dict: PdfDict, raw: Uint8Array): Promise<Buffer> {
  const filter = dict.get('Filter');
  const filters = (Array.isArray(filter) ? filter : filter === undefined ? [] : [filter]).map(
    (f) => pdf.name(f) ?? '?',
  );
  if (filters.length === 0) return Buffer.from(raw);
  if (filters.length > 1 || filters[0] !== 'FlateDecode') {
    throw new MetadataError('unsupported', `stream filter ${filters.join(', ')}`);
  }
  const inflated = await ctx.inflate(raw, 'zlib', MAX_STREAM_BYTES);
  const parmsValue = dict.get('DecodeParms');
  const parms = pdf.dict(Array.isArray(parmsValue) ? parmsValue[0] : parmsValue);
  const predictor = pdf.int(parms?.get('Predictor')) ?? 1;
  if (predictor === 1) return inflated;
  if (predictor < 10) throw new MetadataError('unsupported', `stream predictor ${predictor}`);
  const columns = pdf.int(parms?.get('Columns')) ?? 1;
  const colors = pdf.int(parms?.get('Colors')) ?? 1;
  const bits = pdf.int(parms?.get('BitsPerComponent')) ?? 8;
  return unpredictPng(
    inflated,
    Math.ceil((columns * colors * bits) / 8),
    Math.ceil((colors * bits) / 8),
  );
}

/** Reverses PNG row filters (each row starts with its filter type byte). */
function unpredictPng(data: Buffer, rowBytes: number, pixelBytes: number): Buffer {
  if (rowBytes <= 0) malformed('bad predictor columns');
  const rows = Math.floor(data.length / (rowBytes + 1));
  const out = Buffer.alloc(rows * rowBytes);
  for (let r = 0; r < rows; r++) {
    const type = data[r * (rowBytes + 1)];
    const src = r * (rowBytes + 1) + 1;
    const dst = r * rowBytes;
    for (let i = 0; i < rowBytes; i++) {
      const left = i >= pixelBytes ? (out[dst + i - pixelBytes] ?? 0) : 0;
      const up = r > 0 ? (out[dst - rowBytes + i] ?? 0) : 0;
      const upLeft = r > 0 && i >= pixelBytes ? (out[dst - rowBytes + i - pixelBytes] ?? 0) : 0;
      const x = data[src + i] ?? 0;
      let predicted = 0;
      if (type === 1) predicted = left;
      else if (type === 2) predicted = up;
      else if (type === 3) predicted = (left + up) >> 1;
      else if (type === 4) {
        const p = left + up - upLeft;
        const [pa, pb, pc] = [Math.abs(p - left), Math.abs(p - up), Math.abs(p - upLeft)];
        predicted = pa <= pb && pa <= pc ? left : pb <= pc ? up : upLeft;
      } else if (type !== 0) malformed(`PNG predictor row type ${type}`);
      out[dst + i] = (x + predicted) & 0xff;
    }
  }
  return out;
}
