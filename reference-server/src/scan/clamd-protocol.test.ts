/**
 * ClamdScanner against peers that break clamd's protocol in ways a real clamd does not (those are
 * covered with the real one elsewhere): whatever the peer says, only a well-formed `stream: OK`
 * after the whole file counts as clean.
 */
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ClamdScanner } from './clamd-scanner.js';
import { ScanError, ScanErrorKind } from './scanner.js';

const servers = new Set<net.Server>();
after(async () => {
  await Promise.all(
    [...servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
});

/** A loopback server that runs `onConnection` for each client; resolves with its URL. */
async function peer(onConnection: (socket: net.Socket) => void): Promise<string> {
  const server = net.createServer((socket) => {
    socket.on('error', () => undefined);
    onConnection(socket);
  });
  servers.add(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return `tcp://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

async function assertKind(promise: Promise<unknown>, kind: ScanErrorKind): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof ScanError, String(err));
    assert.equal(err.kind, kind, err.message);
    return true;
  });
}

/**
 * 4 MiB read a piece at a time with a timer between pieces, so the peer's early answer arrives
 * while the file is still being sent, however fast the machine empties the socket buffers.
 */
const slowFile = () =>
  Readable.from(
    (async function* () {
      for (let i = 0; i < 64; i++) {
        yield Buffer.alloc(64 * 1024, 1);
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
    })(),
  );

describe('ClamdScanner with a misbehaving peer', () => {
  it('does not take an "OK" that comes before the end of the file', async () => {
    const url = await peer((socket) => {
      socket.once('data', () => socket.write('stream: OK\0')); // and keeps reading, unlike clamd
      socket.resume();
    });
    await assertKind(new ClamdScanner({ url }).scan(slowFile()), ScanErrorKind.protocol_error);
  });

  it('maps an unknown answer, an over-long answer and silence-then-close', async () => {
    const garbage = await peer((socket) => socket.once('data', () => socket.end('HELLO\0')));
    await assertKind(
      new ClamdScanner({ url: garbage }).scan(Readable.from([Buffer.from('x')])),
      ScanErrorKind.protocol_error,
    );
    const chatty = await peer((socket) =>
      socket.once('data', () => socket.write(Buffer.alloc(10_000, 0x41))),
    );
    await assertKind(
      new ClamdScanner({ url: chatty }).scan(Readable.from([Buffer.from('x')])),
      ScanErrorKind.protocol_error,
    );
    const mute = await peer((socket) => socket.once('data', () => socket.end()));
    await assertKind(
      new ClamdScanner({ url: mute }).scan(Readable.from([Buffer.from('x')])),
      ScanErrorKind.connection_lost,
    );
    await assertKind(new ClamdScanner({ url: mute }).ping(), ScanErrorKind.connection_lost);
  });

  it('maps an ERROR answer to scanner_error', async () => {
    const url = await peer((socket) =>
      socket.once('data', () => socket.end("Can't allocate memory ERROR\0")),
    );
    await assertKind(
      new ClamdScanner({ url }).scan(Readable.from([Buffer.from('x')])),
      ScanErrorKind.scanner_error,
    );
    await assertKind(new ClamdScanner({ url }).version(), ScanErrorKind.protocol_error);
  });
});
