#!/usr/bin/env node
/**
 * Uploads every file of a folder (recursively) with the SDK, showing progress in the terminal.
 * Ctrl-C stops cleanly; running the same command again resumes, sending only missing chunks.
 *
 *   node examples/node/upload-folder.mjs <folder> [--endpoint URL] [--token T | --dev] [--state DIR]
 */
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import {
  API_PREFIX,
  FileResumeStore,
  SERVICE_ROUTES,
  createUploader,
  fileFromPath,
  fingerprint,
} from '@file-uploader/sdk/node';
import { ProgressView } from './progress-view.mjs';
import { UploadedList } from './uploaded-list.mjs';

const USAGE = `Usage: node examples/node/upload-folder.mjs <folder> [options]

Uploads every file under <folder> (hidden files and folders excepted).

Options:
  --endpoint URL  the server, or its upload routes (default http://localhost:8080,
                  which is where \`npm start\` listens; ${API_PREFIX} is added to a bare origin)
  --token T       a bearer token (default: the UPLOAD_TOKEN environment variable)
  --dev           take a token from the server's dev route (servers started with DEV_MODE=1)
  --state DIR     where resume state lives (default <folder>/.file-uploader)
  -h, --help      this text

Ctrl-C stops; run the same command again to resume. Exit codes: 0 all uploaded, 1 some file
failed or was rejected, 2 bad usage, 130 stopped by Ctrl-C.`;

// The reference server's defaults (MAX_FILES, MAX_SESSION_BYTES): files go up in sessions that
// stay within them.
const SESSION_FILES = 20;
const SESSION_BYTES = 100 * 1024 * 1024;

