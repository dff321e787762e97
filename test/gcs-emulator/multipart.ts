/**
 * A streaming reader of `multipart/related` bodies (the JSON API's multipart upload): part
 * headers and the small metadata part are collected, the media part is handed on as it arrives,
 * holding back only as many bytes as a boundary could span.
 */
import { badRequest } from './errors.js';

export interface MultipartHandlers {
  /** A part begins; `index` counts from 0. */
  part(index: number, headers: Record<string, string>): void;
  data(index: number, bytes: Buffer): void;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const HEADER_LIMIT = 16 * 1024;

export function boundaryOf(contentType: string | undefined): string {
  const match = /^multipart\/related\s*;.*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(
    contentType ?? '',
  );
  const boundary = match?.[1] ?? match?.[2];
  if (!boundary) throw badRequest('Multipart upload needs a multipart/related boundary.');
  return boundary;
}

export class MultipartReader {
  readonly #delimiter: Buffer;
  // A virtual CRLF first, so the opening boundary looks like every other delimiter.
  #pending: Buffer = Buffer.from('\r\n');
  #state: 'preamble' | 'afterDelimiter' | 'headers' | 'body' | 'done' = 'preamble';
  #index = -1;

  constructor(
    boundary: string,
    private readonly handlers: MultipartHandlers,
  ) {
    this.#delimiter = Buffer.from(`\r\n--${boundary}`);
  }

  /** True once the closing delimiter was read. */
  get complete(): boolean {
    return this.#state === 'done';
  }

  feed(chunk: Buffer): void {
    this.#pending = this.#pending.length ? Buffer.concat([this.#pending, chunk]) : chunk;
    for (;;) {
      if (this.#state === 'done') return;
      if (this.#state === 'preamble' || this.#state === 'body') {
        const at = this.#pending.indexOf(this.#delimiter);
        if (at < 0) {
          // Keep a tail that might be the start of a delimiter.
          const safe = this.#pending.length - (this.#delimiter.length - 1);
          if (safe > 0) {
            if (this.#state === 'body')
              this.handlers.data(this.#index, this.#pending.subarray(0, safe));
            this.#pending = this.#pending.subarray(safe);
          }
          return;
        }
        if (this.#state === 'body' && at > 0) {
          this.handlers.data(this.#index, this.#pending.subarray(0, at));
        }
        this.#pending = this.#pending.subarray(at + this.#delimiter.length);
        this.#state = 'afterDelimiter';
      }
      if (this.#state === 'afterDelimiter') {
        if (this.#pending.length < 2) return;
        const next = this.#pending.subarray(0, 2).toString('latin1');
        if (next === '--') {
          this.#state = 'done';
          return;
        }
        if (next !== '\r\n') throw badRequest('Malformed multipart body.');
        this.#pending = this.#pending.subarray(2);
        this.#state = 'headers';
      }
      if (this.#state === 'headers') {
        // A part without headers starts right away with the blank line.
        const end = this.#pending.subarray(0, 2).equals(HEADER_END.subarray(2))
          ? -2
          : this.#pending.indexOf(HEADER_END);
        if (end === -2) {
          this.#pending = this.#pending.subarray(2);
          this.#index += 1;
          this.handlers.part(this.#index, {});
          this.#state = 'body';
          continue;
        }
        if (end < 0) {
          if (this.#pending.length > HEADER_LIMIT) throw badRequest('Multipart headers too long.');
          return;
        }
        const headers: Record<string, string> = {};
        for (const line of this.#pending.subarray(0, end).toString('latin1').split('\r\n')) {
          const colon = line.indexOf(':');
          if (colon > 0)
            headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
        }
        this.#pending = this.#pending.subarray(end + HEADER_END.length);
        this.#index += 1;
        this.handlers.part(this.#index, headers);
        this.#state = 'body';
      }
    }
  }
}
