import { mkdir } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { ServerDeps } from './deps.js';
import { createTokenVerifier } from './middleware/auth.js';
import { redisRateLimiters } from './middleware/rate-limit.js';
import { createBlobStore } from './stores/create-blob-store.js';
import { connectRedis, createRedisClient } from './stores/redis-client.js';
import { RedisCursorStore } from './events/redis-cursor-store.js';
import { RedisStreamsBus } from './events/redis-streams-bus.js';
import { RedisLocker } from './stores/redis-locker.js';
import { RedisSessionStore } from './stores/redis-session-store.js';

/** How long start waits for the first Redis connection before listening anyway (readyz 503). */
const FIRST_CONNECT_WAIT_MS = 5_000;

/**
 * Backends for several instances side by side: sessions, files, events, locks and rate limits in
 * Redis (one connection shared by all of them), bytes in the configured blob store, which the
 * instances must share (one volume at DATA_DIR, or a bucket). docs/deployment.md describes it.
 */
export async function redisDeps(
  config: Config & { redis: NonNullable<Config['redis']> },
  log: Logger,
): Promise<ServerDeps> {
  const { url, keyPrefix, commandTimeoutMs } = config.redis;
  await mkdir(config.dataDir, { recursive: true });
  const blobs = await createBlobStore(config);
  const client = createRedisClient({ url, commandTimeoutMs, log });
  if (!(await connectRedis(client, FIRST_CONNECT_WAIT_MS))) {
    // Not fatal: the client keeps trying, and requests answer 503 until it connects.
    log.warn({ redis: redactedUrl(url) }, 'redis not reachable yet; starting unready');
  }
  return {
    config,
    log,
    blobs,
    sessions: new RedisSessionStore({ client, keyPrefix, commandTimeoutMs }),
    locker: new RedisLocker({ client, keyPrefix, commandTimeoutMs }),
    cursors: new RedisCursorStore({ client, keyPrefix, commandTimeoutMs }),
    ...(config.events.redisStream
      ? {
          eventBuses: [
            {
              name: 'redis-stream',
              bus: new RedisStreamsBus({ client, keyPrefix, commandTimeoutMs }),
            },
          ],
        }
      : {}),
    rateLimiters: redisRateLimiters(client, config.rateLimit, {
      keyPrefix,
      timeoutMs: commandTimeoutMs,
    }),
    verifyToken: createTokenVerifier(config.jwt),
    closeShared: async () => {
      if (!client.isOpen) return;
      // close() lets commands in flight finish; a Redis that does not answer cannot hold up
      // shutdown for longer than one command timeout.
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(resolve, commandTimeoutMs, 'timeout');
      });
      const closing = client.isReady ? client.close() : Promise.resolve();
      const outcome = await Promise.race([
        closing.then(
          () => 'closed' as const,
          () => 'timeout' as const,
        ),
        gaveUp,
      ]);
      clearTimeout(timer);
      if (outcome === 'timeout' || client.isOpen) client.destroy();
    },
  };
}

/** The URL without its password, for logs. */
function redactedUrl(url: string): string {
  const parsed = new URL(url);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
