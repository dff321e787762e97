/**
 * A 50 MiB file is streamed to a real clamd without the scanner holding more than a few chunks:
 * every time the scanner asks the source for more, the bytes it has taken but the kernel has not
 * yet accepted from its socket are counted. Buffering the file, or writing without waiting for
 * the socket to drain, makes that number grow with the file.
 */
import { strict as assert } from 'node:assert';
import { randomFillSync } from 'node:crypto';
import diagnostics from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { SIGNATURES, eicar, startClamd, type TestClamd } from '../../../test/harness/clamd.js';
import { ClamdScanner } from './clamd-scanner.js';
import { ScanVerdict } from './scanner.js';

const MIB = 1024 * 1024;
const CHUNK_SIZE = 64 * 1024;
/** Source pieces deliberately not a multiple of the chunk size. */
const PIECE_SIZE = 100 * 1024;

let clamd: TestClamd;
before(async () => {
  clamd = await startClamd({ streamMaxLength: '100M' });
});
after(() => clamd.stop());

/** The client sockets this process opens while `run` runs (node's net diagnostics channel). */
async function watchSockets<T>(run: (sockets: Socket[]) => Promise<T>): Promise<T> {
  const sockets: Socket[] = [];
  const onSocket = (message: unknown): void => {
    sockets.push((message as { socket: Socket }).socket);
  };
  diagnostics.subscribe('net.client.socket', onSocket);
  try {
    return await run(sockets);
  } finally {
    diagnostics.unsubscribe('net.client.socket', onSocket);
  }
}

for (const transport of ['TCP', 'unix socket'] as const) {
  describe(`ClamdScanner memory (${transport})`, () => {
    it('scans 50 MiB holding at most a few chunks at a time', async () => {
      const size = 50 * MIB;
      const pattern = randomFillSync(Buffer.alloc(PIECE_SIZE));
      const tail = eicar();
      let produced = 0;
      let pulls = 0;
      let maxHeld = 0;
      let socket: Socket | undefined;

      const source = new Readable({
        highWaterMark: CHUNK_SIZE,
        read() {
          if (socket) {
            // Taken by the scanner = produced minus what still waits in this stream's buffer;
            // accepted by the kernel = written minus what still waits in the socket's buffer.
            const taken = produced - this.readableLength;
            const accepted = (socket.bytesWritten ?? 0) - socket.writableLength;
            maxHeld = Math.max(maxHeld, taken - accepted);
          }
          pulls += 1;
          if (produced >= size + tail.length) {
            this.push(null);
          } else if (produced >= size) {
            produced += tail.length;
            this.push(tail);
          } else {
            const piece = pattern.subarray(0, Math.min(PIECE_SIZE, size - produced));
            produced += piece.length;
            this.push(Buffer.from(piece)); // a fresh buffer, as a file read would give
          }
        },
      });

      const url = transport === 'TCP' ? clamd.url : clamd.socketUrl;
      const scanner = new ClamdScanner({ url, chunkSize: CHUNK_SIZE });
      const result = await watchSockets(async (sockets) => {
        const scan = scanner.scan(source);
        socket = sockets.at(-1);
        return scan;
      });

      assert.ok(socket, 'the scanner opened a socket');
      // EICAR at the very end is found: every byte before it went through, in order.
      assert.deepEqual(result, { verdict: ScanVerdict.infected, signature: SIGNATURES.eicar });
      assert.equal(produced, size + tail.length);
      // Payload, a 4-byte length per chunk, the command and the end marker.
      assert.ok(socket.bytesWritten >= size + tail.length + 4 * (size / CHUNK_SIZE));
      assert.ok(pulls > size / PIECE_SIZE, `only ${pulls} pulls`);
      assert.ok(
        maxHeld <= PIECE_SIZE + 2 * CHUNK_SIZE,
        `held up to ${maxHeld} bytes (bound ${PIECE_SIZE + 2 * CHUNK_SIZE})`,
      );
    });
  });
}
