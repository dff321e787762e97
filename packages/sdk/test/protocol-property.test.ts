/**
 * A property of the protocol itself, checked with raw requests (no SDK) against one real
 * server: whatever the order of chunk deliveries, with duplicates, deliveries whose answer is
 * lost, and deliveries cut off mid-body, a file whose every chunk arrives at least once ends
 * `ready` with exactly the source's bytes.
 */
import { strict as assert } from 'node:assert';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import {
  api,
  chunkOf,
  digestOf,
  eventually,
  expectStoredObject,
  rawChunkHead,
  startTestServer,
  storedChunks,
  TEST_CHUNK_SIZE,
  type Api,
  type TestServer,
} from '../../../reference-server/test/harness.js';

const CHUNK = TEST_CHUNK_SIZE;
const MAX_SIZE = 1.5 * 1024 * 1024;
const USER = 'property';
const PDF_MAGIC = Buffer.from('%PDF-', 'latin1');

let server: TestServer;
let token: string;
let client: Api;
/** 5xx answers to deliveries (retried). */
const serverErrors: string[] = [];

before(async () => {
  server = await startTestServer();
  token = await server.token(USER);
  client = api(server, token);
});

after(async () => {
  await server?.stop();
});

/** `size` bytes that the server takes for a PDF (its magic number), the rest from `seed`. */
function sourceBytes(size: number, seed: number): Buffer {
  const words = new Uint32Array(Math.ceil(size / 4));
  let x = seed | 1;
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  const bytes = Buffer.from(words.buffer, 0, size);
  PDF_MAGIC.copy(bytes, 0, 0, Math.min(size, PDF_MAGIC.length));
  return bytes;
}

type Mode = 'ok' | 'lost' | 'partial';

interface Delivery {
  index: number;
  mode: Mode;
  /** Sent together with the delivery before it. */
  together: boolean;
}

/**
 * Writes a whole chunk request on a raw connection and hangs up without reading the answer
 * ('lost': the server may or may not finish storing it), or hangs up halfway through the body
 * ('partial': nothing is stored).
 */
function sendAndHangUp(
  ids: { sessionId: string; fileId: string },
  bytes: Buffer,
  index: number,
  mode: 'lost' | 'partial',
) {
  const chunk = chunkOf(ids, bytes, index, CHUNK);
  const head = rawChunkHead(server, token, {
    ...chunk,
    contentLength: chunk.body.length,
    digest: digestOf(chunk.body),
  });
  const body = mode === 'lost' ? chunk.body : chunk.body.subarray(0, chunk.body.length >> 1);
  return new Promise<void>((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    socket.on('error', () => resolve());
    socket.on('close', () => resolve());
    socket.on('connect', () => {
      socket.write(head);
      socket.write(body, () => socket.destroy());
    });
  });
}

const schedule = (total: number) =>
  fc
    .tuple(
      // The deliveries that do arrive, one per chunk, in a random order...
      fc.shuffledSubarray(
        Array.from({ length: total }, (_, i) => i),
        { minLength: total, maxLength: total },
      ),
      // ...and extra ones: duplicates, lost answers, bodies cut off.
      fc.array(
        fc.record({
          index: fc.nat(total - 1),
          mode: fc.constantFrom<Mode>('ok', 'lost', 'partial'),
        }),
        { maxLength: 2 * total + 2 },
      ),
    )
    .chain(([order, extras]) => {
      const all = [...order.map((index) => ({ index, mode: 'ok' as Mode })), ...extras];
      return fc
        .tuple(
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), {
            minLength: all.length,
            maxLength: all.length,
          }),
          fc.array(fc.boolean(), { minLength: all.length, maxLength: all.length }),
        )
        .map(([keys, together]) =>
          all
            .map((d, i) => ({ ...d, key: keys[i] as number, together: together[i] as boolean }))
            .sort((a, b) => a.key - b.key)
            .map(({ index, mode, together: t }): Delivery => ({ index, mode, together: t })),
        );
    });

