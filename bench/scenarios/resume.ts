/**
 * Scenario 3: resume cost. The reference server is killed (SIGKILL) when about half of a file is
 * confirmed, and restarted on the same data dir and port; the SDK carries on by itself. What it
 * sends beyond a clean upload of the same file (the baseline, alternated) is the cost of the crash:
 * at most the chunks that were on the wire when the server died.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CHUNK_SIZE } from '@file-uploader/protocol';
import { createUploader, fileFromPath } from '@file-uploader/sdk/node';
import { alternate, type Contender, type Sample } from '../src/alternate.js';
import type { BenchContext } from '../src/context.js';
import { startCountingProxy } from '../src/counting-proxy.js';
import { verifyStored, writePayload } from '../src/data.js';
import { freePort, removeScratch, scratchDir } from '../src/processes.js';
import { mib, times, type ScenarioResult } from '../src/results.js';
import { startReference, storedObjectPath, type ReferenceServer } from '../src/servers.js';
import { median } from '../src/stats.js';

/** Request headers of the extra requests a crash causes (retries, GET session) are not chunks. */
const HEADER_ALLOWANCE = 64 * 1024;

interface RunFigures {
  /** Bytes that reached the server's port (bodies and headers). */
  wireBytes: number;
  /** Chunk bytes on the wire when the server was killed. */
  inFlightAtKill: number;
  /** Chunk requests that reached the server. */
  chunkRequests: number;
  /** Time the server was away: kill to ready again. */
  downMs: number;
}

