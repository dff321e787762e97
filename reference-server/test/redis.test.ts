/**
 * The server with REDIS_URL: real server processes sharing one real redis-server (and one
 * DATA_DIR), as instances behind a load balancer would. Covers a Redis outage mid-upload (frozen,
 * and killed then restarted from its append-only file), chunks of one file spread over two
 * instances, rate limits and dedupe across instances, and the lock shared with other instances.
 */
import { strict as assert } from 'node:assert';
import { randomBytes as cryptoRandomBytes, randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { pino } from 'pino';
import { createClient } from 'redis';
import type { UploadEvent } from '@file-uploader/protocol';
import { startRedis, type TestRedis } from '../../test/harness/redis.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { RedisStreamConsumer } from '../src/events/redis-stream-consumer.js';
import { connectRedis, createRedisClient } from '../src/stores/redis-client.js';
import { RedisSessionStore } from '../src/stores/redis-session-store.js';
import { objectKey } from '../src/services/object-key.js';
import { pdf, randomBytes } from './fixtures.js';
import {
  api,
  chunkOf,
  contentHash,
  eventually,
  expectDownload,
  expectError,
  expectStoredObject,
  objectsDir,
  request,
  startTestServer,
  tempDir,
  type ApiResponse,
  type TestServer,
} from './harness.js';

const USER = 'shared-user';
let redis: TestRedis;

before(async () => {
  redis = await startRedis();
});

after(async () => {
  await redis.stop();
});

/** Environment shared by instances of one deployment: same Redis, secrets and key prefix. */
function deployment(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: `t${randomUUID().slice(0, 8)}:`,
    // Short enough to keep outage tests quick, long enough for a busy test machine.
    REDIS_COMMAND_TIMEOUT: '3s',
    JWT_SECRET: cryptoRandomBytes(36).toString('base64url'),
    DOWNLOAD_SECRET: cryptoRandomBytes(36).toString('base64url'),
    LOG_LEVEL: 'info',
    ...overrides,
  };
}

/** A PDF of `size` bytes: a real header, then random bytes. */
function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

async function initiate(server: TestServer, bytes: Buffer, hash?: string) {
  const client = api(server, await server.token(USER));
  const init = await client.initiate({
    files: [
      {
        name: 'shared.pdf',
        size: bytes.length,
        type: 'application/pdf',
        ...(hash ? { contentHash: hash } : {}),
      },
    ],
  });
  assert.equal(init.status, 201, JSON.stringify(init.body));
  const file = init.body.files[0]!;
  return { ids: { sessionId: init.body.sessionId, fileId: file.fileId }, file, init: init.body };
}

async function sendChunk(
  server: TestServer,
  ids: { sessionId: string; fileId: string },
  bytes: Buffer,
  index: number,
) {
  return api(server, await server.token(USER)).chunk({
    ...chunkOf(ids, bytes, index),
    digest: true,
  });
}

function expectUnavailable(res: ApiResponse<unknown>): void {
  expectError(res, 503, 'unavailable');
  const retryAfter = Number(res.headers.get('retry-after'));
  assert.ok(retryAfter >= 1, `Retry-After: ${res.headers.get('retry-after')}`);
}

/** How often a server logged that it assembled `fileId`. */
function assemblies(server: TestServer, fileId: string): number {
  return server
    .stdout()
    .split('\n')
    .filter((line) => line.includes('"file assembled"') && line.includes(fileId)).length;
}

