/**
 * Assembly when its lock changes hands: a process that stalls past its lease (a long pause, a
 * frozen VM) while another instance takes the file over must not undo that instance's work.
 * Real stores (files on disk, sessions in memory); the locker is the in-process one with leases
 * as short as a Redis lock's once its holder stops renewing it.
 */
import { strict as assert } from 'node:assert';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { ObjectExistsError, type BlobStore } from '../stores/blob-store.js';
import { FsBlobStore } from '../stores/fs-blob-store.js';
import type { Locker } from '../stores/locker.js';
import { MemoryLocker } from '../stores/memory-locker.js';
import { MemorySessionStore } from '../stores/memory-session-store.js';
import { makeFile, makeSession } from '../stores/session-records.fixture.js';
import { Assembler, LockLostError } from './assembler.js';
import { objectKey } from './object-key.js';
import { sha256Of } from './sha256-of.js';

const LEASE_MS = 100;
const CHUNK = 256 * 1024;

let root: string;

before(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'fu-assembler-'));
});

after(async () => {
  await rm(root, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** `blobs`, except that the first assembly to find its object already there stalls until `go`. */
function stallingOnExisting(blobs: BlobStore, go: Promise<void>, stalled: () => void): BlobStore {
  let once = false;
  const concatChunks: BlobStore['concatChunks'] = async (...args) => {
    try {
      return await blobs.concatChunks(...args);
    } catch (err) {
      if (err instanceof ObjectExistsError && !once) {
        once = true;
        stalled();
        await go;
      }
      throw err;
    }
  };
  return new Proxy(blobs, {
    get(target, prop) {
      if (prop === 'concatChunks') return concatChunks;
      const value: unknown = Reflect.get(target, prop, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

test('a try that stalled past its lease does not delete the object of the try that took over', async () => {
  const blobs = new FsBlobStore({ root });
  const sessions = new MemorySessionStore();
  const memory = new MemoryLocker();
  // Every lock lasts one short lease, as a Redis lock does once its holder stops renewing it.
  const locker: Locker = { tryAcquire: (key) => memory.tryAcquire(key, LEASE_MS) };
  const log = pino({ level: 'silent' });

  const bytes = Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(3 * CHUNK - 9, 7)]);
  const session = makeSession({ chunkSize: CHUNK });
  const file = makeFile(session, {
    name: 'stalled.pdf',
    size: bytes.length,
    totalChunks: 3,
    status: 'uploading',
  });
  await sessions.createSession(session, [file]);
  for (let index = 0; index < 3; index++) {
    const ref = { sessionId: session.id, fileId: file.id, index };
    const part = bytes.subarray(index * CHUNK, (index + 1) * CHUNK);
    const staged = await blobs.stageChunk(ref, Readable.from([part]), {
      offset: index * CHUNK,
      length: part.length,
    });
    assert.equal(await staged.commit(), 'created');
    await staged.discard();
  }
  // An earlier try died after writing the object: the next one finds it and replaces it.
  const key = objectKey(file, file.createdAt);
  await blobs.concatChunks(session.id, file.id, 3, key);

  let resume!: () => void;
  const go = new Promise<void>((resolve) => (resume = resolve));
  let stalled!: () => void;
  const found = new Promise<void>((resolve) => (stalled = resolve));
  const first = new Assembler({
    sessions,
    blobs: stallingOnExisting(blobs, go, stalled),
    locker,
    log,
    allowedTypes: ['pdf'],
  });
  const second = new Assembler({ sessions, blobs, locker, log, allowedTypes: ['pdf'] });

  const firstTry = first.assembleIfComplete(file.id);
  firstTry.catch(() => undefined);
  await found; // the first try found the old object, and stalls before replacing it
  await sleep(LEASE_MS * 2);
  const done = await second.assembleIfComplete(file.id);
  assert.equal(done?.status, 'ready');
  assert.equal(done.objectKey, key);

  resume(); // the first try wakes up
  await assert.rejects(firstTry, LockLostError);
  const after = await sessions.getFile(file.id);
  assert.equal(after?.status, 'ready', 'the file stays ready');
  const stored = await sha256Of(blobs.readObject(key));
  assert.equal(stored.toString('hex'), sha256(bytes), 'its object is whole');
});
