/**
 * Scenario 2: many uploads at once. Total time and the server's peak RSS (VmHWM of a server
 * process started fresh for each run), ours and @tus/server against the bare server.
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { streamedPut } from '../clients/naive-chunked-client.js';
import { sdkUpload } from '../clients/sdk-client.js';
import { tusUpload } from '../clients/tus-client.js';
import { alternate, type Contender, type Sample } from '../src/alternate.js';
import type { BenchContext } from '../src/context.js';
import { MiB, verifyStored, writePayload } from '../src/data.js';
import { removeScratch, scratchDir, type ServerProcess } from '../src/processes.js';
import { mib, times, type ScenarioResult } from '../src/results.js';
import { startBare, startReference, startTus, storedObjectPath } from '../src/servers.js';
import { median, pairedRatio, range } from '../src/stats.js';

/** Budget: the reference server's peak RSS may exceed the bare server's by this much. */
const RSS_HEADROOM = 64 * MiB;
const TUS_CHUNK = 8 * MiB;

export async function concurrency(ctx: BenchContext): Promise<ScenarioResult> {
  const startedAt = new Date();
  const { concurrencyFiles: files, concurrencyBytes: size } = ctx.sizes;
  const dir = await scratchDir('concurrency');
  try {
    const payload = path.join(dir, 'payload.pdf');
    const sha = await writePayload(payload, size);
    let n = 0;

    /** One run: a fresh server, all uploads at once, then its VmHWM, then the checks. */
    const contender = <S extends ServerProcess>(
      name: string,
      start: (runDir: string) => Promise<S>,
      upload: (server: S, i: number, runDir: string) => Promise<string>,
    ): Contender => ({
      name,
      async run(): Promise<Sample> {
        const runDir = path.join(dir, `run-${++n}`);
        await mkdir(runDir);
        const server = await start(runDir);
        try {
          const started = performance.now();
          const stored = await Promise.all(
            Array.from({ length: files }, (_, i) => upload(server, i, runDir)),
          );
          const ms = performance.now() - started;
          const peakRss = await server.peakRss();
          for (const file of stored) await verifyStored(name, file, sha);
          return { ms, bytes: files * size, extra: { peakRss } };
        } finally {
          await server.stop();
          await rm(runDir, { recursive: true, force: true });
        }
      },
    });

    const baseline = contender(
      `${files} streamed PUTs (node:http) → bare server`,
      (runDir) => startBare({ programs: ctx.programs, dir: runDir }),
      async (server, i, runDir) => {
        await streamedPut(payload, `${server.url}/files/f${i}.pdf`, size);
        return path.join(runDir, `f${i}.pdf`);
      },
    );
    const tus = contender(
      `${files} × tus-js-client (8 MiB chunks) → @tus/server + file-store`,
      (runDir) => startTus({ programs: ctx.programs, dir: runDir }),
      async (server, _i, runDir) => {
        const id = await tusUpload(payload, `${server.url}/files`, TUS_CHUNK);
        return path.join(runDir, id);
      },
    );
    const ours = contender(
      `${files} × Node SDK (one uploader each, defaults) → reference server`,
      (runDir) =>
        startReference({
          programs: ctx.programs,
          dataDir: path.join(runDir, 'data'),
          maxFileBytes: size,
        }),
      async (server, i, runDir) => {
        const user = `user-${i}`; // one user per upload, as 50 people uploading would be
        const { sessionId, fileId } = await sdkUpload(server, payload, user);
        return storedObjectPath(path.join(runDir, 'data'), user, sessionId, fileId);
      },
    );

    const runs = await alternate(baseline, [tus, ours], {
      rounds: ctx.rounds,
      warmup: ctx.warmup,
      onRun: (name, s) =>
        ctx.log(`  ${name}: ${(s.ms / 1000).toFixed(2)} s, peak RSS ${mib(s.extra?.peakRss ?? 0)}`),
    });

    const rss = (s: Sample) => s.extra?.peakRss ?? 0;
    const baseRuns = runs.pairs.flatMap((p) => p.baselineRuns);
    const rows: string[][] = [
      [
        runs.baseline.name,
        seconds(baseRuns.map((s) => s.ms)),
        times(1),
        mibRange(baseRuns.map(rss)),
        '—',
      ],
    ];
    const extraRss = new Map<Contender, number>();
    for (const pair of runs.pairs) {
      // Time ratio as a speed: above 1 is faster than the bare server.
      const speed = pairedRatio(
        pair.baselineRuns.map((s) => s.ms),
        pair.runs.map((s) => s.ms),
      );
      const extra = median(pair.runs.map((s, i) => rss(s) - rss(pair.baselineRuns[i] as Sample)));
      extraRss.set(pair.candidate, extra);
      rows.push([
        pair.candidate.name,
        seconds(pair.runs.map((s) => s.ms)),
        times(speed),
        mibRange(pair.runs.map(rss)),
        `${extra >= 0 ? '+' : ''}${mib(extra)} (${times(
          pairedRatio(pair.runs.map(rss), pair.baselineRuns.map(rss)),
        )})`,
      ]);
    }
    const oursExtra = extraRss.get(ours) as number;
    return {
      id: 'concurrency',
      title: `2. Concurrency: ${files} uploads of ${mib(size)} at once`,
      method: [
        `${files} uploads of the same ${mib(size)} file (each stored under its own name, user or`,
        'session) started at once from the benchmark process; the time until all are complete,',
        `and the server's peak resident memory: VmHWM from /proc/<pid>/status of a server process`,
        'started fresh for each run. Every stored file is checked by its SHA-256.',
      ].join(' '),
      columns: [
        'clients → server',
        'median total time',
        'speed vs bare',
        'server peak RSS (median, range)',
        'RSS over bare (median of pairs)',
      ],
      rows,
      budgets: [
        {
          name: `reference server peak RSS, ${files} concurrent uploads`,
          target: `≤ bare + ${mib(RSS_HEADROOM)}`,
          actual: `bare ${oursExtra >= 0 ? '+' : ''}${mib(oursExtra)}`,
          pass: oursExtra <= RSS_HEADROOM,
        },
      ],
      notes: [],
      settings: { files, size: mib(size), rounds: ctx.rounds, warmup: ctx.warmup },
      command: '',
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    };
  } finally {
    await removeScratch(dir);
  }
}

function seconds(ms: number[]): string {
  return `${(median(ms) / 1000).toFixed(2)} s`;
}

function mibRange(bytes: number[]): string {
  const { min, max } = range(bytes);
  return `${mib(median(bytes))} (${(min / MiB).toFixed(0)}–${(max / MiB).toFixed(0)})`;
}
