import { assertRelayName, type CursorStore } from './cursor-store.js';

/** Cursors in this process's memory: for tests and the in-memory session store. */
export class MemoryCursorStore implements CursorStore {
  readonly #cursors = new Map<string, string>();

  async get(name: string): Promise<string | undefined> {
    assertRelayName(name);
    return this.#cursors.get(name);
  }

  async set(name: string, seq: string): Promise<void> {
    assertRelayName(name);
    this.#cursors.set(name, seq);
  }

  async close(): Promise<void> {}
}
