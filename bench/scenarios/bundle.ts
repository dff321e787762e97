/**
 * Scenario 5: bundle sizes. Every library goes through the same esbuild build (bundled, minified,
 * ES2022, browser conditions) and gzip -9; stylesheets a library needs are counted apart.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';
import { elementAvailable } from '../src/build.js';
import type { BenchContext } from '../src/context.js';
import { BENCH_DIR, ELEMENT_ENTRY, REPO_ROOT } from '../src/paths.js';
import { times, type BudgetResult, type ScenarioResult } from '../src/results.js';

/** Budgets in the KB, read strictly as 1000 bytes. */
const KB = 1000;
const SDK_BUDGET = 10 * KB;
const ELEMENT_BUDGET = 30 * KB;

interface Entry {
  name: string;
  /** ES module source importing what a user of the library imports. */
  source: string;
  /** Stylesheets the library needs on the page, from node_modules. */
  css?: string[];
}

const SDK_ENTRY = path.join(REPO_ROOT, 'packages', 'sdk', 'src', 'index.ts');

function entries(): Entry[] {
  const list: Entry[] = [
    {
      name: 'ours: SDK (@file-uploader/sdk)',
      source: `export * from ${JSON.stringify(SDK_ENTRY)};`,
    },
  ];
  if (elementAvailable()) {
    list.push({
      name: 'ours: element + SDK + lit',
      source: `export * from ${JSON.stringify(ELEMENT_ENTRY)};`,
    });
  }
  list.push(
    { name: 'tus-js-client', source: `export * from 'tus-js-client';` },
    {
      name: '@uppy/core + @uppy/tus',
      source: `export { Uppy } from '@uppy/core'; export { default as Tus } from '@uppy/tus';`,
      css: ['@uppy/core/dist/style.min.css'],
    },
    {
      name: '@uppy/core + @uppy/dashboard + @uppy/tus',
      source: [
        `export { Uppy } from '@uppy/core';`,
        `export { default as Dashboard } from '@uppy/dashboard';`,
        `export { default as Tus } from '@uppy/tus';`,
      ].join('\n'),
      css: ['@uppy/core/dist/style.min.css', '@uppy/dashboard/dist/style.min.css'],
    },
    {
      name: 'filepond',
      source: `export * from 'filepond';`,
      css: ['filepond/dist/filepond.min.css'],
    },
    {
      name: 'dropzone',
      source: `export { default } from 'dropzone';`,
      css: ['dropzone/dist/dropzone.css'],
    },
  );
  return list;
}

/** The one build every entry goes through; returns the minified bytes. */
async function minified(entry: Entry): Promise<Buffer> {
  const result = await build({
    stdin: { contents: entry.source, resolveDir: BENCH_DIR, loader: 'js' },
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source', 'browser'],
    define: { 'process.env.NODE_ENV': '"production"' },
    write: false,
    logLevel: 'error',
  });
  return Buffer.from(result.outputFiles[0]?.contents ?? new Uint8Array());
}

/** Stylesheets minified by the same tool (most ship minified already). */
async function minifiedCss(files: string[]): Promise<Buffer> {
  const parts = await Promise.all(
    files.map(async (file) => {
      const result = await build({
        stdin: {
          contents: await readFile(path.join(REPO_ROOT, 'node_modules', file), 'utf8'),
          loader: 'css',
        },
        minify: true,
        write: false,
        logLevel: 'error',
      });
      return Buffer.from(result.outputFiles[0]?.contents ?? new Uint8Array());
    }),
  );
  return Buffer.concat(parts);
}

const gz = (bytes: Buffer) => gzipSync(bytes, { level: 9 }).length;
const kb = (bytes: number) => `${(bytes / KB).toFixed(1)} KB`;

export async function bundle(_ctx: BenchContext): Promise<ScenarioResult> {
  const startedAt = new Date();
  const measured: Array<{ name: string; min: number; gzip: number; css: number }> = [];
  for (const entry of entries()) {
    const js = await minified(entry);
    const css = entry.css ? gz(await minifiedCss(entry.css)) : 0;
    measured.push({ name: entry.name, min: js.length, gzip: gz(js), css });
  }
  const sdk = measured[0] as (typeof measured)[number];
  const element = measured.find((m) => m.name.startsWith('ours: element'));
  const budgets: BudgetResult[] = [
    {
      name: 'SDK, minified + gzip',
      target: `≤ ${kb(SDK_BUDGET)}`,
      actual: kb(sdk.gzip),
      pass: sdk.gzip <= SDK_BUDGET,
    },
    element
      ? {
          name: 'element + SDK + lit, minified + gzip',
          target: `≤ ${kb(ELEMENT_BUDGET)}`,
          actual: kb(element.gzip),
          pass: element.gzip <= ELEMENT_BUDGET,
        }
      : {
          name: 'element + SDK + lit, minified + gzip',
          target: `≤ ${kb(ELEMENT_BUDGET)}`,
          actual: 'not measured: packages/element/src/define.ts does not exist yet',
        },
  ];
  return {
    id: 'bundle',
    title: '5. Bundle sizes (minified, gzip -9)',
    method: [
      'Each library bundled by one esbuild configuration (bundle, minify, ESM, ES2022, platform',
      'browser, conditions `source,browser`, `process.env.NODE_ENV=production`) from an entry that',
      'imports what a user imports (`export *` of the package, or its default exports), then',
      'gzip -9. Stylesheets the library needs on the page (Uppy, FilePond, Dropzone) are minified',
      'by the same tool and counted in their own column; ours has none (styles live in the',
      `element's shadow DOM). KB = 1000 bytes.`,
    ].join(' '),
    columns: [
      'bundle',
      'minified',
      'gzip JS',
      'gzip CSS',
      'gzip JS + CSS',
      'vs our SDK (JS + CSS)',
    ],
    rows: measured.map((m) => [
      m.name,
      kb(m.min),
      kb(m.gzip),
      m.css ? kb(m.css) : '—',
      kb(m.gzip + m.css),
      times((m.gzip + m.css) / sdk.gzip),
    ]),
    budgets,
    notes: element ? [] : ['The element row appears once packages/element/src/define.ts exists.'],
    settings: { esbuild: 'bundle, minify, esm, es2022, browser' },
    command: '',
    startedAt: startedAt.toISOString(),
    durationSeconds: (Date.now() - startedAt.getTime()) / 1000,
  };
}
