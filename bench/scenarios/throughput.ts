/**
 * Scenario 1: one large file over loopback, each client against its server, each run checked by
 * the stored file's SHA-256. Baseline: curl -T to the bare streaming server (the limit).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_CHUNK_SIZE } from '@file-uploader/protocol';
import { curlPut } from '../clients/curl-client.js';
import { naiveChunkedPut } from '../clients/naive-chunked-client.js';
import { bareNodePeak, deleteStored, sdkProcessUpload, sdkUpload } from '../clients/sdk-client.js';
import { tusUpload } from '../clients/tus-client.js';
import { collectThreadProfiles, profiled } from '../src/in-process-profile.js';
import { phaseNote } from '../src/phases.js';
import { alternate, type Contender, type Sample } from '../src/alternate.js';
import type { BenchContext } from '../src/context.js';
import { cpuDuring, cpuNote, type CpuSample } from '../src/cpu-usage.js';
import { MiB, verifyStored, writePayload } from '../src/data.js';
import { removeScratch, scratchDir } from '../src/processes.js';
import { mib, times, type ScenarioResult } from '../src/results.js';
import {
  downloadedSha256,
  startBare,
  startGcsEmulator,
  startReference,
  startTus,
  storedObjectPath,
} from '../src/servers.js';
import { mibPerSecond, pairedRatio, median, range } from '../src/stats.js';
import type { ServerProcess } from '../src/processes.js';

const CHUNK = 8 * MiB;

/** Times `work`, then verifies and cleans up outside the timed part. */
async function timed(bytes: number, work: () => Promise<() => Promise<void>>): Promise<Sample> {
  const started = performance.now();
  const after = await work();
  const ms = performance.now() - started;
  await after();
  return { ms, bytes };
}

