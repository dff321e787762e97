/**
 * examples/node: the folder upload command against the real server (dev mode), through a proxy
 * that counts chunk requests. Ctrl-C (SIGINT) part way, then the same command again: every file
 * ends stored with its SHA-256, and the second run sends only what the first had not finished.
 */
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { HEADERS } from '@file-uploader/protocol';
import {
  faults,
  startFaultProxy,
  type FaultProxy,
  type RequestRecord,
} from '../packages/sdk/test/fault-proxy.js';
import { pdf, png, randomBytes } from '../reference-server/test/fixtures.js';
import { tempDir } from '../reference-server/test/harness.js';
import {
  DEV_USER,
  REPO_ROOT,
  listFilesDeep,
  objectsDir,
  sha256,
  startTestServer,
  storedObject,
  type TestServer,
} from './harness/server.js';

const SCRIPT = path.join(REPO_ROOT, 'examples', 'node', 'upload-folder.mjs');
const MiB = 1024 * 1024;
const CHUNK = 1 * MiB;
/** The SDK's defaults: files sending at once, times chunks in flight per file. */
const MOST_IN_FLIGHT = 3 * 3;

let server: TestServer;
let proxy: FaultProxy;
let folder: string;
const files = new Map<string, Buffer>();

/** A PDF of `size` bytes with random content. */
function randomPdf(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the command on the folder; `onStart` gets the child (to interrupt it). */
function runCommand(onStart: (child: ReturnType<typeof spawn>) => void = () => {}): Promise<Run> {
  const child = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', SCRIPT, folder, '--endpoint', proxy.url, '--dev'],
    { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  onStart(child);
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

const chunkKey = (r: RequestRecord) =>
  `${String(r.headers[HEADERS.file.toLowerCase()])}@${r.start}`;
const confirmed = (r: RequestRecord) => r.outcome === 'answered' && r.status === 200;

before(async () => {
  server = await startTestServer({ DEV_MODE: '1', CHUNK_SIZE: String(CHUNK) });
  proxy = await startFaultProxy(server.url);
  folder = await tempDir('fu-example-');
  files.set('big.pdf', randomPdf(40 * MiB + 12345));
  files.set('c.pdf', randomPdf(2 * MiB));
  files.set('notes/a.pdf', randomPdf(300 * 1024));
  files.set('notes/deep/b.png', png());
  for (const [rel, bytes] of files) {
    await mkdir(path.dirname(path.join(folder, rel)), { recursive: true });
    await writeFile(path.join(folder, rel), bytes);
  }
  // Hidden files stay home.
  await writeFile(path.join(folder, '.hidden.pdf'), randomPdf(4096));
});

after(async () => {
  await proxy?.close();
  await server?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

describe('examples/node upload-folder', () => {
  it('stops on Ctrl-C and, run again, sends only the chunks it had not finished', async () => {
    // Chunks are held a little so that the interrupt finds several in flight.
    proxy.setPolicy((r) => (r.route === 'chunk' ? faults.delay(20) : undefined));
    let openAtInterrupt = 0;
    const first = await runCommand((child) => {
      let done = 0;
      const onSettled = (r: RequestRecord) => {
        if (r.route !== 'chunk' || !confirmed(r) || ++done !== 12) return;
        openAtInterrupt = proxy.stats.count((x) => x.route === 'chunk' && !x.settledAt);
        child.kill('SIGINT');
        proxy.events.off('settled', onSettled);
      };
      proxy.events.on('settled', onSettled);
    });
    assert.equal(first.code, 130, `stopped by Ctrl-C\n${first.stdout}\n${first.stderr}`);
    assert.match(first.stdout, /Stopped\. \d+ file\(s\) left; run the same command again/);
    await proxy.idle();
    const run1 = proxy.stats.records.filter((r) => r.route === 'chunk');
    proxy.reset();

    const second = await runCommand();
    assert.equal(second.code, 0, `second run\n${second.stdout}\n${second.stderr}`);
    assert.match(second.stdout, /Done: \d+ file\(s\) uploaded\./);
    const run2 = proxy.stats.records.filter((r) => r.route === 'chunk');

    // Every file is stored, byte for byte; the hidden one is not.
    const list = JSON.parse(
      await readFile(path.join(folder, '.file-uploader', 'uploaded.json'), 'utf8'),
    ) as { files: Record<string, { sessionId: string; fileId: string }> };
    assert.deepEqual(Object.keys(list.files).sort(), [...files.keys()].sort());
    for (const [rel, bytes] of files) {
      const ids = list.files[rel];
      assert.ok(ids, rel);
      const stored = await storedObject(server.dataDir, DEV_USER, ids.sessionId, ids.fileId);
      assert.ok(stored, `${rel} is stored`);
      assert.equal(sha256(stored.bytes), sha256(bytes), `${rel}: stored SHA-256`);
    }
    const objects = await listFilesDeep(path.join(objectsDir(server.dataDir), DEV_USER));
    assert.equal(objects.length, files.size, `one object per file: ${objects.join(', ')}`);

    // The first run was cut part way, with chunks in flight.
    const bigChunks = Math.ceil((files.get('big.pdf') as Buffer).length / CHUNK);
    const confirmedFirst = new Set(run1.filter(confirmed).map(chunkKey));
    const unfinishedFirst = new Set(run1.map(chunkKey).filter((k) => !confirmedFirst.has(k)));
    assert.ok(confirmedFirst.size >= 12 && confirmedFirst.size < bigChunks, 'cut part way');
    assert.ok(openAtInterrupt > 0, 'chunks were in flight at the interrupt');
    assert.ok(unfinishedFirst.size <= MOST_IN_FLIGHT, `${unfinishedFirst.size} unfinished`);

    // The second run sent nothing the first had finished, and of what the first had sent,
    // only the chunks in flight at the interrupt.
    const sentSecond = new Set(run2.map(chunkKey));
    const resent = [...sentSecond].filter((k) => run1.some((r) => chunkKey(r) === k));
    for (const key of resent) assert.ok(unfinishedFirst.has(key), `${key} was in flight`);
    for (const key of confirmedFirst) assert.ok(!sentSecond.has(key), `${key} not sent again`);
    assert.ok(run2.length > 0, 'the second run sent the rest');
    console.log(
      `first run: ${confirmedFirst.size} chunks confirmed, ${unfinishedFirst.size} in flight ` +
        `(${openAtInterrupt} open at SIGINT); second run: ${sentSecond.size} chunks, ` +
        `${resent.length} of them sent before`,
    );
  });
});
