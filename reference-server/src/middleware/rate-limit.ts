import type { Middleware } from 'koa';
import { RateLimiterMemory, RateLimiterRes, type RateLimiterAbstract } from 'rate-limiter-flexible';
import { HttpError } from '../http-error.js';
import type { Config } from '../config.js';

/** The limiters a rate-limit middleware consumes: one keyed by user, one by client IP. */
export interface RateLimiters {
  user: RateLimiterAbstract;
  ip: RateLimiterAbstract;
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

async function consume(limiter: RateLimiterAbstract, key: string): Promise<void> {
  try {
    await limiter.consume(key);
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
    await consume(limiters.ip, ctx.ip);
    await next();
  };
}

/** Per authenticated user; mounted after authentication. */
export function limitByUser(limiters: RateLimiters): Middleware {
  return async (ctx, next) => {
    await consume(limiters.user, ctx.state.user.id);
    await next();
  };
}