describe('a Redis outage mid-upload', () => {
  let server: TestServer;

  before(async () => {
    server = await startTestServer(deployment());
  });

  after(async () => {
    await server.stop();
  });

  async function uploadAcrossOutage(outage: { begin(): Promise<void>; end(): Promise<void> }) {
    const bytes = sample(6 * 256 * 1024 - 1000);
    const { ids, file } = await initiate(server, bytes);
    assert.equal(file.totalChunks, 6);
    for (const i of [0, 1, 2]) assert.equal((await sendChunk(server, ids, bytes, i)).status, 200);

    await outage.begin();
    try {
      expectUnavailable(await sendChunk(server, ids, bytes, 3));
      expectUnavailable(await api(server, await server.token(USER)).status(ids.fileId));
      const ready = await request(`${server.url}/readyz`);
      expectUnavailable(ready);
    } finally {
      await outage.end();
    }

    const back = await eventually(
      async () => (await request(`${server.url}/readyz`)).status === 200,
    );
    assert.ok(back, 'ready again once Redis is back');
    for (const i of [3, 4, 5]) {
      const res = await sendChunk(server, ids, bytes, i);
      assert.equal(res.status, 200, JSON.stringify(res.body));
    }
    const status = await eventually(async () => {
      const res = await api(server, await server.token(USER)).status(ids.fileId);
      return res.body.status === 'ready' ? res : undefined;
    });
    assert.ok(status, 'the file became ready');
    await expectStoredObject(server, USER, ids, bytes);
    await expectDownload(api(server, await server.token(USER)), ids.fileId, bytes);
  }

  it('answers 503 with Retry-After while Redis is frozen, and finishes the upload after', async () => {
    await uploadAcrossOutage({
      begin: async () => redis.pause(),
      end: async () => redis.resume(),
    });
  });

  it('answers 503 while Redis is down, and finishes the upload after a restart (AOF)', async () => {
    await uploadAcrossOutage({
      begin: () => redis.kill(),
      end: () => redis.restart(),
    });
  });
});

