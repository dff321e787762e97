/**
 * Builds what the benchmark runs as separate programs: the reference server (from its sources),
 * the bare and tus servers, the GCS emulator of the tests, and the browser page. One esbuild setup for all, so every server is
 * plain JavaScript in a plain `node` process: no TypeScript loader in the measured process (it
 * would add its own memory to the peak RSS figures).
 */
import path from 'node:path';
import { build, type Plugin } from 'esbuild';
import { existsSync } from 'node:fs';
import { BENCH_DIR, BUILD_DIR, ELEMENT_ENTRY, REPO_ROOT } from './paths.js';

/** Workspace packages are bundled from source; everything else in node_modules stays external. */
const externalDependencies: Plugin = {
  name: 'external-dependencies',
  setup(b) {
    b.onResolve({ filter: /^[^./]/ }, (args) =>
      args.path.startsWith('@file-uploader/') ? undefined : { path: args.path, external: true },
    );
  },
};

export interface ServerPrograms {
  referenceServer: string;
  bareServer: string;
  tusServer: string;
  gcsEmulator: string;
  /** The Node SDK uploading one file in its own process (its memory measured apart). */
  sdkClient: string;
}

/** Bundles the servers and the GCS emulator into bench/dist (resolving node_modules from the repo root). */
export async function buildServers(): Promise<ServerPrograms> {
  await build({
    entryPoints: {
      'reference-server': path.join(REPO_ROOT, 'reference-server', 'src', 'cli.ts'),
      'bare-server': path.join(BENCH_DIR, 'servers', 'bare-server.ts'),
      'tus-server': path.join(BENCH_DIR, 'servers', 'tus-server.ts'),
      'gcs-emulator': path.join(BENCH_DIR, 'servers', 'gcs-emulator.ts'),
      'sdk-client': path.join(BENCH_DIR, 'clients', 'sdk-process.ts'),
    },
    outdir: BUILD_DIR,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    // Dynamic imports stay lazy, as in the published server: the Redis, GCS and RabbitMQ
    // clients load only when configured, so they are not in an embedded server's memory.
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    target: 'node20',
    conditions: ['source'],
    plugins: [externalDependencies],
    sourcemap: 'linked',
    logLevel: 'warning',
  });
  return {
    referenceServer: path.join(BUILD_DIR, 'reference-server.mjs'),
    bareServer: path.join(BUILD_DIR, 'bare-server.mjs'),
    tusServer: path.join(BUILD_DIR, 'tus-server.mjs'),
    gcsEmulator: path.join(BUILD_DIR, 'gcs-emulator.mjs'),
    sdkClient: path.join(BUILD_DIR, 'sdk-client.mjs'),
  };
}

/** True when the element package has its entry (its rows are added then). */
export function elementAvailable(): boolean {
  return existsSync(ELEMENT_ENTRY);
}

/** Bundles the browser page's script (bench/browser/page.ts) into `outDir`. */
export async function buildPage(outDir: string): Promise<string> {
  const out = path.join(outDir, 'page.js');
  await build({
    entryPoints: [path.join(BENCH_DIR, 'browser', 'page.ts')],
    outfile: out,
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
    conditions: ['source', 'browser'],
    logLevel: 'warning',
  });
  return out;
}