export async function throughput(ctx: BenchContext): Promise<ScenarioResult> {
  const startedAt = new Date();
  const size = ctx.sizes.throughputBytes;
  const dir = await scratchDir('throughput');
  const servers: ServerProcess[] = [];
  try {
    const payload = path.join(dir, 'payload.pdf');
    const sha = await writePayload(payload, size);
    const bareDir = path.join(dir, 'bare');
    const tusDir = path.join(dir, 'tus');
    await Promise.all([mkdir(bareDir), mkdir(tusDir)]);
    const bare = await startBare({ programs: ctx.programs, dir: bareDir });
    servers.push(bare);
    const tus = await startTus({ programs: ctx.programs, dir: tusDir });
    servers.push(tus);
    // The server's threads each write a profile into a folder of its own, sorted out after it exits.
    const serverProfiles =
      ctx.profileDir && path.join(ctx.profileDir, 'reference-server-throughput.tmp');
    const ours = await startReference({
      programs: ctx.programs,
      dataDir: path.join(dir, 'reference'),
      maxFileBytes: size,
      ...(serverProfiles ? { nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${serverProfiles}`] } : {}),
    });
    servers.push(ours);
    const gcs = await startGcsEmulator({ programs: ctx.programs, dir });
    servers.push(gcs);
    const oursGcs = await startReference({
      programs: ctx.programs,
      dataDir: path.join(dir, 'reference-gcs'),
      maxFileBytes: size,
      env: gcs.referenceEnv,
    });
    servers.push(oursGcs);

    let n = 0;
    /** Time per SDK state in each run of ours, to tell where its time goes. */
    const phases: Array<Record<string, number>> = [];
    /** CPU time of each process in each run of ours, to tell which one the upload waits for. */
    const cpuEmbedded: CpuSample[] = [];
    const cpuGcs: CpuSample[] = [];
    const bareRun = (name: string, send: (url: string) => Promise<void>): Contender => ({
      name,
      run: () =>
        timed(size, async () => {
          const file = `run-${++n}.pdf`;
          await send(`${bare.url}/files/${file}`);
          return async () => {
            await verifyStored(name, path.join(bareDir, file), sha);
            await rm(path.join(bareDir, file));
          };
        }),
    });
    const tusRun = (name: string, chunkSize: number): Contender => ({
      name,
      run: () =>
        timed(size, async () => {
          const id = await tusUpload(payload, `${tus.url}/files`, chunkSize);
          return async () => {
            const stored = path.join(tusDir, id);
            await verifyStored(name, stored, sha);
            await rm(stored);
            await rm(`${stored}.json`, { force: true });
          };
        }),
    });
    const baseline = bareRun('curl -T → bare Node server (the limit)', (url) =>
      curlPut(payload, url),
    );
    const candidates: Contender[] = [
      bareRun('naive client: 8 MiB PUTs in order, keep-alive → bare server', (url) =>
        naiveChunkedPut(payload, url, CHUNK),
      ),
      tusRun('tus-js-client, 8 MiB chunks → @tus/server + file-store', CHUNK),
      tusRun('tus-js-client, one PATCH → @tus/server + file-store', Number.POSITIVE_INFINITY),
      {
        name: 'ours: Node SDK → reference server (embedded, defaults, digests on)',
        run: () =>
          timed(size, async () => {
            const user = `bench-${++n}`; // a new user each run: no duplicate shortcut
            const send = async () => {
              const { result, cpu } = await cpuDuring({ 'reference server': ours }, () =>
                sdkUpload(ours, payload, user),
              );
              cpuEmbedded.push(cpu);
              return result;
            };
            // With --profile, each run of ours overwrites the client profile: the last one stays.
            const { sessionId, fileId, stateMs } = ctx.profileDir
              ? await profiled(path.join(ctx.profileDir, 'sdk-client-throughput.cpuprofile'), send)
              : await send();
            phases.push(stateMs);
            return async () => {
              const stored = await storedObjectPath(ours.dataDir, user, sessionId, fileId);
              await verifyStored('ours', stored, sha);
              await deleteStored(ours, user, fileId);
            };
          }),
      },
      {
        name: 'ours: Node SDK → reference server (GCS store → emulator process)',
        run: () =>
          timed(size, async () => {
            const user = `bench-${++n}`;
            const { result, cpu } = await cpuDuring(
              { 'reference server': oursGcs, 'GCS emulator': gcs },
              () => sdkUpload(oursGcs, payload, user),
            );
            cpuGcs.push(cpu);
            const { fileId } = result;
            return async () => {
              // The object is in the emulator's bucket: read back through a signed download URL.
              const stored = await downloadedSha256(oursGcs, user, fileId);
              if (stored !== sha) {
                throw new Error(`ours (GCS): stored SHA-256 ${stored} differs from ${sha}`);
              }
              await deleteStored(oursGcs, user, fileId);
            };
          }),
      },
    ];
    const [naive, tus8, tusOne, oursSdk, oursGcsSdk] = candidates as [
      Contender,
      Contender,
      Contender,
      Contender,
      Contender,
    ];

    const settings = {
      rounds: ctx.rounds,
      warmup: ctx.warmup,
      onRun: (name: string, s: Sample) =>
        ctx.log(`  ${name}: ${mibPerSecond(s.bytes, s.ms).toFixed(0)} MiB/s`),
    };
    const local = await alternate(baseline, [naive, tus8, tusOne, oursSdk], settings);
    const remote = await alternate(baseline, [oursGcsSdk], settings);
    const runs = { baseline, pairs: [...local.pairs, ...remote.pairs] };

    const speed = (s: Sample) => mibPerSecond(s.bytes, s.ms);
    const allBaseline = runs.pairs.flatMap((p) => p.baselineRuns).map(speed);
    const rows: string[][] = [
      [runs.baseline.name, `${median(allBaseline).toFixed(0)}`, spread(allBaseline), times(1)],
    ];
    const ratios = new Map<string, number>();
    for (const pair of runs.pairs) {
      const values = pair.runs.map(speed);
      const ratio = pairedRatio(values, pair.baselineRuns.map(speed));
      ratios.set(pair.candidate.name, ratio);
      rows.push([pair.candidate.name, median(values).toFixed(0), spread(values), times(ratio)]);
    }

    const oursRatio = ratios.get(oursSdk.name) as number;
    const tusRatio = ratios.get(tus8.name) as number;
    // The SDK's own memory: one more upload of the file, from a process of its own.
    const memoryUser = `bench-${++n}`;
    const alone = await sdkProcessUpload(ctx.programs.sdkClient, ours, payload, memoryUser);
    await verifyStored(
      'ours (own process)',
      await storedObjectPath(ours.dataDir, memoryUser, alone.sessionId, alone.fileId),
      sha,
    );
    await deleteStored(ours, memoryUser, alone.fileId);
    const floor = await bareNodePeak();
    const notes: string[] = [
      `Memory of the Node SDK: uploading the file from a process of its own (bench/clients/sdk-process.ts, defaults), that process peaked at ${mib(alone.peakBytes)} resident (VmHWM); a \`node\` process that does nothing peaks at ${mib(floor)}.`,
      phaseNote('the Node SDK', phases),
      cpuNote('ours (embedded store)', cpuEmbedded),
      cpuNote('ours with the GCS store', cpuGcs),
    ];
    if (serverProfiles && ctx.profileDir) {
      await ours.stop(30_000); // a clean exit writes the profiles
      const written = await collectThreadProfiles(
        serverProfiles,
        ctx.profileDir,
        'reference-server-throughput',
      );
      notes.push(
        `Profiled run: the reference server ran with --cpu-prof and the benchmark process with the inspector's sampling profiler during each SDK run, which slows the SDK row a little. Profiles in ${ctx.profileDir}: ${written.join(', ')} (the server over all runs: its main thread, then each worker thread, e.g. the one that hashes staged chunks), sdk-client-throughput.cpuprofile (the client during the last SDK run).`,
      );
    }
    return {
      id: 'throughput',
      title: '1. Throughput: one file over loopback',
      method: [
        `One ${mib(size)} file of random bytes (with a PDF header, which the reference server`,
        `checks), uploaded over 127.0.0.1. Each client runs in the benchmark process, each server`,
        'in its own process. Every run is checked by the SHA-256 of the stored file (on disk, or',
        `the reference server's stored object), outside the timed part. The GCS row runs a second`,
        'reference server with `STORAGE=gcs` against the GCS emulator of the tests',
        '(test/gcs-emulator, objects in memory) in its own process; its stored object is read back',
        `through the server's download route (a v4 signed URL to the emulator) and hashed; its`,
        'runs come after all the others, in an alternation of their own with curl (beside them,',
        'they slowed the embedded row: bench/README.md).',
        `Time ends when the upload`,
        `is complete: for ours, when the SDK's \`done\` resolves (file assembled, type-checked,`,
        `ready); ours uses the server's default chunk size (${mib(DEFAULT_CHUNK_SIZE)}) and the`,
        `SDK's defaults (3 chunks in flight, digests on). Ratios are medians of throughput ratios`,
        'against the curl run beside each run.',
      ].join(' '),
      columns: ['client → server', 'median MiB/s', 'range MiB/s', 'throughput vs curl'],
      rows,
      budgets: [
        {
          name: 'Node SDK → reference server vs the limit (curl → bare)',
          target: '≥ 0.50×',
          actual: times(oursRatio),
          pass: oursRatio >= 0.5,
        },
        {
          name: 'Node SDK process peak resident memory, one upload',
          target: '≤ 150 MB',
          actual: `${(alone.peakBytes / 1e6).toFixed(0)} MB`,
          pass: alone.peakBytes <= 150e6,
        },
        {
          name: 'Node SDK → reference server vs tus-js-client 8 MiB → @tus/server',
          target: 'faster (> 1.00×)',
          actual: times(oursRatio / tusRatio),
          pass: oursRatio > tusRatio,
        },
      ],
      notes,
      chart: [
        { label: 'curl → bare (limit)', ratio: 1, baseline: true },
        {
          label: 'naive 8 MiB chunks → bare',
          ratio: ratios.get(naive.name) as number,
        },
        { label: 'tus-js-client 8 MiB → @tus/server', ratio: tusRatio },
        {
          label: 'tus-js-client 1 PATCH → @tus/server',
          ratio: ratios.get(tusOne.name) as number,
        },
        { label: 'ours: SDK → reference server', ratio: oursRatio },
        {
          label: 'ours: SDK → reference server, GCS',
          ratio: ratios.get(oursGcsSdk.name) as number,
        },
      ],
      settings: {
        size: mib(size),
        rounds: ctx.rounds,
        warmup: ctx.warmup,
        'naive and tus chunk': mib(CHUNK),
        'ours chunk': mib(DEFAULT_CHUNK_SIZE),
      },
      command: '',
      startedAt: startedAt.toISOString(),
      durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
    };
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    await removeScratch(dir);
  }
}

function spread(values: number[]): string {
  const { min, max } = range(values);
  return `${min.toFixed(0)}–${max.toFixed(0)}`;
}
