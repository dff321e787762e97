/**
 * A reader of PDF object syntax (ISO 32000 §7.3): numbers, names, strings, arrays,
 * dictionaries and indirect references, from a window of bytes. Nesting is bounded, and
 * running out of bytes mid-object raises {@link NeedMoreBytes} so the caller can read a larger
 * window (up to its own limit) instead of guessing object sizes.
 */
import { limit, malformed } from './metadata-error.js';

export class PdfName {
  constructor(readonly name: string) {}
}

export class PdfRef {
  constructor(
    readonly num: number,
    readonly gen: number,
  ) {}
}

export class PdfString {
  constructor(readonly bytes: Uint8Array) {}
}

export type PdfDict = Map<string, PdfValue>;
export type PdfValue =
  number | boolean | null | PdfName | PdfRef | PdfString | PdfValue[] | PdfDict;

/** The window ended inside an object: read more bytes and parse again. */
export class NeedMoreBytes extends Error {}

/** Real documents nest a handful of levels; deeper structures are built to hurt parsers. */
export const MAX_NESTING = 64;

/** What {@link PdfParser.peek} returns past the end of complete data. */
const END = -1;
const WHITESPACE = new Set([0, 9, 10, 12, 13, 32]);
const DELIMITERS = new Set([...'()<>[]{}/%'].map((c) => c.charCodeAt(0)));

export class PdfParser {
  pos: number;

  /** `complete` says the window holds all the data there is (a decoded stream, a file's end). */
  constructor(
    private readonly data: Uint8Array,
    start = 0,
    private readonly complete = false,
  ) {
    this.pos = start;
  }

  /** The next value; references `n g R` become {@link PdfRef}. */
  value(depth = 0): PdfValue {
    if (depth > MAX_NESTING) limit(`PDF objects nested deeper than ${MAX_NESTING}`);
    this.skipSpace();
    const c = this.peek();
    if (c === 0x2f) return new PdfName(this.name());
    if (c === 0x28) return new PdfString(this.literalString());
    if (c === 0x5b) {
      this.pos++;
      const items: PdfValue[] = [];
      for (;;) {
        this.skipSpace();
        if (this.peek() === 0x5d) {
          this.pos++;
          return items;
        }
        items.push(this.value(depth + 1));
      }
    }
    if (c === 0x3c) {
      if (this.peek(1) !== 0x3c) return new PdfString(this.hexString());
      this.pos += 2;
      const dict: PdfDict = new Map();
      for (;;) {
        this.skipSpace();
        if (this.peek() === 0x3e) {
          if (this.peek(1) !== 0x3e) malformed(`bad dictionary end at ${this.pos}`);
          this.pos += 2;
          return dict;
        }
        if (this.peek() !== 0x2f) malformed(`dictionary key is not a name at ${this.pos}`);
        const key = this.name();
        dict.set(key, this.value(depth + 1));
      }
    }
    const start = this.pos;
    const word = this.word();
    if (word === 'true') return true;
    if (word === 'false') return false;
    if (word === 'null') return null;
    const number = toNumber(word);
    if (number === undefined) malformed(`unexpected "${word.slice(0, 20)}" at ${start}`);
    if (Number.isInteger(number) && number >= 0) {
      // `n g R` is a reference; look ahead without consuming anything else.
      const after = this.pos;
      this.skipSpace();
      const gen = this.isDigit(this.peek()) ? toNumber(this.word()) : undefined;
      if (gen !== undefined && Number.isInteger(gen)) {
        this.skipSpace();
        if (this.peek() === 0x52 && this.isEnd(this.peek(1))) {
          this.pos++;
          return new PdfRef(number, gen);
        }
      }
      this.pos = after;
    }
    return number;
  }

  /** A bare token (keyword or number); '' at a delimiter. */
  word(): string {
    this.skipSpace();
    const start = this.pos;
    while (!this.isEnd(this.peek())) this.pos++;
    return latin1(this.data.subarray(start, this.pos));
  }

  /** An integer token, or a malformed-content error naming `what`. */
  integer(what: string): number {
    const value = toNumber(this.word());
    if (value === undefined || !Number.isSafeInteger(value)) malformed(`expected ${what}`);
    return value;
  }

  skipSpace(): void {
    for (;;) {
      const c = this.peek();
      if (WHITESPACE.has(c)) this.pos++;
      else if (c === 0x25) {
        for (let n = this.peek(); n !== 10 && n !== 13 && n !== END; n = this.peek()) this.pos++;
      } else return;
    }
  }

