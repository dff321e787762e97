/** Starting the servers under test as child processes on 127.0.0.1. */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { HEADERS, routePath, type DownloadResponse } from '@file-uploader/protocol';
import type { ServerPrograms } from './build.js';
import { MiB } from './data.js';
import {
  freePort,
  spawnAnnouncing,
  spawnServer,
  waitHttp,
  type ServerProcess,
} from './processes.js';

export interface BareOptions {
  programs: ServerPrograms;
  /** Where bodies are written. */
  dir: string;
}

/** The bare streaming server (bench/servers/bare-server.ts). */
export async function startBare(opts: BareOptions): Promise<ServerProcess> {
  const port = await freePort();
  return spawnServer({
    name: 'bare server',
    args: [opts.programs.bareServer],
    env: { PORT: String(port), DIR: opts.dir },
    port,
    ready: (url) => waitHttp(`${url}/healthz`),
  });
}

/** @tus/server with @tus/file-store (bench/servers/tus-server.ts). */
export async function startTus(opts: BareOptions): Promise<ServerProcess> {
  const port = await freePort();
  return spawnServer({
    name: 'tus server',
    args: [opts.programs.tusServer],
    env: { PORT: String(port), DIR: opts.dir },
    port,
    ready: (url) => waitHttp(`${url}/healthz`),
  });
}

export interface ReferenceServer extends ServerProcess {
  readonly dataDir: string;
  /** Base of the protocol routes. */
  readonly endpoint: string;
  /** A token for `sub` (HS256 with the server's secret, valid for an hour). */
  token(sub: string): string;
  /** The same settings, data dir and port: for restarts. */
  restart(): Promise<ReferenceServer>;
}

export interface ReferenceOptions {
  programs: ServerPrograms;
  dataDir: string;
  /** Largest file the run sends; the server's session limit is raised to fit it. */
  maxFileBytes: number;
  port?: number;
  env?: Record<string, string>;
  /** Extra node flags (e.g. --cpu-prof). */
  nodeArgs?: string[];
}

/** HS256 JWT, written out here rather than pulling a JWT library into the bench. */
export function signHs256(secret: string, sub: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const body = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub, iat: now, exp: now + 3600 })}`;
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

/**
 * The reference server as deployed: its CLI, embedded store (disk + SQLite), default chunk size
 * and log level. Changed from the defaults only where a benchmark would otherwise be refused:
 * the size limits (the default is 100 MiB a session) and the rate limits (every bench upload
 * comes from one address).
 */
export async function startReference(opts: ReferenceOptions): Promise<ReferenceServer> {
  const port = opts.port ?? (await freePort());
  const secret = randomBytes(36).toString('base64url');
  const limit = String(Math.max(opts.maxFileBytes, 100 * MiB));
  const env = {
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: opts.dataDir,
    JWT_SECRET: secret,
    DOWNLOAD_SECRET: randomBytes(36).toString('base64url'),
    MAX_SESSION_BYTES: limit,
    MAX_FILE_BYTES: limit,
    RATE_LIMIT_USER: '1000000',
    RATE_LIMIT_IP: '1000000',
    ...opts.env,
  };
  const launch = async (): Promise<ReferenceServer> => {
    const proc = await spawnServer({
      name: 'reference server',
      args: [...(opts.nodeArgs ?? []), opts.programs.referenceServer],
      env,
      port,
      ready: (url) => waitHttp(`${url}/readyz`),
    });
    return {
      ...proc,
      dataDir: opts.dataDir,
      endpoint: `${proc.url}/api/v1/upload`,
      token: (sub) => signHs256(secret, sub),
      restart: launch,
    };
  };
  return launch();
}

/** Path of a ready file's stored object: objects/<user>/<session>/<time>-<fileId>/<name>. */
export async function storedObjectPath(
  dataDir: string,
  user: string,
  sessionId: string,
  fileId: string,
): Promise<string> {
  const sessionDir = path.join(dataDir, 'blobs', 'objects', user, sessionId);
  const dirs = (await readdir(sessionDir)).filter((d) => d.endsWith(`-${fileId}`));
  if (dirs.length !== 1) throw new Error(`expected one object dir for ${fileId} in ${sessionDir}`);
  const dir = path.join(sessionDir, dirs[0] as string);
  const names = await readdir(dir);
  if (names.length !== 1) throw new Error(`expected one object in ${dir}`);
  return path.join(dir, names[0] as string);
}

export interface GcsEmulatorProcess extends ServerProcess {
  /** The reference server's settings for the emulator's bucket (STORAGE=gcs, GCS_*). */
  readonly referenceEnv: Record<string, string>;
}

/**
 * The GCS emulator of the tests as its own process (bench/servers/gcs-emulator.ts), with one
 * bucket; its service-account key is written to `dir` for the reference server's GCS_KEY_FILE.
 */
export async function startGcsEmulator(opts: BareOptions): Promise<GcsEmulatorProcess> {
  const bucket = 'bench-uploads';
  const { server, announced } = await spawnAnnouncing<{
    url: string;
    projectId: string;
    serviceAccountKey: unknown;
  }>({ name: 'GCS emulator', args: [opts.programs.gcsEmulator], env: { BUCKET: bucket } });
  const keyFile = path.join(opts.dir, 'gcs-key.json');
  await writeFile(keyFile, JSON.stringify(announced.serviceAccountKey), { mode: 0o600 });
  return {
    ...server,
    referenceEnv: {
      STORAGE: 'gcs',
      GCS_BUCKET: bucket,
      GCS_API_ENDPOINT: announced.url,
      GCS_PROJECT_ID: announced.projectId,
      GCS_KEY_FILE: keyFile,
    },
  };
}

/**
 * SHA-256 (hex) of a ready file as its owner downloads it: the server's download route gives a
 * URL (a signed GCS URL under STORAGE=gcs), whose body is hashed as it streams.
 */
export async function downloadedSha256(
  server: ReferenceServer,
  user: string,
  fileId: string,
): Promise<string> {
  const res = await fetch(server.url + routePath('download', { fileId }), {
    headers: { [HEADERS.authorization]: `Bearer ${server.token(user)}` },
  });
  if (!res.ok) throw new Error(`download link for ${fileId}: ${res.status} ${await res.text()}`);
  const { url } = (await res.json()) as DownloadResponse;
  const file = await fetch(url);
  if (!file.ok || !file.body) throw new Error(`GET ${url}: ${file.status} ${await file.text()}`);
  const hash = createHash('sha256');
  const reader = file.body.getReader();
  for (let part = await reader.read(); !part.done; part = await reader.read()) {
    hash.update(part.value);
  }
  return hash.digest('hex');
}
