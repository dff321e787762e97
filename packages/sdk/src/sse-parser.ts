/** One message of a `text/event-stream`. */
export interface ServerSentEvent {
  /** The `event:` field; `message` when the server sent none. */
  type: string;
  data: string;
}

/**
 * An incremental `text/event-stream` parser, as the WHATWG HTML standard interprets one
 * ("Interpreting an event stream"): fed decoded text in pieces of any size, it calls `onEvent`
 * for each complete message as soon as its last line ends. Lines end in CRLF, LF or CR, also
 * when a piece ends between CR and LF; comments are skipped; `id:` and `retry:` are kept.
 * A message cut off by the end of the connection is never delivered.
 */
export class SseParser {
  /** The id of the last delivered message: what a reconnect sends as `Last-Event-ID`. */
  lastEventId: string;
  /** The reconnection time the server asked for (`retry:`), in milliseconds. */
  retry?: number;
  #rest = '';
  #type = '';
  #data = '';
  #id: string;
  #cr = false;

  constructor(
    private readonly onEvent: (event: ServerSentEvent) => void,
    lastEventId = '',
  ) {
    this.lastEventId = this.#id = lastEventId;
  }

  push(text: string): void {
    // A CR that ended the last piece ended its line; an LF starting this one belongs to it.
    if (!text) return;
    if (this.#cr && text[0] === '\n') text = text.slice(1);
    this.#cr = text.endsWith('\r');
    const lines = (this.#rest + text).split(/\r\n?|\n/);
    this.#rest = lines.pop() as string;
    for (const line of lines) {
      if (!line) {
        // A blank line ends a message; the id counts even for one without data.
        this.lastEventId = this.#id;
        const data = this.#data;
        const type = this.#type || 'message';
        this.#data = this.#type = '';
        if (data) this.onEvent({ type, data: data.slice(0, -1) });
        continue;
      }
      const colon = line.indexOf(':');
      if (colon === 0) continue; // a comment (keep-alive)
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + (line[colon + 1] === ' ' ? 2 : 1));
      if (field === 'data') this.#data += `${value}\n`;
      else if (field === 'event') this.#type = value;
      else if (field === 'id' && !value.includes('\0')) this.#id = value;
      else if (field === 'retry' && /^\d+$/.test(value)) this.retry = +value;
    }
  }
}
