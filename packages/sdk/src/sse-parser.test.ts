import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { SseParser, type ServerSentEvent } from './sse-parser.js';

interface Parsed {
  events: Array<ServerSentEvent & { id: string }>;
  lastEventId: string;
  retry?: number;
}

/** Feeds `pieces` one by one, recording each event with the id current when it arrived. */
function parse(pieces: string[], lastEventId = ''): Parsed {
  const events: Parsed['events'] = [];
  const parser: SseParser = new SseParser(
    (event) => events.push({ ...event, id: parser.lastEventId }),
    lastEventId,
  );
  for (const piece of pieces) parser.push(piece);
  return {
    events,
    lastEventId: parser.lastEventId,
    ...(parser.retry !== undefined ? { retry: parser.retry } : {}),
  };
}

/** Every way of cutting `text` into two and three pieces. */
function* splits(text: string): Generator<string[]> {
  for (let a = 0; a <= text.length; a++) {
    yield [text.slice(0, a), text.slice(a)];
    for (let b = a; b <= text.length; b += 7) {
      yield [text.slice(0, a), text.slice(a, b), text.slice(b)];
    }
  }
}

const STREAM =
  'retry: 2000\n\n' +
  ': keep-alive\n\n' +
  'id: 41\nevent: upload.received\ndata: {"a":1}\n\n' +
  'id: 42\r\nevent: upload.ready\r\ndata: first line\r\ndata: second line\r\n\r\n' +
  'id: 43\revent: session.completed\rdata:no space\r\r' +
  'data: ünïcödé ✓\n\n';

const EXPECTED: Parsed = {
  events: [
    { type: 'upload.received', data: '{"a":1}', id: '41' },
    { type: 'upload.ready', data: 'first line\nsecond line', id: '42' },
    { type: 'session.completed', data: 'no space', id: '43' },
    { type: 'message', data: 'ünïcödé ✓', id: '43' },
  ],
  lastEventId: '43',
  retry: 2000,
};

describe('SseParser', () => {
  it('parses a stream in one piece', () => {
    assert.deepEqual(parse([STREAM]), EXPECTED);
  });

  it('gives the same events however the stream is cut (also between CR and LF)', () => {
    let cuts = 0;
    for (const pieces of splits(STREAM)) {
      assert.deepEqual(parse(pieces), EXPECTED, JSON.stringify(pieces));
      cuts++;
    }
    assert.ok(cuts > 1000);
  });

  it('delivers a message as soon as its last line ends, also with CR line ends', () => {
    for (const eol of ['\n', '\r', '\r\n']) {
      const events: ServerSentEvent[] = [];
      const parser = new SseParser((event) => events.push(event));
      parser.push(`data: one${eol}${eol}`);
      assert.deepEqual(events, [{ type: 'message', data: 'one' }], JSON.stringify(eol));
      parser.push(`${eol === '\r' ? '\n' : ''}data: two${eol}`);
      parser.push('');
      parser.push(eol);
      assert.equal(events.length, 2);
      assert.equal(events[1]?.data, 'two');
    }
    // An LF alone after a piece that ended in CR completes CRLF; the next LF is a blank line.
    assert.deepEqual(parse(['data: x\r', '\n', '\n']).events, [
      { type: 'message', data: 'x', id: '' },
    ]);
  });

  it('never delivers a message cut off by the end of the connection, nor takes its id', () => {
    const result = parse(['id: 7\ndata: done\n\nid: 8\ndata: half']);
    assert.deepEqual(result.events, [{ type: 'message', data: 'done', id: '7' }]);
    assert.equal(result.lastEventId, '7');
  });

  it('keeps the id it was given until a message brings another', () => {
    assert.equal(parse([': hello\n\n'], '12').lastEventId, '12');
    // An id with no data moves the id on without delivering anything.
    const idOnly = parse(['id: 13\n\n'], '12');
    assert.deepEqual(idOnly, { events: [], lastEventId: '13' });
  });

  it('follows the standard on odd fields', () => {
    const result = parse([
      'data\n\n', // a field without a colon: empty data, still a message
      'data:  two spaces\n\n', // only one space after the colon is dropped
      'event: ignored\n\n', // no data: nothing delivered, the type is reset
      'data: x\n\n',
      'retry: soon\nid: a\0b\nunknown: y\ndata: z\n\n', // bad retry and ids with NUL are ignored
    ]);
    assert.deepEqual(
      result.events.map(({ type, data }) => [type, data]),
      [
        ['message', ''],
        ['message', ' two spaces'],
        ['message', 'x'],
        ['message', 'z'],
      ],
    );
    assert.equal(result.retry, undefined);
    assert.equal(result.lastEventId, '');
  });
});