describe('two instances sharing Redis and DATA_DIR', () => {
  let a: TestServer;
  let b: TestServer;
  let env: Record<string, string>;
  let dataDir: string;

  before(async () => {
    // No periodic recovery here: the tests below decide when a half-done assembly is taken up.
    env = deployment({ RECOVERY_INTERVAL: '1h' });
    dataDir = await tempDir();
    // One after the other: two starting processes at once strain a small test machine.
    a = await startTestServer(env, { dataDir });
    b = await startTestServer(env, { dataDir });
  });

  after(async () => {
    await Promise.all([a.stop(), b.stop()]);
  });

  it('assembles a file whose chunks alternate between them exactly once', async () => {
    for (let round = 0; round < 3; round++) {
      const bytes = sample(5 * 256 * 1024 + 12_345);
      const { ids, file } = await initiate(round % 2 ? b : a, bytes);
      const servers = [a, b];
      for (let i = 0; i < file.totalChunks - 2; i++) {
        const res = await sendChunk(servers[i % 2]!, ids, bytes, i);
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      // The last two chunks arrive at both instances at once: both may try to assemble.
      const last = await Promise.all([
        sendChunk(a, ids, bytes, file.totalChunks - 2),
        sendChunk(b, ids, bytes, file.totalChunks - 1),
      ]);
      for (const res of last) assert.equal(res.status, 200, JSON.stringify(res.body));

      const ready = await eventually(async () => {
        const res = await api(b, await b.token(USER)).status(ids.fileId);
        return res.body.status === 'ready';
      });
      assert.ok(ready, 'the file became ready');
      await expectStoredObject(a, USER, ids, bytes);
      assert.equal(assemblies(a, ids.fileId) + assemblies(b, ids.fileId), 1, 'assembled once');
      await expectDownload(api(a, await a.token(USER)), ids.fileId, bytes);
    }
  });

  it('dedupes against a file made ready by the other instance', async () => {
    const bytes = sample(300_000);
    const hash = contentHash(bytes);
    const first = await initiate(a, bytes, hash);
    for (let i = 0; i < first.file.totalChunks; i++) {
      assert.equal((await sendChunk(a, first.ids, bytes, i)).status, 200);
    }
    const ready = await eventually(async () => {
      const res = await api(a, await a.token(USER)).status(first.ids.fileId);
      return res.body.status === 'ready';
    });
    assert.ok(ready);

    const second = await initiate(b, bytes, hash);
    assert.equal(second.file.status, 'ready');
    assert.equal(second.file.duplicateOf, first.ids.fileId);
    await expectDownload(api(b, await b.token(USER)), second.ids.fileId, bytes);
  });

  /**
   * The state an instance leaves when it dies while assembling: every chunk stored, the file
   * `assembling`, and the file's lock held until its lease runs out (`leaseMs`). Made here the
   * way the assembler makes it: the lock is taken, then the file moves to `assembling`.
   */
  async function diedWhileAssembling(bytes: Buffer, leaseMs: number) {
    const { ids, file } = await initiate(a, bytes);
    for (let i = 0; i < file.totalChunks - 1; i++) {
      assert.equal((await sendChunk(a, ids, bytes, i)).status, 200);
    }
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 3_000 });
    assert.ok(await connectRedis(client, 5_000));
    const keyPrefix = env.REDIS_KEY_PREFIX!;
    const store = new RedisSessionStore({ client, keyPrefix, ownsClient: true });
    try {
      const lock = `${keyPrefix}lock:file:${ids.fileId}`;
      assert.equal(
        await client.set(lock, 'dead-instance', {
          condition: 'NX',
          expiration: { type: 'PX', value: leaseMs },
        }),
        'OK',
      );
      const last = await sendChunk(a, ids, bytes, file.totalChunks - 1);
      assert.equal(last.status, 200, JSON.stringify(last.body));
      assert.equal(last.body.status, 'uploading', 'the lock holder was left to assemble');
      const assembling = await store.transitionFile(ids.fileId, ['uploading'], {
        status: 'assembling',
      });
      assert.ok(assembling);
      // Half an object: what the dying assembler had written when it stopped.
      const left = path.join(objectsDir(dataDir), objectKey(assembling, assembling.createdAt));
      await mkdir(path.dirname(left), { recursive: true });
      await writeFile(left, bytes.subarray(0, 1000));
    } finally {
      await store.close();
    }
    return { ids, file, lock: `${keyPrefix}lock:file:${ids.fileId}` };
  }

  it('takes over the assembly of a dead instance when the last chunk comes again', async () => {
    const bytes = sample(3 * 256 * 1024 + 999);
    const { ids, file, lock } = await diedWhileAssembling(bytes, 60_000);
    const last = file.totalChunks - 1;
    // While the dead instance's lease lasts, its assembly is not taken from it.
    const early = await sendChunk(b, ids, bytes, last);
    assert.equal(early.status, 200, JSON.stringify(early.body));
    assert.equal(early.body.status, 'assembling');

    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      await client.del(lock); // the lease ran out
    } finally {
      client.destroy();
    }
    const again = await sendChunk(b, ids, bytes, last);
    assert.equal(again.status, 200, JSON.stringify(again.body));
    assert.equal(again.body.status, 'ready', 'assembled within the repeated request');
    assert.equal(assemblies(b, ids.fileId), 1);
    // The half object it left was replaced: one object, whole.
    await expectStoredObject(a, USER, ids, bytes);
  });

  it('finishes the assembly of a dead instance in the recovery pass, without any request', async () => {
    const bytes = sample(2 * 256 * 1024 + 4321);
    const { ids, lock } = await diedWhileAssembling(bytes, 60_000);
    const c = await startTestServer({ ...env, RECOVERY_INTERVAL: '200ms' }, { dataDir });
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const before = await api(c, await c.token(USER)).status(ids.fileId);
      assert.equal(before.body.status, 'assembling', 'left alone while the lease lasts');
      await client.del(lock); // the lease ran out
      const ready = await eventually(async () => {
        const res = await api(a, await a.token(USER)).status(ids.fileId);
        return res.body.status === 'ready';
      });
      assert.ok(ready, 'the file became ready');
      assert.equal(assemblies(c, ids.fileId), 1, 'the new instance assembled it');
      assert.equal(assemblies(a, ids.fileId) + assemblies(b, ids.fileId), 0);
      await expectStoredObject(a, USER, ids, bytes);
    } finally {
      client.destroy();
      await c.stop();
    }
  });

  it('answers 423 with Retry-After to a delete while another instance holds the file lock', async () => {
    const bytes = sample(100_000);
    const { ids } = await initiate(a, bytes);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const key = `${a.env.REDIS_KEY_PREFIX}lock:file:${ids.fileId}`;
      assert.equal(await client.set(key, 'someone-else', { condition: 'NX' }), 'OK');
      const res = await api(b, await b.token(USER)).remove(ids.fileId);
      expectError(res, 423, 'locked');
      assert.ok(Number(res.headers.get('retry-after')) >= 1);
      assert.equal(await client.get(key), 'someone-else', 'the other holder keeps its lock');
      await client.del(key);
      assert.equal((await api(b, await b.token(USER)).remove(ids.fileId)).status, 204);
    } finally {
      client.destroy();
    }
  });
});

