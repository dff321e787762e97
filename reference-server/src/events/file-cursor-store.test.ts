import { strict as assert } from 'node:assert';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { cursorStoreConformance } from './cursor-store.conformance.js';
import { FileCursorStore } from './file-cursor-store.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cursors-'));
  dirs.push(dir);
  return dir;
}
after(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

cursorStoreConformance('FileCursorStore', async () => {
  // A folder that does not exist yet: the first write creates it.
  const dir = path.join(await tempDir(), 'relay-cursors');
  return {
    store: new FileCursorStore({ dir }),
    another: async () => new FileCursorStore({ dir }),
    cleanup: async () => {},
  };
});

describe('FileCursorStore files', () => {
  it('writes one JSON file per relay and leaves no temporary files', async () => {
    const dir = await tempDir();
    const store = new FileCursorStore({ dir });
    await Promise.all(Array.from({ length: 10 }, (_, i) => store.set('webhooks', String(i))));
    await store.set('rabbitmq', '5');
    assert.deepEqual((await readdir(dir)).sort(), ['rabbitmq.json', 'webhooks.json']);
    const body = JSON.parse(await readFile(path.join(dir, 'rabbitmq.json'), 'utf8'));
    assert.equal(body.seq, '5');
  });

  it('fails loudly on a damaged cursor file instead of starting over', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'webhooks.json'), '{"nope":1}');
    await assert.rejects(new FileCursorStore({ dir }).get('webhooks'), /has no seq/);
  });
});
