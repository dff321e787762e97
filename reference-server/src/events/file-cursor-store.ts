import { randomBytes } from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { assertRelayName, type CursorStore } from './cursor-store.js';

export interface FileCursorStoreOptions {
  /** Folder of the cursor files (e.g. `<DATA_DIR>/relay-cursors`); created if missing. */
  dir: string;
}

interface CursorFile {
  seq: string;
  updatedAt: string;
}

/**
 * One small JSON file per relay name. A write goes to a temporary file that is flushed to disk
 * and renamed over the old one (then the folder is flushed), so a crash leaves either the old
 * cursor or the new one, never a torn file. Separate files keep relays in different processes
 * from overwriting each other's cursors.
 */
export class FileCursorStore implements CursorStore {
  readonly #dir: string;
  #ready: Promise<void> | undefined;

  constructor(options: FileCursorStoreOptions) {
    this.#dir = path.resolve(options.dir);
  }

  async get(name: string): Promise<string | undefined> {
    assertRelayName(name);
    let text: string;
    try {
      text = await readFile(this.#file(name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
    const parsed = JSON.parse(text) as Partial<CursorFile>;
    if (typeof parsed.seq !== 'string') {
      throw new Error(`Cursor file ${this.#file(name)} has no seq`);
    }
    return parsed.seq;
  }

  async set(name: string, seq: string): Promise<void> {
    assertRelayName(name);
    await (this.#ready ??= mkdir(this.#dir, { recursive: true }).then(() => undefined));
    const target = this.#file(name);
    const temp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
    const body: CursorFile = { seq, updatedAt: new Date().toISOString() };
    try {
      const handle = await open(temp, 'w', 0o600);
      try {
        await handle.writeFile(`${JSON.stringify(body)}\n`);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
    // The rename is durable only once the folder's entry is on disk.
    const folder = await open(this.#dir, 'r');
    try {
      await folder.sync();
    } finally {
      await folder.close();
    }
  }

  async close(): Promise<void> {}

  #file(name: string): string {
    return path.join(this.#dir, `${name}.json`);
  }
}
