/**
 * A deployment in miniature: three reference-server instances sharing one real redis-server and
 * one bucket (the GCS emulator, through the real client), behind a round-robin proxy made here.
 * Twenty uploads by the Node SDK spread their chunks over all three; one instance is killed with
 * SIGKILL half-way. Every upload must end ready with its exact bytes in the bucket, dedupe must
 * work across instances, and no staging object may be left after cleanup.
 */
import { strict as assert } from 'node:assert';
import { randomBytes as cryptoRandomBytes, randomUUID } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { API_PREFIX } from '@file-uploader/protocol';
import { createUploader, TERMINAL_STATES, type Upload } from '@file-uploader/sdk/node';
import { pdf, randomBytes } from '../reference-server/test/fixtures.js';
import {
  contentHash,
  eventually,
  sha256,
  startTestServer,
  tempDir,
  type TestServer,
} from '../reference-server/test/harness.js';
import { startGcsEmulator, type GcsEmulator } from './gcs-emulator/index.js';
import { startRedis, type TestRedis } from './harness/redis.js';

const USER = 'fleet-user';
const BUCKET = 'fleet';
const UPLOADS = 20;

/** Round-robin over the backends still listed; a backend that refuses gets a 502 answer. */
class RoundRobinProxy {
  readonly server: http.Server;
  readonly hits = new Map<string, number>();
  chunkRequests = 0;
  #next = 0;

