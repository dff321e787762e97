/**
 * Scenario 4: Chromium uploading one file through our code to the reference server, against one
 * `fetch` PUT of the same file to the bare server. Both servers are cross-origin to the page.
 * The file is on disk and picked in the page, as a user picks or drops one.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { alternate, type Contender } from '../src/alternate.js';
import { startBrowser, type BenchBrowser } from '../src/browser.js';
import type { BenchContext } from '../src/context.js';
import { MiB, verifyStored, writePayload } from '../src/data.js';
import { removeScratch, scratchDir, type ServerProcess } from '../src/processes.js';
import { times, type ScenarioResult } from '../src/results.js';
import {
  startBare,
  startReference,
  storedObjectPath,
  type ReferenceServer,
} from '../src/servers.js';
import { median, mibPerSecond, pairedRatio, range } from '../src/stats.js';
import { deleteStored } from '../clients/sdk-client.js';
import { phaseNote } from '../src/phases.js';

const MB = 1_000_000;

export async function browser(ctx: BenchContext): Promise<ScenarioResult> {
  const startedAt = new Date();
  const size = ctx.sizes.browserBytes;
  const dir = await scratchDir('browser');
  const servers: ServerProcess[] = [];
  let chromium: BenchBrowser | undefined;
  try {
    chromium = await startBrowser();
    const page = chromium;
    const bareDir = path.join(dir, 'bare');
    await mkdir(bareDir);
    const bare = await startBare({ programs: ctx.programs, dir: bareDir });
    servers.push(bare);
    const ours: ReferenceServer = await startReference({
      programs: ctx.programs,
      dataDir: path.join(dir, 'reference'),
      maxFileBytes: size,
      env: { CORS_ORIGINS: page.origin },
    });
    servers.push(ours);
    // A File backed by the disk, like every file a user picks or drops: slices of it are read
    // from the file. (Chromium copies each slice of a Blob built in memory into its blob
    // storage, which runs out after a few uploads of 100 MB in slices: ERR_BLOB_OUT_OF_MEMORY.)
    const payload = path.join(dir, 'payload.pdf');
    const sha = await writePayload(payload, size);
    await page.pickPayload(payload);

    let n = 0;
    const phases: Array<Record<string, number>> = [];
    const baseline: Contender = {
      name: 'one fetch PUT of the file → bare server (the limit)',
      async run() {
        const name = `run-${++n}.pdf`;
        const { ms } = await page.call('fetchPut', `${bare.url}/files/${name}`);
        await verifyStored('fetch PUT', path.join(bareDir, name), sha);
        await rm(path.join(bareDir, name));
        return { ms, bytes: size };
      },
    };
    const sdk: Contender = {
      name: 'ours: SDK in the page (defaults, digests on) → reference server',
      async run() {
        const user = `browser-${++n}`;
        const { ms, stateMs, sessionId, fileId } = await page.call(
          'sdkUpload',
          ours.endpoint,
          ours.token(user),
          true,
        );
        await verifyStored(
          'SDK in Chromium',
          await storedObjectPath(ours.dataDir, user, sessionId, fileId),
          sha,
        );
        await deleteStored(ours, user, fileId);
        phases.push(stateMs);
        return { ms, bytes: size };
      },
    };
    const xhrChunks: Contender = {
      name: 'naive page client: 4 MiB XHR PUTs of file slices, in order → bare server',
      async run() {
        const name = `run-${++n}.pdf`;
        const { ms } = await page.call('xhrChunks', `${bare.url}/files/${name}`, 4 * MiB, false);
        await verifyStored('XHR chunks', path.join(bareDir, name), sha);
        await rm(path.join(bareDir, name));
        return { ms, bytes: size };
      },
    };
    const element: Contender = {
      name: 'ours: <file-uploader> element (defaults) → reference server',
      async run() {
        const user = `element-${++n}`;
        const { ms, sessionId, fileId } = await page.call(
          'elementUpload',
          ours.endpoint,
          ours.token(user),
        );
        await verifyStored(
          '<file-uploader> in Chromium',
          await storedObjectPath(ours.dataDir, user, sessionId, fileId),
          sha,
        );
        await deleteStored(ours, user, fileId);
        return { ms, bytes: size };
      },
    };
    const runs = await alternate(baseline, [xhrChunks, sdk, element], {
      rounds: ctx.rounds,
      warmup: ctx.warmup,
      onRun: (name, s) => ctx.log(`  ${name}: ${mibPerSecond(s.bytes, s.ms).toFixed(0)} MiB/s`),
    });

    const speed = (s: { bytes: number; ms: number }) => mibPerSecond(s.bytes, s.ms);
    const base = runs.pairs.flatMap((p) => p.baselineRuns).map(speed);
    const rows = [[runs.baseline.name, median(base).toFixed(0), spread(base), times(1)]];
    let sdkRatio = 0;
    let elementRatio = 0;
    for (const pair of runs.pairs) {
      const values = pair.runs.map(speed);
      const ratio = pairedRatio(values, pair.baselineRuns.map(speed));
      if (pair.candidate === sdk) sdkRatio = ratio;
      if (pair.candidate === element) elementRatio = ratio;
      rows.push([pair.candidate.name, median(values).toFixed(0), spread(values), times(ratio)]);
    }
    return {
      id: 'browser',
      title: `4. Browser: Chromium ${page.version}, ${(size / MB).toFixed(0)} MB`,
      method: [
        `Debian's Chromium (headless, the project's flags) driven by playwright-core. The page,`,
        `served from its own origin, has one ${(size / MB).toFixed(0)} MB file of random bytes`,
        '(PDF header), written to disk and picked through an `<input type=file>` (so a File',
        'backed by the disk, as every file a user picks or drops is), and uploads it: with one',
        '`fetch` PUT to the bare server (the baseline), with',
        'a naive loop of 4 MiB XHR PUTs of file slices to the bare server (what chunking alone',
        'costs in this browser), with our SDK (defaults, digests on) to the reference server, and',
        'with a fresh `<file-uploader>` (`endpoint` and `getToken` set, nothing else) to the',
        'reference server, the file picked through its own `<input type=file>` (its `files` set',
        'from a DataTransfer holding the same File, then `change`). Times are taken in the page,',
        "until the SDK's `done` resolves (file ready), the element's `batch-done`, or the last",
        'response. Every stored file is checked by its SHA-256.',
      ].join(' '),
      columns: ['page → server', 'median MiB/s', 'range MiB/s', 'throughput vs fetch PUT'],
      rows,
      budgets: [
        {
          name: 'browser upload through the element vs one fetch PUT',
          target: '≥ 0.60×',
          actual: times(elementRatio),
          pass: elementRatio >= 0.6,
        },
        {
          name: 'browser upload through the SDK (what the element runs) vs one fetch PUT',
          target: '≥ 0.60×',
          actual: times(sdkRatio),
          pass: sdkRatio >= 0.6,
        },
      ],
      notes: [phaseNote('the SDK in Chromium', phases)],
      settings: { size: `${(size / MB).toFixed(0)} MB`, rounds: ctx.rounds, warmup: ctx.warmup },
      command: '',
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    };
  } finally {
    await chromium?.close();
    await Promise.all(servers.map((s) => s.stop()));
    await removeScratch(dir);
  }
}

function spread(values: number[]): string {
  const { min, max } = range(values);
  return `${min.toFixed(0)}–${max.toFixed(0)}`;
}
