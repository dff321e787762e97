import { performance } from 'node:perf_hooks';
import type { Lock, Locker } from './locker.js';

interface Held {
  /** Identifies the holder, so a stale holder's release cannot free someone else's lock. */
  token: symbol;
  expiresAt: number;
}

/**
 * In-process Locker: only correct when a single server process handles a key. Expiry is a
 * timestamp checked on acquire (no timers), so an abandoned lock frees itself after ttlMs
 * without keeping the process alive.
 */
export class MemoryLocker implements Locker {
  readonly #held = new Map<string, Held>();

  async tryAcquire(key: string, ttlMs: number): Promise<Lock | null> {
    if (!(ttlMs > 0)) throw new RangeError(`ttlMs must be positive, got ${ttlMs}`);
    // Monotonic clock: a wall-clock jump must not expire or extend locks.
    const now = performance.now();
    const current = this.#held.get(key);
    if (current && current.expiresAt > now) return null;

    const held: Held = { token: Symbol(key), expiresAt: now + ttlMs };
    this.#held.set(key, held);
    return {
      release: async () => {
        if (this.#held.get(key)?.token === held.token) this.#held.delete(key);
      },
      held: () => this.#held.get(key)?.token === held.token && performance.now() < held.expiresAt,
    };
  }
}
