/** A held lock. */
export interface Lock {
  /** Releases the lock if still held by this holder. Idempotent. */
  release(): Promise<void>;
}

/**
 * Mutual exclusion per key (a file id) around assembly and delete. Chunk writes take none.
 * Every implementation runs locker.conformance.ts.
 */
export interface Locker {
  /** Takes the lock, or returns null at once when someone else holds it. */
  tryAcquire(key: string, ttlMs: number): Promise<Lock | null>;
}
