/**
 * Where each EventRelay remembers the `seq` of the last outbox event its bus confirmed. Only the
 * relay holding the relay's lock writes its cursor. A cursor must never claim an event that was
 * not published; a cursor that moves back (a stale writer) only causes repeats, which consumers
 * drop by event id. Every implementation runs cursor-store.conformance.ts.
 */
export interface CursorStore {
  /** The cursor of relay `name`, or undefined before its first write. */
  get(name: string): Promise<string | undefined>;
  /** Records `seq` as the cursor of `name`; durable once it resolves. */
  set(name: string, seq: string): Promise<void>;
  close(): Promise<void>;
}

/** Relay names become keys and file names: keep them short and plain. */
export const RELAY_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

export function assertRelayName(name: string): void {
  if (!RELAY_NAME.test(name)) {
    throw new RangeError(`Relay name must match ${RELAY_NAME.source}, got "${name}"`);
  }
}
