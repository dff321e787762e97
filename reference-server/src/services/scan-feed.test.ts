/**
 * ScanFeed on a real SQLite outbox: which files it hands to the scan queue, and that it starts
 * at the end of a long outbox instead of reading it all.
 */
import { strict as assert } from 'node:assert';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import { pino } from 'pino';
import { until, writeSessionEvents } from '../events/outbox.fixture.js';
import { makeFile, makeSession } from '../stores/session-records.fixture.js';
import type { EventQuery, StoredFile } from '../stores/session-store.js';
import { SqliteSessionStore } from '../stores/sqlite-session-store.js';
import { fileEvent } from './file-events.js';
import { ScanFeed } from './scan-feed.js';

const log = pino({ level: 'silent' });
let dir: string;
let store: SqliteSessionStore;
let feed: ScanFeed | undefined;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'scan-feed-'));
  store = SqliteSessionStore.open({ path: path.join(dir, 'sessions.db') });
});

afterEach(async () => {
  await feed?.stop();
  feed = undefined;
  await store.close();
  await rm(dir, { recursive: true, force: true });
});

/** A file taken to `scanning` as the assembler does it, with its `upload.assembled` event. */
async function assembleForScan(): Promise<StoredFile> {
  const session = makeSession();
  const file = makeFile(session, { status: 'assembling' });
  await store.createSession(session, [file]);
  const scanning: StoredFile = { ...file, status: 'scanning', objectKey: `k/${file.id}` };
  await store.transitionFile(file.id, ['assembling'], { status: 'scanning', objectKey: 'k' }, [
    fileEvent('upload.assembled', scanning),
  ]);
  return scanning;
}

describe('ScanFeed', () => {
  it('queues the files waiting at start, then new ones from the outbox, and nothing else', async () => {
    const old = await writeSessionEvents(store, 600); // 1201 events of files that need no scan
    const waiting = await assembleForScan();
    // The store as the feed sees it, recording the feed's reads.
    const reads: EventQuery[] = [];
    const readEvents = store.readEvents.bind(store);
    const watched = new Proxy(store, {
      get(target, key) {
        if (key === 'readEvents') {
          return (query: EventQuery) => {
            reads.push(query);
            return readEvents(query);
          };
        }
        const value: unknown = Reflect.get(target, key);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const queued: string[] = [];
    feed = new ScanFeed({
      sessions: watched,
      scans: { enqueue: (fileId) => queued.push(fileId) },
      log,
      pollIntervalMs: 60_000,
      idleWaitMs: 20,
    });
    feed.start();
    await until(() => queued.includes(waiting.id));

    const fresh = await assembleForScan(); // wakes the feed through the outbox
    await until(() => queued.includes(fresh.id));
    await writeSessionEvents(store, 2); // events of files that need no scan
    await until(() => reads.length > 40);
    assert.deepEqual([...new Set(queued)], [waiting.id, fresh.id]);
    // The end of the outbox was found by a search, not by reading every old event.
    const firstOld = Number(old[0]!.seq);
    const lastOld = Number(old.at(-1)!.seq);
    const seen = new Set<number>();
    for (const query of reads) {
      for (const event of await readEvents(query)) seen.add(Number(event.seq));
    }
    const oldSeen = [...seen].filter((seq) => seq >= firstOld && seq <= lastOld).length;
    assert.ok(oldSeen < 600, `the feed read ${oldSeen} of ${old.length} old events`);
  });

  it('starts on an empty outbox and follows it', async () => {
    const queued: string[] = [];
    feed = new ScanFeed({
      sessions: store,
      scans: { enqueue: (fileId) => queued.push(fileId) },
      log,
      pollIntervalMs: 60_000,
      idleWaitMs: 20,
    });
    feed.start();
    const file = await assembleForScan();
    await until(() => queued.includes(file.id));
    assert.deepEqual([...new Set(queued)], [file.id]);
  });
});