function fail(message) {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

function parse() {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        endpoint: { type: 'string', default: 'http://localhost:8080' },
        token: { type: 'string' },
        dev: { type: 'boolean', default: false },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (err) {
    fail(err.message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (positionals.length !== 1) fail('Give exactly one folder.');
  let endpoint;
  try {
    endpoint = new URL(values.endpoint);
  } catch {
    fail(`Not a URL: ${values.endpoint}`);
  }
  if (endpoint.pathname === '/') endpoint.pathname = API_PREFIX;
  const token = values.token ?? process.env.UPLOAD_TOKEN;
  if (values.dev && token) fail('Give --token or --dev, not both.');
  if (!values.dev && !token) fail('Give --token T (or set UPLOAD_TOKEN), or --dev.');
  const folder = path.resolve(positionals[0]);
  return {
    folder,
    endpoint: endpoint.href.replace(/\/+$/, ''),
    origin: endpoint.origin,
    token,
    dev: values.dev,
    state: path.resolve(values.state ?? path.join(folder, '.file-uploader')),
  };
}

/** A token provider: the given token, or the dev route's (fetched again when refused). */
function tokenProvider({ token, dev, origin }) {
  if (!dev) return () => token;
  let current;
  return async (refresh) => {
    if (!current || refresh) {
      const res = await fetch(`${origin}${SERVICE_ROUTES.devToken}`);
      if (!res.ok) throw new Error(`${origin}${SERVICE_ROUTES.devToken} answered ${res.status}`);
      current = (await res.json()).token;
    }
    return current;
  };
}

/** Files under `dir`, relative ('/'-separated), sorted; hidden entries and `skip` left out. */
async function listFiles(dir, skip) {
  const out = [];
  const walk = async (current) => {
    for (const entry of await readdir(current, { withFileTypes: true })) {
      const full = path.join(current, entry.name);
      if (entry.name.startsWith('.') || full === skip) continue;
      if (entry.isDirectory()) await walk(full);
      else if (entry.isFile()) out.push(path.relative(dir, full).split(path.sep).join('/'));
    }
  };
  await walk(dir);
  return out.sort();
}

/** Splits sources into groups that fit in one session each. */
function sessions(sources) {
  const groups = [];
  let group = [];
  let bytes = 0;
  for (const source of sources) {
    const size = source.blob.size;
    if (group.length > 0 && (group.length >= SESSION_FILES || bytes + size > SESSION_BYTES)) {
      groups.push(group);
      group = [];
      bytes = 0;
    }
    group.push(source);
    bytes += size;
  }
  if (group.length > 0) groups.push(group);
  return groups;
}

async function main() {
  const options = parse();
  const { folder, endpoint, state } = options;
  let names;
  try {
    names = await listFiles(folder, state);
  } catch (err) {
    fail(`Cannot read ${folder}: ${err.message}`);
  }

  const store = new FileResumeStore(state);
  const uploaded = await new UploadedList(state, endpoint).load();
  const uploader = createUploader({ endpoint, getToken: tokenProvider(options), resume: store });

  const sources = [];
  let skipped = 0;
  for (const rel of names) {
    const source = await fileFromPath(path.join(folder, rel), { name: rel });
    if (uploaded.has(rel, { size: source.blob.size, lastModified: source.lastModified })) skipped++;
    else sources.push(source);
  }
  const totalBytes = sources.reduce((sum, s) => sum + s.blob.size, 0);
  const view = new ProgressView({ totalBytes, totalFiles: sources.length });
  view.line(
    `${sources.length} file(s), ${totalBytes} bytes to upload to ${endpoint}` +
      (skipped > 0 ? ` (${skipped} already uploaded)` : ''),
  );
  if (sources.length === 0) return 0;

  const uploads = [];
  const finished = [];
  const follow = (upload) => {
    uploads.push(upload);
    view.track(upload);
    finished.push(
      upload.done.then(
        () => uploaded.add(upload.name, upload).then(() => true),
        () => false,
      ),
    );
  };
  uploader.addEventListener('state', (e) => view.stateChanged(e.upload));

  // Ctrl-C: stop sending (what the server confirmed stays there, and the resume records stay
  // in the state directory). A second Ctrl-C quits at once.
  let interrupted = false;
  const stopped = new Promise((resolve) => {
    process.on('SIGINT', () => {
      if (interrupted) process.exit(130);
      interrupted = true;
      for (const upload of uploads) upload.pause();
      resolve(false);
    });
  });

  view.start();
  // Unfinished uploads from an earlier run continue where they stopped.
  const pending = new Map((await uploader.resumable()).map((p) => [p.record.key, p]));
  const fresh = [];
  for (const source of sources) {
    const key = fingerprint(endpoint, { ...source, size: source.blob.size });
    const earlier = pending.get(key);
    if (interrupted) break;
    if (!earlier) {
      fresh.push(source);
      continue;
    }
    try {
      view.line(`resuming: ${source.name} (checking that it is the same file)`);
      follow(await earlier.resume(source.blob));
    } catch (err) {
      // Changed since the last run: it starts over.
      view.line(`${source.name}: ${err.message} Starting it again.`);
      await store.delete(key);
      fresh.push(source);
    }
  }
  for (const group of sessions(fresh)) {
    if (interrupted) break;
    for (const source of group) follow(uploader.add(source));
    // Files added in one task share a session; the next group gets its own.
    await new Promise((resolve) => setImmediate(resolve));
  }

  const outcome = await Promise.race([Promise.all(finished), stopped]);
  view.stop();
  if (outcome === false) {
    // A file that ended ready just before Ctrl-C has no resume record any more: it must be on
    // the uploaded list before the process exits, or the next run would upload it again.
    for (const upload of uploads) {
      if (upload.state === 'ready') await uploaded.add(upload.name, upload);
    }
    const left =
      uploads.filter((u) => u.state !== 'ready').length + (sources.length - uploads.length);
    view.line(`Stopped. ${left} file(s) left; run the same command again to resume.`);
    return 130;
  }
  const failedCount = outcome.filter((ok) => !ok).length;
  view.line(
    failedCount === 0
      ? `Done: ${uploads.length} file(s) uploaded.`
      : `${failedCount} of ${uploads.length} file(s) did not upload; run again to retry them.`,
  );
  return failedCount === 0 ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${err?.stack ?? err}\n`);
    process.exit(1);
  },
);
