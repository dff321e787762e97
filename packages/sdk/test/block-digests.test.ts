/**
 * Chunks of 4 MiB are the content hash's blocks: the digests hashed for the content hash are
 * sent as the chunks' `Content-Digest`, so every byte is hashed once. Other chunk sizes are
 * hashed per chunk. Digest calls are counted on Web Crypto itself, by the bytes they hashed.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import {
  CONTENT_HASH_BLOCK_SIZE,
  HEADERS,
  chunkRange,
  formatContentDigest,
} from '@file-uploader/protocol';
import {
  expectStoredObject,
  startTestServer,
  TEST_CHUNK_SIZE,
  type TestServer,
} from '../../../reference-server/test/harness.js';
import { MemoryResumeStore } from '@file-uploader/sdk';
import { startFaultProxy, type FaultProxy } from './fault-proxy.js';
import { blobOf, proxiedUploader, sample } from './node-kit.js';

const MiB = 1024 * 1024;
const hex = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Counts `crypto.subtle.digest` calls per SHA-256 of their input, and the most at once. */
function countDigests() {
  const subtle = globalThis.crypto.subtle;
  const original = subtle.digest;
  const calls = new Map<string, number>();
  let open = 0;
  let mostAtOnce = 0;
  subtle.digest = async function (this: SubtleCrypto, algorithm, data) {
    const bytes = ArrayBuffer.isView(data)
      ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength)
      : new Uint8Array(data);
    const key = hex(bytes);
    calls.set(key, (calls.get(key) ?? 0) + 1);
    mostAtOnce = Math.max(mostAtOnce, ++open);
    try {
      return await original.call(this, algorithm, data);
    } finally {
      open--;
    }
  };
  return {
    /** How often these bytes were hashed. */
    of: (bytes: Uint8Array) => calls.get(hex(bytes)) ?? 0,
    get total() {
      return [...calls.values()].reduce((a, b) => a + b, 0);
    },
    get mostAtOnce() {
      return mostAtOnce;
    },
    restore: () => {
      subtle.digest = original;
    },
  };
}

/** Uploads `bytes` through a proxy to a server with `chunkSize`; checks every chunk's digest. */
async function uploadCounting(chunkSize: number, bytes: Buffer, user: string) {
  const counter = countDigests();
  try {
    const up = proxiedUploader(proxy(chunkSize), server(chunkSize), user);
    const upload = up.add({ blob: blobOf(bytes), name: `${user}.pdf`, type: 'application/pdf' });
    const result = await upload.done;
    assert.equal(result.status, 'ready');
    await expectStoredObject(server(chunkSize), user, result, bytes);
    // The server checked a digest on every chunk, each the SHA-256 of that chunk's bytes.
    const chunks = Math.ceil(bytes.length / chunkSize);
    const sent = proxy(chunkSize).stats.records.filter((r) => r.route === 'chunk');
    assert.equal(sent.length, chunks);
    for (const record of sent) {
      const { start, end } = chunkRange((record.start ?? 0) / chunkSize, bytes.length, chunkSize);
      const chunk = bytes.subarray(start, end + 1);
      const expected = formatContentDigest(createHash('sha256').update(chunk).digest());
      assert.equal(record.headers[HEADERS.contentDigest.toLowerCase()], expected);
      assert.equal(record.upstreamStatus, 200);
    }
    return counter;
  } finally {
    counter.restore();
  }
}

const servers = new Map<number, { server: TestServer; proxy: FaultProxy }>();
const server = (chunkSize: number) => (servers.get(chunkSize) as { server: TestServer }).server;
const proxy = (chunkSize: number) => (servers.get(chunkSize) as { proxy: FaultProxy }).proxy;

before(async () => {
  for (const chunkSize of [CONTENT_HASH_BLOCK_SIZE, TEST_CHUNK_SIZE]) {
    const started = await startTestServer({ CHUNK_SIZE: String(chunkSize) });
    servers.set(chunkSize, { server: started, proxy: await startFaultProxy(started.url) });
  }
});

