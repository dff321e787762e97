import type { Middleware } from 'koa';
import {
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
  type RateLimiterAbstract,
} from 'rate-limiter-flexible';
import { HttpError } from '../http-error.js';
import type { Config } from '../config.js';
import type { RedisClient } from '../stores/redis-client.js';

/** The limiters a rate-limit middleware consumes: one keyed by user, one by client IP. */
export interface RateLimiters {
  user: RateLimiterAbstract;
  ip: RateLimiterAbstract;
  /** Bound on one check; a limiter that does not answer in time counts as unavailable. */
  timeoutMs?: number;
}

/** In-process limiters (embedded mode); shared ones come from a shared store. */
export function memoryRateLimiters(limits: Config['rateLimit']): RateLimiters {
  return {
    user: new RateLimiterMemory({
      keyPrefix: 'user',
      points: limits.userPoints,
      duration: limits.durationSeconds,
    }),
    ip: new RateLimiterMemory({
      keyPrefix: 'ip',
      points: limits.ipPoints,
      duration: limits.durationSeconds,
    }),
  };
}

/**
 * Limiters whose counters live in Redis, so a limit holds across every instance sharing it.
 * While Redis is unreachable checks fail at once (`rejectIfRedisNotReady`) and requests get 503.
 */
export function redisRateLimiters(
  client: RedisClient,
  limits: Config['rateLimit'],
  options: { keyPrefix: string; timeoutMs: number },
): RateLimiters {
  const limiter = (name: string, points: number) =>
    new RateLimiterRedis({
      storeClient: client,
      useRedisPackage: true,
      rejectIfRedisNotReady: true,
      keyPrefix: `${options.keyPrefix}rl:${name}`,
      points,
      duration: limits.durationSeconds,
    });
  return {
    user: limiter('user', limits.userPoints),
    ip: limiter('ip', limits.ipPoints),
    timeoutMs: options.timeoutMs,
  };
}

/** The limiter's answer, or a rejection once `timeoutMs` passed without one. */
function bounded<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No answer within ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

async function consume(
  limiter: RateLimiterAbstract,
  key: string,
  timeoutMs: number | undefined,
): Promise<void> {
  try {
    await bounded(limiter.consume(key), timeoutMs);
  } catch (err) {
    if (err instanceof RateLimiterRes) {
      throw new HttpError('rate_limited', undefined, undefined, {
        retryAfter: Math.max(1, Math.ceil(err.msBeforeNext / 1000)),
      });
    }
    throw new HttpError('unavailable', 'Rate limits cannot be checked right now.', undefined, {
      cause: err,
      retryAfter: 5,
    });
  }
}

/** Per client IP; mounted before authentication so bad tokens count too. */
export function limitByIp(limiters: RateLimiters): Middleware {
  return async (ctx, next) => {
    await consume(limiters.ip, ctx.ip, limiters.timeoutMs);
    await next();
  };
}

/** Per authenticated user; mounted after authentication. */
export function limitByUser(limiters: RateLimiters): Middleware {
  return async (ctx, next) => {
    await consume(limiters.user, ctx.state.user.id, limiters.timeoutMs);
    await next();
  };
}
