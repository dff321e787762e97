/**
 * Scenario 6: hashing. The SDK hashes twice: the content hash of the whole file before initiate,
 * and a SHA-256 per chunk (Content-Digest). Measured in Node and in Chromium against the
 * platform's own SHA-256 speed, and as the cost to an upload (digests on vs off).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { CONTENT_HASH_BLOCK_SIZE } from '@file-uploader/protocol';
import { deleteStored, sdkContentHash, sdkUpload } from '../clients/sdk-client.js';
import { alternate, type AlternatedRuns, type Contender, type Sample } from '../src/alternate.js';
import { startBrowser, type BenchBrowser } from '../src/browser.js';
import type { BenchContext } from '../src/context.js';
import { mib, times, type ScenarioResult } from '../src/results.js';
import { verifyStored, writePayload } from '../src/data.js';
import { removeScratch, scratchDir } from '../src/processes.js';
import { startReference, storedObjectPath, type ReferenceServer } from '../src/servers.js';
import { median, mibPerSecond, pairedRatio } from '../src/stats.js';

const PIECE = CONTENT_HASH_BLOCK_SIZE;

const speed = (s: Sample) => mibPerSecond(s.bytes, s.ms);

/** Table rows of one alternation: the baseline, then each candidate with its paired ratio. */
function rowsOf(where: string, runs: AlternatedRuns): { rows: string[][]; ratios: number[] } {
  const base = runs.pairs.flatMap((p) => p.baselineRuns).map(speed);
  const rows = [[where, runs.baseline.name, median(base).toFixed(0), times(1)]];
  const ratios: number[] = [];
  for (const pair of runs.pairs) {
    const ratio = pairedRatio(pair.runs.map(speed), pair.baselineRuns.map(speed));
    ratios.push(ratio);
    rows.push([where, pair.candidate.name, median(pair.runs.map(speed)).toFixed(0), times(ratio)]);
  }
  return { rows, ratios };
}

export async function hashing(ctx: BenchContext): Promise<ScenarioResult> {
  const startedAt = new Date();
  const size = ctx.sizes.hashingBytes;
  const browserSize = ctx.sizes.browserBytes;
  const dir = await scratchDir('hashing');
  let server: ReferenceServer | undefined;
  let chromium: BenchBrowser | undefined;
  try {
    chromium = await startBrowser();
    const page = chromium;
    const payload = path.join(dir, 'payload.pdf');
    const sha = await writePayload(payload, size);
    const bytes = await readFile(payload);
    const ours = await startReference({
      programs: ctx.programs,
      dataDir: path.join(dir, 'reference'),
      maxFileBytes: size,
      env: { CORS_ORIGINS: page.origin },
    });
    server = ours;
    let n = 0;
    const options = {
      rounds: ctx.rounds,
      warmup: ctx.warmup,
      onRun: (name: string, s: Sample) => ctx.log(`  ${name}: ${speed(s).toFixed(0)} MiB/s`),
    };

    const inMemory = (name: string, digest: (piece: Uint8Array) => unknown): Contender => ({
      name,
      async run() {
        const started = performance.now();
        for (let at = 0; at < bytes.length; at += PIECE)
          await digest(bytes.subarray(at, at + PIECE));
        return { ms: performance.now() - started, bytes: bytes.length };
      },
    });
    const nodeHashing = await alternate(
      inMemory(
        'SHA-256 of 4 MiB pieces in memory, Web Crypto (what the SDK calls per chunk)',
        (p) => crypto.subtle.digest('SHA-256', p as Uint8Array<ArrayBuffer>),
      ),
      [
        inMemory('SHA-256 of 4 MiB pieces in memory, node:crypto', (p) =>
          createHash('sha256').update(p).digest(),
        ),
        {
          name: 'SDK content hash of the file, read from disk (a thread of its own hashes it)',
          run: async () => ({ ms: await sdkContentHash(payload), bytes: size }),
        },
      ],
      options,
    );

    const upload = (digests: boolean): Contender => ({
      name: `Node SDK upload → reference server, digests ${digests ? 'on' : 'off'}`,
      async run() {
        const user = `digests-${++n}`;
        const started = performance.now();
        const { sessionId, fileId } = await sdkUpload(ours, payload, user, { digests });
        const ms = performance.now() - started;
        await verifyStored(
          'upload',
          await storedObjectPath(ours.dataDir, user, sessionId, fileId),
          sha,
        );
        await deleteStored(ours, user, fileId);
        return { ms, bytes: size };
      },
    });
    const nodeUploads = await alternate(upload(false), [upload(true)], options);

    await page.call('makePayload', browserSize);
    const browserHashing = await alternate(
      {
        name: 'SHA-256 of 4 MiB pieces in memory, Web Crypto',
        run: () => page.call('digestInMemory', PIECE),
      },
      [
        {
          name: 'SDK content hash of the Blob (read through its streams, Web Crypto)',
          run: () => page.call('sdkContentHash'),
        },
      ],
      options,
    );

    const node = rowsOf('Node', nodeHashing);
    const uploads = rowsOf('Node', nodeUploads);
    const inBrowser = rowsOf(`Chromium ${page.version}`, browserHashing);
    const onVsOff = uploads.ratios[0] as number;
    return {
      id: 'hashing',
      title: '6. Hashing: per-chunk SHA-256, content hash, and what digests cost an upload',
      method: [
        'Three alternations, each with its own baseline (ratio 1.00×): in Node, SHA-256 with Web',
        `Crypto of ${mib(size)} held in memory, 4 MiB at a time (the SDK's per-chunk digest), against`,
        `node:crypto and against the SDK's content hash of the same bytes as a file on disk (the`,
        'function an upload calls for it, timed alone); in Node,',
        `uploads of that file with Content-Digest off (baseline) and on; in Chromium, Web Crypto`,
        `on a ${mib(browserSize)} Blob's bytes in memory against the SDK's content hash of the`,
        'Blob. Uploads are checked by the stored SHA-256. Digests on vs off is not repeated in',
        'Chromium: there the upload is bound by sending (scenario 4), not by hashing.',
      ].join(' '),
      columns: ['where', 'what', 'median MiB/s', 'vs baseline'],
      rows: [...node.rows, ...uploads.rows, ...inBrowser.rows],
      budgets: [],
      notes: [
        `Upload throughput with digests on is ${times(onVsOff)} that with digests off (1.00× means hashing hides entirely behind sending).`,
      ],
      settings: {
        node: mib(size),
        chromium: mib(browserSize),
        rounds: ctx.rounds,
        warmup: ctx.warmup,
      },
      command: '',
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    };
  } finally {
    await chromium?.close();
    await server?.stop();
    await removeScratch(dir);
  }
}
