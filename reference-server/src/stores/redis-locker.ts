import { randomBytes } from 'node:crypto';
import type { Lock, Locker } from './locker.js';
import {
  DEFAULT_COMMAND_TIMEOUT_MS,
  isRedisUnavailable,
  redisCall,
  type RedisClient,
} from './redis-client.js';
import { StoreUnavailableError } from './store-unavailable-error.js';
import { RedisScript } from './redis-script.js';

/** Extends the lock's expiry only while it still holds our token. */
const RENEW = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
`);

/** Deletes the lock only while it still holds our token (compare-and-delete). */
const RELEASE = new RedisScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0
`);

/** How often a release that could not reach Redis is tried again, until the lock would expire. */
const RELEASE_RETRY_MS = 1_000;
/** Default lease: how soon a lock frees itself after its holder died. */
export const DEFAULT_LEASE_MS = 15_000;

export interface RedisLockerOptions {
  client: RedisClient;
  /** Prepended to every key, e.g. `fu:`. */
  keyPrefix: string;
  /** See {@link DEFAULT_LEASE_MS}. */
  leaseMs?: number;
  /** A call not answered within this bound fails with StoreUnavailableError. Default 5 s. */
  commandTimeoutMs?: number;
}

/**
 * Locker on Redis, exclusive across server instances. `SET key token NX PX lease` takes a lock
 * for a short lease (at most the caller's ttl); a timer renews the lease every lease/3 while the
 * lock is held, up to the caller's ttl in total, so a holder that dies frees the lock within one
 * lease while a live one keeps it as long as it was allowed to. Only the holder's token releases
 * it (compare-and-delete). A lock whose renewal finds another token (it expired, someone else
 * took it) stops renewing, and its release deletes nothing. Timers are unref'd, so a held lock
 * never keeps a process alive.
 */
export class RedisLocker implements Locker {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #leaseMs: number;
  readonly #timeoutMs: number;

  constructor(options: RedisLockerOptions) {
    this.#client = options.client;
    this.#prefix = options.keyPrefix;
    this.#leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.#timeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  }

  async tryAcquire(key: string, ttlMs: number): Promise<Lock | null> {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    const deadline = Date.now() + ttlMs;
    const lease = Math.max(1, Math.ceil(Math.min(ttlMs, this.#leaseMs)));
    const lockKey = `${this.#prefix}lock:${key}`;
    const token = randomBytes(16).toString('base64url');
    const call = <T>(run: () => Promise<T>) => redisCall('The lock service', run, this.#timeoutMs);
    const taken = await call(() =>
      this.#client.set(lockKey, token, {
        condition: 'NX',
        expiration: { type: 'PX', value: lease },
      }),
    );
    if (taken !== 'OK') return null;
    return new HeldLock({ lease, deadline }, (script, args) =>
      call(() => script.run(this.#client, [lockKey], [token, ...args])),
    );
  }
}

/** Runs RENEW or RELEASE on the lock's key with its token, within the command timeout. */
type LockCall = (script: RedisScript, args: string[]) => Promise<unknown>;

interface LockState {
  /** Expiry set at each renewal (ms). */
  lease: number;
  /** Epoch ms after which the lock is no longer renewed (the caller's ttl). */
  deadline: number;
}

class HeldLock implements Lock {
  readonly #call: LockCall;
  readonly #lease: number;
  readonly #deadline: number;
  readonly #renewal: NodeJS.Timeout;
  /** Until when the lock may still be ours, by the local clock (last renewal + lease). */
  #heldUntil: number;
  #released = false;

  constructor(state: LockState, call: LockCall) {
    this.#call = call;
    this.#lease = state.lease;
    this.#deadline = state.deadline;
    this.#heldUntil = Date.now() + state.lease;
    this.#renewal = setInterval(() => void this.#renew(), Math.max(1, Math.floor(state.lease / 3)));
    this.#renewal.unref();
  }

  async #renew(): Promise<void> {
    const started = Date.now();
    const lease = Math.ceil(Math.min(this.#lease, this.#deadline - started));
    if (lease <= 0) {
      clearInterval(this.#renewal); // held as long as the caller allowed
      return;
    }
    try {
      const renewed = await this.#call(RENEW, [String(lease)]);
      if (renewed === 1) this.#heldUntil = started + lease;
      else clearInterval(this.#renewal); // lost: it expired, and may be someone else's now
    } catch {
      // Redis unreachable: try again at the next tick; once the lease has surely run out there
      // is nothing left to keep.
      if (Date.now() > this.#heldUntil) clearInterval(this.#renewal);
    }
  }

  held(): boolean {
    return !this.#released && Date.now() < this.#heldUntil;
  }

  async release(): Promise<void> {
    if (this.#released) return;
    this.#released = true;
    clearInterval(this.#renewal);
    try {
      await this.#call(RELEASE, []);
    } catch (err) {
      if (!(err instanceof StoreUnavailableError) && !isRedisUnavailable(err)) throw err;
      // Keep trying in the background, so a short outage does not leave the file locked for
      // the rest of the ttl; the lock expires by itself in any case.
      this.#releaseLater();
    }
  }

  #releaseLater(): void {
    const timer = setTimeout(() => {
      if (Date.now() > this.#heldUntil) return;
      this.#call(RELEASE, []).catch(() => this.#releaseLater());
    }, RELEASE_RETRY_MS);
    timer.unref();
  }
}
