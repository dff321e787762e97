/** A held lock. */
export interface Lock {
  /** Releases the lock if still held by this holder. Idempotent. */
  release(): Promise<void>;
  /**
   * True while the lock is surely still this holder's, by the local clock: not released, and
   * within the lease last confirmed. A process that stalled past its lease (a long pause, a
   * frozen VM) finds it false on waking, and must not change what the lock guards: another
   * holder may have it by now.
   */
  held(): boolean;
}

/**
 * Mutual exclusion per key (a file id) around assembly and delete. Chunk writes take none.
 * Every implementation runs locker.conformance.ts.
 */
export interface Locker {
  /** Takes the lock, or returns null at once when someone else holds it. */
  tryAcquire(key: string, ttlMs: number): Promise<Lock | null>;
}