describe('rate limits across instances', () => {
  it('counts requests of one user against one limit whichever instance serves them', async () => {
    const env = deployment({ RATE_LIMIT_USER: '6', RATE_LIMIT_WINDOW: '1h' });
    const dataDir = await tempDir();
    const a = await startTestServer(env, { dataDir });
    const b = await startTestServer(env, { dataDir });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 10; i++) {
        const server = i % 2 ? b : a;
        const res = await api(server, await server.token('limited-user')).session(randomUUID());
        statuses.push(res.status);
        if (res.status === 429) assert.ok(Number(res.headers.get('retry-after')) >= 1);
      }
      // Six answered (404: no such session), then the shared limit refuses on both instances.
      assert.deepEqual(statuses, [404, 404, 404, 404, 404, 404, 429, 429, 429, 429]);
      const other = await api(b, await b.token('another-user')).session(randomUUID());
      assert.equal(other.status, 404, 'other users have their own limit');
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('REDIS_STREAM: every event in a Redis stream for consumer groups', () => {
  it('two instances publish the events of an upload once each, in order, to the shared stream', async () => {
    const env = deployment({ REDIS_STREAM: '1' });
    const dataDir = await tempDir();
    const a = await startTestServer(env, { dataDir });
    const b = await startTestServer(env, { dataDir });
    const client = createRedisClient({ url: redis.url, commandTimeoutMs: 3_000 });
    await connectRedis(client, 5_000);
    const seen: UploadEvent[] = [];
    const consumer = new RedisStreamConsumer({
      client,
      stream: `${env.REDIS_KEY_PREFIX}event-stream`,
      group: 'test-service',
      consumer: 'only',
      log: pino({ level: 'silent' }),
      blockMs: 200,
      handler: async (event) => {
        seen.push(event);
      },
    });
    consumer.start();
    try {
      const bytes = sample(3 * 256 * 1024);
      const { ids, file } = await initiate(a, bytes);
      for (let i = 0; i < file.totalChunks; i++) {
        const res = await sendChunk(i % 2 ? b : a, ids, bytes, i);
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      const order = [
        'upload.received',
        'upload.assembled',
        'upload.scanned',
        'upload.ready',
        'session.completed',
      ];
      const mine = () => seen.filter((e) => e.sessionId === ids.sessionId).map((e) => e.type);
      const all = await eventually(async () => mine().length >= order.length, 30_000);
      assert.ok(all, `seen: ${mine().join(', ')}`);
      assert.deepEqual(mine(), order, 'each event once, in order, though both instances relay');
    } finally {
      await consumer.stop();
      client.destroy();
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});

describe('Redis configuration', () => {
  const base = { JWT_SECRET: 'j'.repeat(40), DOWNLOAD_SECRET: 'd'.repeat(40) };

  it('reads REDIS_URL, REDIS_KEY_PREFIX and REDIS_COMMAND_TIMEOUT', () => {
    assert.equal(loadConfig(base).redis, undefined);
    assert.deepEqual(loadConfig({ ...base, REDIS_URL: 'redis://cache:6380/2' }).redis, {
      url: 'redis://cache:6380/2',
      keyPrefix: 'fu:',
      commandTimeoutMs: 5_000,
    });
    const custom = loadConfig({
      ...base,
      REDIS_URL: 'rediss://:pw@cache',
      REDIS_KEY_PREFIX: 'uploads:prod:',
      REDIS_COMMAND_TIMEOUT: '750ms',
    });
    assert.deepEqual(custom.redis, {
      url: 'rediss://:pw@cache',
      keyPrefix: 'uploads:prod:',
      commandTimeoutMs: 750,
    });
  });

  it('refuses a URL of another scheme, a bad prefix, and SESSION_STORE with REDIS_URL', () => {
    const problems = (env: Record<string, string>) => {
      try {
        loadConfig({ ...base, ...env });
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        return err.problems.join('\n');
      }
      return '';
    };
    assert.match(problems({ REDIS_URL: 'http://cache:6379' }), /REDIS_URL/);
    assert.match(problems({ REDIS_URL: 'not a url' }), /REDIS_URL/);
    assert.match(
      problems({ REDIS_URL: 'redis://cache', REDIS_KEY_PREFIX: 'has space' }),
      /REDIS_KEY_PREFIX/,
    );
    assert.match(
      problems({ REDIS_URL: 'redis://cache', SESSION_STORE: 'memory' }),
      /SESSION_STORE does not apply/,
    );
  });
});