  constructor(readonly backends: string[]) {
    this.server = http.createServer((req, res) => this.#forward(req, res));
  }

  get url(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  #forward(req: http.IncomingMessage, res: http.ServerResponse): void {
    const backend = this.backends[this.#next++ % this.backends.length]!;
    this.hits.set(backend, (this.hits.get(backend) ?? 0) + 1);
    if (req.url?.endsWith('/chunk')) this.chunkRequests++;
    const target = new URL(req.url ?? '/', backend);
    const upstream = http.request(
      target,
      { method: req.method, headers: { ...req.headers, host: target.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      res.writeHead(502, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ error: { code: 'unavailable', message: 'Backend unreachable.' } }));
    });
    req.pipe(upstream);
  }
}

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

describe('three instances, one Redis, one bucket', () => {
  let redis: TestRedis;
  let gcs: GcsEmulator;
  let env: Record<string, string>;
  let instances: TestServer[];
  let proxy: RoundRobinProxy;

  before(async () => {
    [redis, gcs] = await Promise.all([startRedis(), startGcsEmulator()]);
    await gcs.storage().bucket(BUCKET).create();
    const keyFile = path.join(await tempDir('fu-fleet-'), 'key.json');
    await writeFile(keyFile, JSON.stringify(gcs.serviceAccountKey));
    env = {
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: `fleet${randomUUID().slice(0, 6)}:`,
      STORAGE: 'gcs',
      GCS_BUCKET: BUCKET,
      GCS_API_ENDPOINT: gcs.url,
      GCS_PROJECT_ID: gcs.projectId,
      GCS_KEY_FILE: keyFile,
      JWT_SECRET: cryptoRandomBytes(36).toString('base64url'),
      DOWNLOAD_SECRET: cryptoRandomBytes(36).toString('base64url'),
      LOG_LEVEL: 'info',
    };
    instances = [];
    // One after the other: three processes starting at once strain a small machine.
    for (let i = 0; i < 3; i++) instances.push(await startTestServer(env));
    proxy = new RoundRobinProxy(instances.map((server) => server.url));
    await proxy.listen();
  });

  after(async () => {
    await proxy?.close();
    await Promise.all((instances ?? []).map((server) => server.stop().catch(() => undefined)));
    await gcs?.stop();
    await redis?.stop();
  });

  // Three servers, a Redis and the emulator on two cores, beside another test file. An instance
  // killed while it assembles holds that file's lock for one lease (15 s) before another takes
  // over, so a run takes 10-30 s on an idle machine and several times that under load. The
  // runner's bound on the whole file (scripts/run-tests.mjs) is 300 s.
  test(
    '20 uploads across the instances survive one of them being killed half-way',
    { timeout: 240_000 },
    async (t) => {
      const startedAt = Date.now();
      // Where a run got to, printed with its result even when it times out.
      const reached = (what: string) => t.diagnostic(`${what} after ${Date.now() - startedAt} ms`);
      const token = await instances[0]!.token(USER);
      const uploader = createUploader({
        endpoint: `${proxy.url}${API_PREFIX}`,
        getToken: () => token,
        retry: { retries: 30, minTimeoutMs: 20, maxTimeoutMs: 300 },
        stallTimeoutMs: 15_000,
        resume: false,
      });
      const files = Array.from({ length: UPLOADS }, (_, i) => sample(1024 * 1024 + i * 37_123));
      const uploads: Upload[] = files.map((bytes, i) =>
        uploader.add(
          new File([bytes as Uint8Array<ArrayBuffer>], `f${i}.pdf`, { type: 'application/pdf' }),
        ),
      );
      const total = files.reduce((sum, bytes) => sum + bytes.length, 0);
      const confirmed = () => uploads.reduce((sum, u) => sum + u.progress.confirmedBytes, 0);
      const halfway = await eventually(async () => confirmed() >= total / 2, 120_000, 20);
      assert.ok(halfway, 'half of the bytes were confirmed');
      reached('half of the bytes confirmed');
      const victim = instances[1]!;
      await victim.kill(); // SIGKILL: whatever it was doing is cut off
      proxy.backends.splice(proxy.backends.indexOf(victim.url), 1);

      // Bounded inside the test's own timeout, so a hang says which uploads were stuck where.
      const settled = await eventually(
        async () => uploads.every((u) => u.state === 'failed' || TERMINAL_STATES.includes(u.state)),
        Math.max(10_000, 200_000 - (Date.now() - startedAt)),
        50,
      );
      assert.ok(
        settled,
        `uploads not settled: ${uploads.map((u, i) => `${i} ${u.state} ${u.progress.confirmedBytes}/${u.size}`).join(', ')}`,
      );
      reached('all 20 uploads settled');
      const results = await Promise.all(uploads.map((u) => u.done));
      for (const [i, result] of results.entries()) {
        assert.equal(result.status, 'ready', `upload ${i}`);
        assert.equal(result.contentHash, contentHash(files[i]!), `content hash of upload ${i}`);
      }
      for (const url of instances.map((s) => s.url)) {
        assert.ok((proxy.hits.get(url) ?? 0) > UPLOADS, `instance ${url} served chunks`);
      }

      const bucket = gcs.storage().bucket(BUCKET);
      const [objects] = await bucket.getFiles({ prefix: `objects/${USER}/` });
      assert.equal(objects.length, UPLOADS, 'one final object per upload');
      const stored = new Set(
        await Promise.all(objects.map(async (o) => sha256((await o.download())[0]))),
      );
      for (const bytes of files) assert.ok(stored.has(sha256(bytes)), 'every file stored whole');

      reached('every file stored whole');
      // Dedupe holds across instances: the same bytes again complete without a chunk.
      const chunksBefore = proxy.chunkRequests;
      const again = uploader.add(
        new File([files[0]! as Uint8Array<ArrayBuffer>], 'again.pdf', { type: 'application/pdf' }),
      );
      const twin = await again.done;
      assert.equal(twin.status, 'ready');
      assert.equal(twin.contentHash, contentHash(files[0]!));
      assert.equal(proxy.chunkRequests, chunksBefore, 'no chunk was sent for the duplicate');

      reached('the duplicate ready');
      // Cleanup: an instance started with a short session lifetime sweeps staging at start;
      // whatever the killed instance left half-written there goes.
      const sweeper = await startTestServer({ ...env, SESSION_TTL: '1s' });
      try {
        const empty = await eventually(async () => {
          const [staging] = await bucket.getFiles({ prefix: 'staging/' });
          return staging.length === 0;
        }, 30_000);
        assert.ok(empty, 'no staging object is left');
      } finally {
        await sweeper.stop();
      }
    },
  );
});
