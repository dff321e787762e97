import { isUploadEvent, routePath, type UploadEvent } from '@file-uploader/protocol';

/** An open `text/event-stream` response, read event by event. */
export interface EventStreamReader {
  status: number;
  contentType: string | null;
  /** The next event, or undefined when the stream ends. */
  next(): Promise<UploadEvent | undefined>;
  /** Reads until `count` events have arrived (fails if the stream ends first). */
  take(count: number): Promise<UploadEvent[]>;
  /** Reads until an event of `type` arrives; returns everything read up to and including it. */
  until(type: UploadEvent['type']): Promise<UploadEvent[]>;
  /** Comment lines (heartbeats) seen so far. */
  comments: number;
  close(): void;
}

/** Opens `GET /session/:id/events` with fetch, as the SDK does (headers allowed). */
export async function openEventStream(
  baseUrl: string,
  token: string,
  sessionId: string,
  headers: Record<string, string> = {},
): Promise<EventStreamReader> {
  const controller = new AbortController();
  const res = await fetch(baseUrl + routePath('sessionEvents', { sessionId }), {
    headers: { Authorization: `Bearer ${token}`, ...headers },
    signal: controller.signal,
  });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const stream: EventStreamReader = {
    status: res.status,
    contentType: res.headers.get('content-type'),
    comments: 0,
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const lines = block.split('\n');
          const data = lines.filter((l) => l.startsWith('data: ')).map((l) => l.slice(6));
          stream.comments += lines.filter((l) => l.startsWith(':')).length;
          if (data.length === 0) continue; // retry: or a comment
          const event: unknown = JSON.parse(data.join('\n'));
          if (!isUploadEvent(event)) throw new Error(`Not an upload event: ${data.join('\n')}`);
          const id = lines.find((l) => l.startsWith('id: '))?.slice(4);
          const type = lines.find((l) => l.startsWith('event: '))?.slice(7);
          if (id !== event.seq || type !== event.type) {
            throw new Error(`SSE fields ${id}/${type} disagree with ${event.seq}/${event.type}`);
          }
          return event;
        }
        const { value, done } = await reader.read().catch((err: unknown) => {
          if (controller.signal.aborted) return { value: undefined, done: true };
          throw err;
        });
        if (done) return undefined;
        buffer += value;
      }
    },
    async take(count) {
      const events: UploadEvent[] = [];
      while (events.length < count) {
        const event = await stream.next();
        if (!event) throw new Error(`Stream ended after ${events.length} of ${count} events`);
        events.push(event);
      }
      return events;
    },
    async until(type) {
      const events: UploadEvent[] = [];
      for (;;) {
        const event = await stream.next();
        if (!event) throw new Error(`Stream ended before ${type}`);
        events.push(event);
        if (event.type === type) return events;
      }
    },
    close() {
      controller.abort();
    },
  };
  return stream;
}