const sizes = fc.oneof(
  fc.integer({ min: 1, max: MAX_SIZE }),
  fc.constantFrom(1, 5, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, MAX_SIZE),
);

describe('protocol property', () => {
  it('any order, duplicates, lost and cut-off deliveries: ready with the source SHA-256', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        sizes.chain((size) =>
          fc.tuple(fc.constant(size), fc.integer(), schedule(Math.max(1, Math.ceil(size / CHUNK)))),
        ),
        async ([size, seed, deliveries]) => {
          runs++;
          try {
            await deliver(size, seed, deliveries);
          } catch (err) {
            // node:test does not print the cause fast-check wraps the failure in.
            console.error(`size ${size}, seed ${seed}:`, err);
            throw err;
          }
        },
      ),
      { numRuns: 25 },
    );
    assert.equal(runs >= 25, true);
    if (serverErrors.length > 0) {
      console.log(`the server answered 5xx to ${serverErrors.length} deliveries:`, serverErrors);
    }
  });
});

/** Initiates a file, runs the deliveries, and checks the outcome. */
async function deliver(size: number, seed: number, deliveries: Delivery[]): Promise<void> {
  const bytes = sourceBytes(size, seed);
  // Under 5 bytes there is no room for "%PDF-": the content matches no allowed type.
  const willBeReady = size >= PDF_MAGIC.length;
  const init = await client.initiate({
    files: [{ name: 'property.pdf', size, type: 'application/pdf' }],
  });
  assert.equal(init.status, 201, JSON.stringify(init.body));
  const file = init.body.files[0];
  assert.ok(file);
  const ids = { sessionId: init.body.sessionId, fileId: file.fileId };
  assert.equal(file.totalChunks, Math.ceil(size / CHUNK));

  // Deliveries marked `together` go out at once with the one before them.
  const groups: Delivery[][] = [];
  for (const d of deliveries) {
    const last = groups.at(-1);
    if (d.together && last) last.push(d);
    else groups.push([d]);
  }
  for (const group of groups) {
    await Promise.all(
      group.map(async ({ index, mode }) => {
        if (mode !== 'ok') return sendAndHangUp(ids, bytes, index, mode);
        // A 5xx is retryable: it is no delivery, so the chunk goes again (as any client does).
        // The reference server can answer 500 when a repeat reads the stored chunk just as
        // the assembly removes it (ENOENT); the count is logged so it stays visible.
        let res = await client.chunk({ ...chunkOf(ids, bytes, index, CHUNK), digest: true });
        for (let attempt = 1; res.status >= 500 && attempt <= 5; attempt++) {
          serverErrors.push(`chunk ${index}: ${res.status} ${JSON.stringify(res.body)}`);
          res = await client.chunk({ ...chunkOf(ids, bytes, index, CHUNK), digest: true });
        }
        // A rejected file keeps no bytes, so a repeat after the rejection cannot be
        // compared with anything and answers 409 (see docs/protocol.md, "Repeats").
        if (!willBeReady && res.status === 409) return;
        assert.equal(res.status, 200, `chunk ${index}: ${res.status} ${JSON.stringify(res.body)}`);
        assert.equal(res.body.chunkIndex, index);
      }),
    );
  }

  const status = await eventually(
    async () => {
      const res = await client.status(file.fileId);
      return res.body.status === 'ready' || res.body.status === 'rejected' ? res : undefined;
    },
    5_000,
    20,
  );
  assert.ok(status, 'the file reached an outcome');
  assert.equal(status.body.status, willBeReady ? 'ready' : 'rejected');
  if (status.body.status === 'ready') {
    assert.equal(status.body.receivedBytes, size);
    await expectStoredObject(server, USER, ids, bytes);
  } else {
    assert.equal(status.body.error?.code, 'type_mismatch');
  }
  // Nothing is left in staging once the file is done (late lost deliveries included).
  const leftovers = await eventually(
    async () => (await storedChunks(server.dataDir, ids.sessionId, ids.fileId)).length === 0,
    2_000,
    20,
  );
  assert.ok(leftovers, 'no chunk files remain');
}