after(async () => {
  for (const { server: s, proxy: p } of servers.values()) {
    await p.close();
    await s.stop();
  }
});

beforeEach(() => servers.forEach(({ proxy: p }) => p.reset()));

describe('chunk digests', () => {
  it('with 4 MiB chunks, hashes every chunk once and sends the content hash blocks as digests', async () => {
    const bytes = sample(4 * CONTENT_HASH_BLOCK_SIZE + 3 * MiB);
    const counted = await uploadCounting(CONTENT_HASH_BLOCK_SIZE, bytes, 'four-mib');
    for (let start = 0; start < bytes.length; start += CONTENT_HASH_BLOCK_SIZE) {
      const block = bytes.subarray(start, start + CONTENT_HASH_BLOCK_SIZE);
      assert.equal(counted.of(block), 1, `the block at ${start} was hashed once`);
    }
    // Five blocks, and the content hash over their digests: nothing else.
    assert.equal(counted.total, 5 + 1);
    assert.ok(counted.mostAtOnce <= 3, `at most 3 blocks hashed at once (${counted.mostAtOnce})`);
    assert.ok(counted.mostAtOnce >= 2, `blocks were hashed side by side (${counted.mostAtOnce})`);
  });

  it('with chunks of another size, hashes each chunk on its own', async () => {
    const bytes = sample(CONTENT_HASH_BLOCK_SIZE + 5 * TEST_CHUNK_SIZE + 1000);
    const counted = await uploadCounting(TEST_CHUNK_SIZE, bytes, 'small-chunks');
    const chunks = Math.ceil(bytes.length / TEST_CHUNK_SIZE);
    for (let start = 0; start < bytes.length; start += TEST_CHUNK_SIZE) {
      const chunk = bytes.subarray(start, start + TEST_CHUNK_SIZE);
      assert.equal(counted.of(chunk), 1, `the chunk at ${start} was hashed once`);
    }
    // The two blocks and the content hash, then every chunk.
    assert.equal(counted.total, 2 + 1 + chunks);
  });

  it('a resumed upload of 4 MiB chunks sends the digests its file check hashed', async () => {
    const bytes = sample(3 * CONTENT_HASH_BLOCK_SIZE + 1 * MiB);
    const store = new MemoryResumeStore();
    const first = proxiedUploader(
      proxy(CONTENT_HASH_BLOCK_SIZE),
      server(CONTENT_HASH_BLOCK_SIZE),
      'resumer',
      {
        resume: store,
        concurrency: { chunks: 1 },
      },
    );
    const started = first.add({
      blob: blobOf(bytes),
      name: 'resumed.pdf',
      type: 'application/pdf',
    });
    // Paused once the server confirmed a chunk.
    proxy(CONTENT_HASH_BLOCK_SIZE).events.on('settled', (r) => {
      if (r.route === 'chunk' && r.upstreamStatus === 200) started.pause();
    });
    await new Promise<void>((resolve) =>
      first.addEventListener('state', (e) => e.upload.state === 'paused' && resolve()),
    );

    const counted = countDigests();
    try {
      const second = proxiedUploader(
        proxy(CONTENT_HASH_BLOCK_SIZE),
        server(CONTENT_HASH_BLOCK_SIZE),
        'resumer',
        {
          resume: store,
        },
      );
      const [pending] = await second.resumable();
      assert.ok(pending, 'the paused upload can be resumed');
      const upload = await pending.resume(blobOf(bytes));
      const result = await upload.done;
      assert.equal(result.status, 'ready');
      await expectStoredObject(server(CONTENT_HASH_BLOCK_SIZE), 'resumer', result, bytes);
      // The check that it is the same file hashed four blocks and the content hash; the chunks
      // went up with those digests.
      assert.equal(counted.total, 4 + 1);
    } finally {
      counted.restore();
    }
  });
});