export async function resume(ctx: BenchContext): Promise<ScenarioResult> {
  const startedAt = new Date();
  const size = ctx.sizes.resumeBytes;
  const dir = await scratchDir('resume');
  const servers = new Set<ReferenceServer>();
  try {
    const payload = path.join(dir, 'payload.pdf');
    const sha = await writePayload(payload, size);
    let n = 0;

    const upload = async (kill: boolean): Promise<Sample> => {
      const dataDir = path.join(dir, `data-${++n}`);
      let server = await startReference({
        programs: ctx.programs,
        dataDir,
        maxFileBytes: size,
        port: await freePort(),
      });
      servers.add(server);
      const proxy = await startCountingProxy(server.port);
      const figures: RunFigures = { wireBytes: 0, inFlightAtKill: 0, chunkRequests: 0, downMs: 0 };
      try {
        const user = `resume-${n}`;
        const token = server.token(user);
        const uploader = createUploader({
          endpoint: `${proxy.url}/api/v1/upload`,
          getToken: () => token,
        });
        let crash: Promise<void> | undefined;
        if (kill) {
          uploader.addEventListener('progress', (event) => {
            if (crash || event.upload.progress.confirmedBytes < size / 2) return;
            const down = performance.now();
            // A request started after the signal, before the process was gone, was in flight too.
            const inFlight = proxy.watchInFlight();
            crash = (async () => {
              await server.kill();
              figures.inFlightAtKill = inFlight();
              servers.delete(server);
              server = await server.restart();
              servers.add(server);
              figures.downMs = performance.now() - down;
            })();
            crash.catch(() => undefined); // awaited (and thrown) after the upload
          });
        }
        const started = performance.now();
        const up = uploader.add(await fileFromPath(payload, { name: 'payload.pdf' }));
        await up.done;
        const ms = performance.now() - started;
        if (kill && !crash) throw new Error('the upload finished before the server was killed');
        await crash;
        figures.wireBytes = proxy.upstreamBytes;
        figures.chunkRequests = proxy.chunkRequests;
        const stored = await storedObjectPath(
          dataDir,
          user,
          up.sessionId as string,
          up.fileId as string,
        );
        await verifyStored(kill ? 'resumed upload' : 'clean upload', stored, sha);
        return { ms, bytes: size, extra: { ...figures } };
      } finally {
        await proxy.close();
        await server.stop();
        servers.delete(server);
        await rm(dataDir, { recursive: true, force: true });
      }
    };

    const clean: Contender = { name: 'clean upload (no crash)', run: () => upload(false) };
    const crashed: Contender = {
      name: 'server SIGKILLed at ~50 %, restarted',
      run: () => upload(true),
    };
    const runs = await alternate(clean, [crashed], {
      rounds: ctx.rounds,
      warmup: 0,
      onRun: (name, s) =>
        ctx.log(
          `  ${name}: wire ${mib(s.extra?.wireBytes ?? 0)}, in flight at kill ${mib(
            s.extra?.inFlightAtKill ?? 0,
          )}`,
        ),
    });
    const pair = runs.pairs[0] as (typeof runs.pairs)[number];
    const x = (s: Sample, key: keyof RunFigures) => s.extra?.[key] ?? 0;
    const resent = pair.runs.map(
      (s, i) => x(s, 'wireBytes') - x(pair.baselineRuns[i] as Sample, 'wireBytes'),
    );
    const inFlight = pair.runs.map((s) => x(s, 'inFlightAtKill'));
    const shareOfInFlight = pair.runs.map(
      (_, i) => (resent[i] as number) / Math.max(1, inFlight[i] as number),
    );
    const worst = Math.max(...shareOfInFlight);
    const overBudget = pair.runs.filter(
      (_, i) => (resent[i] as number) > (inFlight[i] as number) + HEADER_ALLOWANCE,
    ).length;
    const rows = [
      [
        clean.name,
        mib(median(pair.baselineRuns.map((s) => x(s, 'wireBytes')))),
        '—',
        '—',
        String(median(pair.baselineRuns.map((s) => x(s, 'chunkRequests')))),
        `${(median(pair.baselineRuns.map((s) => s.ms)) / 1000).toFixed(2)} s`,
      ],
      [
        crashed.name,
        mib(median(pair.runs.map((s) => x(s, 'wireBytes')))),
        `${mib(median(resent))} (max ${mib(Math.max(...resent))})`,
        `${mib(median(inFlight))} → ${times(median(shareOfInFlight))} of it (worst ${times(worst)})`,
        String(median(pair.runs.map((s) => x(s, 'chunkRequests')))),
        `${(median(pair.runs.map((s) => s.ms)) / 1000).toFixed(2)} s (server away ${(
          median(pair.runs.map((s) => x(s, 'downMs'))) / 1000
        ).toFixed(2)} s)`,
      ],
    ];
    return {
      id: 'resume',
      title: `3. Resume cost: server killed at ~50 % of ${mib(size)}`,
      method: [
        `A ${mib(size)} file uploaded by the Node SDK (defaults: ${mib(DEFAULT_CHUNK_SIZE)} chunks, 3 in`,
        'flight) through a byte-counting TCP proxy to the reference server. In the crash runs the',
        'server is killed with SIGKILL as soon as half the file is confirmed and restarted on the',
        'same data dir and port; the SDK retries and resumes by itself. Re-sent bytes: bytes that',
        'reached the server in the crash run minus those of the clean run beside it. The target is',
        'at most the chunk bytes that were in flight at the kill (from the signal until the process',
        'was gone), plus 64 KiB for the headers of the extra requests. The stored SHA-256 is checked.',
      ].join(' '),
      columns: [
        'run',
        'bytes to server (median)',
        're-sent (median)',
        'in flight at kill → re-sent share',
        'chunk requests',
        'time',
      ],
      rows,
      budgets: [
        {
          name: 'bytes re-sent after a crash, every run',
          target: '≤ the chunks in flight (+ 64 KiB of headers)',
          actual: `worst ${times(worst)}; ${overBudget} of ${pair.runs.length} runs over`,
          pass: overBudget === 0,
        },
      ],
      notes: [],
      settings: { size: mib(size), rounds: ctx.rounds, chunk: mib(DEFAULT_CHUNK_SIZE) },
      command: '',
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    };
  } finally {
    await Promise.all([...servers].map((s) => s.stop()));
    await removeScratch(dir);
  }
}