  /**
   * The byte at `pos + ahead`. Past the window it asks for more bytes, or, when the data is
   * complete, returns {@link END} so lookahead works at the very end.
   */
  peek(ahead = 0): number {
    const at = this.pos + ahead;
    if (at < this.data.length) return this.data[at] ?? 0;
    if (this.complete) return END;
    throw new NeedMoreBytes();
  }

  /** True at the end of complete data: a keyword may end it. */
  atEnd(): boolean {
    return this.complete && this.pos >= this.data.length;
  }

  /** The next byte, consumed; the end of the data inside a string or comment is an error. */
  private next(): number {
    const c = this.peek();
    if (c === END) malformed('PDF data ends inside an object');
    this.pos++;
    return c;
  }

  private isEnd(c: number): boolean {
    return c === END || WHITESPACE.has(c) || DELIMITERS.has(c);
  }

  private isDigit(c: number): boolean {
    return c >= 0x30 && c <= 0x39;
  }

  private name(): string {
    this.pos++; // the slash
    const bytes: number[] = [];
    while (!this.isEnd(this.peek())) {
      const c = this.next();
      // #xx writes a byte by its hex code (PDF 1.2).
      const hex = c === 0x23 ? hexValue(this.peek(), this.peek(1)) : undefined;
      if (hex === undefined) bytes.push(c);
      else {
        bytes.push(hex);
        this.pos += 2;
      }
    }
    return Buffer.from(bytes).toString('utf8');
  }

  private literalString(): Uint8Array {
    this.pos++; // the opening parenthesis
    const out: number[] = [];
    let nesting = 1;
    for (;;) {
      const c = this.next();
      if (c === 0x5c) {
        const e = this.next();
        const simple = ESCAPES[e];
        if (simple !== undefined) out.push(simple);
        else if (e >= 0x30 && e <= 0x37) {
          let code = e - 0x30;
          for (let i = 0; i < 2 && this.peek() >= 0x30 && this.peek() <= 0x37; i++) {
            code = code * 8 + this.next() - 0x30;
          }
          out.push(code & 0xff);
        } else if (e === 13) {
          if (this.peek() === 10) this.pos++; // a backslash before a line break joins lines
        } else if (e !== 10) out.push(e);
      } else if (c === 0x28) {
        nesting++;
        out.push(c);
      } else if (c === 0x29) {
        if (--nesting === 0) return Uint8Array.from(out);
        out.push(c);
      } else out.push(c);
    }
  }

  private hexString(): Uint8Array {
    this.pos++;
    let digits = '';
    for (let c = this.next(); c !== 0x3e; c = this.next()) {
      if (!WHITESPACE.has(c)) digits += String.fromCharCode(c);
    }
    if (!/^[0-9a-fA-F]*$/.test(digits)) malformed('bad hex string');
    return Buffer.from(digits.length % 2 ? `${digits}0` : digits, 'hex');
  }
}

const ESCAPES: Record<number, number> = { 110: 10, 114: 13, 116: 9, 98: 8, 102: 12 };

function hexValue(high: number, low: number): number | undefined {
  const digit = (c: number) =>
    c >= 0x30 && c <= 0x39
      ? c - 0x30
      : c >= 0x41 && c <= 0x46
        ? c - 0x37
        : c >= 0x61 && c <= 0x66
          ? c - 0x57
          : -1;
  const [h, l] = [digit(high), digit(low)];
  return h < 0 || l < 0 ? undefined : h * 16 + l;
}

function toNumber(word: string): number | undefined {
  if (!/^[+-]?(\d+\.?\d*|\.\d+)$/.test(word)) return undefined;
  const value = Number(word);
  return Number.isFinite(value) ? value : undefined;
}

export function latin1(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
}

/** Typed accessors: a value of the wrong type reads as absent. */
export const pdf = {
  dict: (value: PdfValue | undefined): PdfDict | undefined =>
    value instanceof Map ? value : undefined,
  name: (value: PdfValue | undefined): string | undefined =>
    value instanceof PdfName ? value.name : undefined,
  int: (value: PdfValue | undefined): number | undefined =>
    typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined,
  array: (value: PdfValue | undefined): PdfValue[] | undefined =>
    Array.isArray(value) ? value : undefined,
};
