/**
 * End-to-end test harness: runs the real reference server (its CLI, configured by environment
 * variables) as a child process on 127.0.0.1, and talks to it over HTTP like a client would.
 *
 * Every process started here is killed when the test file ends (node:test `after`, and a
 * synchronous SIGKILL on process exit as a backstop), and temporary data dirs are removed.
 */
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SignJWT, type JWTPayload } from 'jose';
import {
  API_PREFIX,
  CONFIRM_DELETE,
  CONTENT_HASH_BLOCK_SIZE,
  HEADERS,
  chunkRange,
  formatContentDigest,
  routePath,
  type DownloadResponse,
  type ChunkResponse,
  type FileStatusResponse,
  type InitiateRequest,
  type InitiateResponse,
  type ProtocolError,
  type UploadSession,
} from '@file-uploader/protocol';

/** Root of the monorepo (this file is reference-server/test/harness.ts). */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The server's CLI entry point. */
export const CLI_PATH = path.join(REPO_ROOT, 'reference-server', 'src', 'cli.ts');
/** Node arguments that run the CLI from TypeScript sources. */
const NODE_ARGS = ['--conditions=source', '--import', 'tsx', CLI_PATH];

/**
 * How long a started server or worker may take to answer `/readyz`. An idle machine takes
 * 1.5-3 s (two workers started together included); a fresh clone's CI run, with another test
 * file beside it on two cores, once saw a worker take over 15 s. A start that hangs still fails.
 */
const READY_TIMEOUT_MS = 30_000;
/** The chunk size every test server uses unless told otherwise. */
export const TEST_CHUNK_SIZE = 256 * 1024;

// ---------------------------------------------------------------------------------------------
// Process bookkeeping: nothing outlives the test file.

const liveChildren = new Set<ChildProcess>();
const liveSockets = new Set<net.Socket>();
const tempDirs = new Set<string>();

after(async () => {
  for (const socket of liveSockets) socket.destroy();
  await Promise.all([...liveChildren].map((child) => killAndWait(child)));
  await Promise.all(
    [...tempDirs].map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)),
  );
});

process.on('exit', () => {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
});

function exited(child: ChildProcess): Promise<{ code: number | null; signal: string | null }> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  }
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

async function killAndWait(child: ChildProcess): Promise<void> {
  const done = exited(child);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await done;
}

/** A TCP port that was free a moment ago on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A temporary directory removed when the test file ends. */
export async function tempDir(prefix = 'fu-test-'): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

function randomSecret(): string {
  return randomBytes(36).toString('base64url'); // 48 characters
}

// ---------------------------------------------------------------------------------------------
// Tokens.

export interface TokenOptions {
  /** `exp`: a jose time span ('1h', '-1m'), epoch seconds, or a Date. Default '1h'. */
  expiresIn?: string | number | Date;
  /** Leave `exp` out. */
  noExp?: boolean;
  /** Leave `sub` out. */
  noSub?: boolean;
  /** HMAC algorithm (the server accepts HS256 only). Default HS256. */
  alg?: 'HS256' | 'HS384' | 'HS512';
  /** Sign with another secret. */
  secret?: string;
  /** Extra claims. */
  claims?: JWTPayload;
}

/** Signs an HS256 JWT (or as `opts` say). */
export async function signToken(
  secret: string,
  sub: string,
  opts: TokenOptions = {},
): Promise<string> {
  const jwt = new SignJWT({ ...opts.claims })
    .setProtectedHeader({ alg: opts.alg ?? 'HS256', typ: 'JWT' })
    .setIssuedAt();
  if (!opts.noSub) jwt.setSubject(sub);
  if (!opts.noExp) jwt.setExpirationTime(opts.expiresIn ?? '1h');
  return jwt.sign(new TextEncoder().encode(opts.secret ?? secret));
}

/** An unsigned token (`alg: none`), written by hand: header.payload. with an empty signature. */
export function unsignedToken(payload: JWTPayload): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'none', typ: 'JWT' })}.${part(payload)}.`;
}

// ---------------------------------------------------------------------------------------------
// The server process.

export interface StartOptions {
  /** Reuse a data directory (default: a fresh temporary one). */
  dataDir?: string;
  /** CLI arguments, e.g. `['worker']` (a worker answers `/readyz` too). Default none. */
  args?: readonly string[];
}

export interface TestServer {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** The environment the process runs with (test defaults + overrides; not process.env). */
  readonly env: Readonly<Record<string, string>>;
  /** The process id of the current server process. */
  readonly pid: number | undefined;
  /** A token the server accepts for `sub` (HS256, same secret, exp 1h unless `opts` say). */
  token(sub: string, opts?: TokenOptions): Promise<string>;
  /** Sends `signal` and resolves with the exit code (null when the signal killed it). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, no chance to clean up; resolves once the process is gone. */
  kill(): Promise<void>;
  /** Stops (SIGTERM) if running, then starts again on the same port and data dir. */
  restart(): Promise<TestServer>;
  /** Everything the server wrote to stderr so far (all its runs). */
  stderr(): string;
  /** Everything the server wrote to stdout so far (its pino logs). */
  stdout(): string;
}

/** Environment of a test server: test defaults, then `overrides`. */
function testEnv(
  dataDir: string,
  port: number,
  overrides: Record<string, string>,
): Record<string, string> {
  return {
    HOST: '127.0.0.1',
    PORT: String(port),
    DATA_DIR: dataDir,
    JWT_SECRET: randomSecret(),
    DOWNLOAD_SECRET: randomSecret(),
    CHUNK_SIZE: String(TEST_CHUNK_SIZE),
    LOG_LEVEL: 'warn',
    CLEANUP_INTERVAL: '1h',
    // Tests send many requests from one IP and user; the rate-limit test lowers these.
    RATE_LIMIT_USER: '1000000',
    RATE_LIMIT_IP: '1000000',
    ...overrides,
  };
}

function spawnCli(env: Record<string, string>, args: readonly string[] = []): ChildProcess {
  const child = spawn(process.execPath, [...NODE_ARGS, ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  liveChildren.add(child);
  child.once('exit', () => liveChildren.delete(child));
  return child;
}

/**
 * Starts the real server (its CLI) on 127.0.0.1 with test defaults plus `env`, and waits until
 * `/readyz` answers 200.
 */
export async function startTestServer(
  env: Record<string, string> = {},
  opts: StartOptions = {},
): Promise<TestServer> {
  const dataDir = opts.dataDir ?? (await tempDir());
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnPort(env, dataDir, await freePort(), opts.args);
    } catch (err) {
      // Another process may take the free port before the server binds it: try another one.
      if (attempt >= 3 || !/EADDRINUSE/.test((err as Error).message)) throw err;
    }
  }
}

async function startOnPort(
  env: Record<string, string>,
  dataDir: string,
  port: number,
  args: readonly string[] = [],
): Promise<TestServer> {
  const fullEnv = testEnv(dataDir, port, env);
  const url = `http://127.0.0.1:${port}`;
  let stderr = '';
  let stdout = '';
  let child: ChildProcess | undefined;

  const launch = async () => {
    const current = spawnCli(fullEnv, args);
    child = current;
    current.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    current.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    try {
      await waitReady(url, current);
    } catch (err) {
      await killAndWait(current);
      throw new Error(
        `${(err as Error).message}\n--- server stderr ---\n${stderr}\n--- stdout ---\n${stdout}`,
      );
    }
  };

  const running = () => child !== undefined && child.exitCode === null && child.signalCode === null;

  const server: TestServer = {
    url,
    port,
    dataDir,
    env: fullEnv,
    get pid() {
      return child?.pid;
    },
    token: (sub, tokenOpts) => signToken(fullEnv.JWT_SECRET ?? '', sub, tokenOpts),
    async stop(signal = 'SIGTERM') {
      if (!child) return null;
      const current = child;
      const done = exited(current);
      if (running()) current.kill(signal);
      return (await done).code;
    },
    async kill() {
      if (child) await killAndWait(child);
    },
    async restart() {
      if (running()) await server.stop('SIGTERM');
      await launch();
      return server;
    },
    stderr: () => stderr,
    stdout: () => stdout,
  };
  await launch();
  return server;
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `The server exited early (code ${child.exitCode}, signal ${child.signalCode})`,
      );
    }
    try {
      const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2_000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
      last = `status ${res.status}`;
    } catch (err) {
      last = (err as Error).message;
    }
    await sleep(50);
  }
  throw new Error(`The server was not ready within ${READY_TIMEOUT_MS} ms (${last})`);
}

/**
 * Runs the CLI expecting it to exit by itself (e.g. on bad configuration). `env` is applied on
 * top of process.env without test defaults; an empty string counts as unset for the server.
 */
export async function runCli(
  env: Record<string, string>,
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: string | null; stderr: string; stdout: string }> {
  const child = spawnCli(env);
  let stderr = '';
  let stdout = '';
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await exited(child);
  clearTimeout(timer);
  return { code, signal, stderr, stdout };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers.

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A response as the helpers return it; `body` is parsed JSON when the server sent JSON. */
export interface ApiResponse<T = unknown> {
  status: number;
  body: T & { error?: ProtocolError };
  headers: Headers;
  /** The raw response bytes (after content decoding). */
  raw: Buffer;
}

function parseBody(raw: Buffer, contentType: string | null): unknown {
  if (contentType && /json/i.test(contentType) && raw.length > 0) {
    try {
      return JSON.parse(raw.toString('utf8')) as unknown;
    } catch {
      return raw.toString('utf8');
    }
  }
  return raw.length > 0 ? raw.toString('utf8') : {};
}

/** fetch() with the response read completely. */
export async function request<T = unknown>(
  url: string,
  init: RequestInit = {},
): Promise<ApiResponse<T>> {
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'manual', ...init });
  } catch (err) {
    // A kept-alive connection the server closed just as the request went out: no byte of an
    // answer came back, so the request is sent once more on a new connection. A server that
    // is down fails the second attempt too.
    const code = (err as { cause?: { code?: string } }).cause?.code;
    if (code !== 'UND_ERR_SOCKET' && code !== 'ECONNRESET') throw err;
    res = await fetch(url, { redirect: 'manual', ...init });
  }
  const raw = Buffer.from(await res.arrayBuffer());
  return {
    status: res.status,
    headers: res.headers,
    raw,
    body: parseBody(raw, res.headers.get('content-type')) as ApiResponse<T>['body'],
  };
}

function toHeaders(incoming: http.IncomingHttpHeaders): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(incoming)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  return headers;
}

/** Header values; `null` removes a header the helper would otherwise send. */
export type HeaderOverrides = Record<string, string | null>;

/**
 * A request through node:http, so the headers go out exactly as given (no automatic
 * Content-Length when `Content-Length: null`: the body then goes out chunked).
 */
export function httpRequest<T = unknown>(
  url: string,
  method: string,
  headers: HeaderOverrides,
  body?: Uint8Array,
): Promise<ApiResponse<T>> {
  const sent: Record<string, string> = {};
  let noLength = false;
  for (const [name, value] of Object.entries(headers)) {
    if (value === null) {
      if (name.toLowerCase() === 'content-length') noLength = true;
      continue;
    }
    sent[name] = value;
  }
  return new Promise((resolve, reject) => {
    let answered = false;
    const req = http.request(url, { method, headers: sent, agent: false }, (res) => {
      answered = true;
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => parts.push(part));
      res.on('error', reject);
      res.on('end', () => {
        const raw = Buffer.concat(parts);
        const responseHeaders = toHeaders(res.headers);
        resolve({
          status: res.statusCode ?? 0,
          headers: responseHeaders,
          raw,
          body: parseBody(raw, responseHeaders.get('content-type')) as ApiResponse<T>['body'],
        });
      });
    });
    req.on('error', (err) => {
      if (!answered) reject(err);
    });
    if (body && noLength) {
      req.write(body);
      req.end();
    } else {
      req.end(body);
    }
  });
}

/** How many complete responses (headers + Content-Length body) `text` holds. */
function completeResponses(text: Buffer): number {
  let count = 0;
  let at = 0;
  for (;;) {
    const headEnd = text.indexOf('\r\n\r\n', at);
    if (headEnd < 0) return count;
    const head = text.subarray(at, headEnd).toString('latin1');
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    const end = headEnd + 4 + length;
    if (text.length < end) return count;
    count++;
    at = end;
  }
}

/**
 * Writes `data` on a raw TCP connection to the server, then either ends the connection
 * ('end'), destroys it ('destroy'), or leaves it open ('keep'). Resolves with everything the
 * server sent once it sent `responses` complete responses (default 1), closed the connection,
 * or `waitMs` passed; `ms` is how long that took.
 */
export function rawExchange(
  server: Pick<TestServer, 'port'>,
  data: Uint8Array | string,
  opts: { after?: 'end' | 'destroy' | 'keep'; waitMs?: number; responses?: number } = {},
): Promise<{ response: string; closedByServer: boolean; ms: number }> {
  const { after: afterWrite = 'keep', waitMs = 3_000, responses = 1 } = opts;
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const socket = net.connect(server.port, '127.0.0.1');
    liveSockets.add(socket);
    socket.once('close', () => liveSockets.delete(socket));
    const parts: Buffer[] = [];
    let closedByServer = false;
    let done = false;
    const finish = () => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({
        response: Buffer.concat(parts).toString('latin1'),
        closedByServer,
        ms: Date.now() - started,
      });
    };
    const timer = setTimeout(finish, waitMs);
    socket.on('data', (part: Buffer) => {
      parts.push(part);
      if (completeResponses(Buffer.concat(parts)) >= responses) finish();
    });
    socket.on('end', () => {
      closedByServer = true;
      finish();
    });
    socket.on('close', finish);
    socket.on('error', (err) => {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || code === 'EPIPE') finish();
      else if (!done) reject(err);
    });
    socket.on('connect', () => {
      socket.write(data, () => {
        if (afterWrite === 'end') socket.end();
        else if (afterWrite === 'destroy') setTimeout(finish, 50);
      });
    });
  });
}

/** A raw TCP connection to the server that the test writes to step by step. */
export interface RawConnection {
  write(data: Uint8Array | string): Promise<void>;
  /** Resolves once `count` complete responses arrived, the server closed, or `waitMs` passed. */
  response(count?: number, waitMs?: number): Promise<string>;
  destroy(): void;
}

export async function rawConnection(server: Pick<TestServer, 'port'>): Promise<RawConnection> {
  const socket = net.connect(server.port, '127.0.0.1');
  liveSockets.add(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const parts: Buffer[] = [];
  let closed = false;
  const waiters = new Set<() => void>();
  const wake = () => waiters.forEach((w) => w());
  socket.on('data', (part: Buffer) => {
    parts.push(part);
    wake();
  });
  socket.on('close', () => {
    closed = true;
    liveSockets.delete(socket);
    wake();
  });
  socket.on('error', () => undefined); // reported as a closed connection
  return {
    write: (data) =>
      new Promise((resolve, reject) =>
        socket.write(data, (err) => (err ? reject(err) : resolve())),
      ),
    response: (count = 1, waitMs = 5_000) =>
      new Promise((resolve) => {
        const check = () => {
          const text = Buffer.concat(parts);
          if (closed || completeResponses(text) >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(text.toString('latin1'));
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          resolve(Buffer.concat(parts).toString('latin1'));
        }, waitMs);
        waiters.add(check);
        check();
      }),
    destroy: () => socket.destroy(),
  };
}

/** The responses in a raw exchange, split at each status line. */
export function rawResponses(response: string): string[] {
  return response.split(/(?=HTTP\/1\.1 \d{3} )/).filter(Boolean);
}

/** Status code of a raw HTTP response text, or 0. */
export function rawStatus(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

/** JSON body of the first response in a raw HTTP response text, or undefined. */
export function rawJson(response: string): { error?: ProtocolError } | undefined {
  const at = response.indexOf('\r\n\r\n');
  if (at < 0) return undefined;
  const length = Number(/\r\ncontent-length: *(\d+)/i.exec(response.slice(0, at))?.[1] ?? 0);
  const body = Buffer.from(response.slice(at + 4), 'latin1').subarray(0, length);
  try {
    return JSON.parse(body.toString('utf8')) as { error?: ProtocolError };
  } catch {
    return undefined;
  }
}

export interface ChunkRequest {
  sessionId: string;
  fileId: string;
  start: number;
  end: number;
  size: number;
  body: Buffer;
  /** true: send a correct Content-Digest; a string: send it as is. */
  digest?: boolean | string;
  /** Extra headers, or `null` to leave one of the defaults out. */
  headers?: HeaderOverrides;
}

/** The request text of a chunk, for raw-socket tests. */
export function rawChunkHead(
  server: Pick<TestServer, 'port'>,
  token: string,
  c: Omit<ChunkRequest, 'body'> & { contentLength: number | null },
): string {
  const lines = [
    `POST ${API_PREFIX}/chunk HTTP/1.1`,
    `Host: 127.0.0.1:${server.port}`,
    `Authorization: Bearer ${token}`,
    `${HEADERS.session}: ${c.sessionId}`,
    `${HEADERS.file}: ${c.fileId}`,
    `Content-Range: bytes ${c.start}-${c.end}/${c.size}`,
    'Content-Type: application/octet-stream',
  ];
  if (c.contentLength !== null) lines.push(`Content-Length: ${c.contentLength}`);
  if (typeof c.digest === 'string') lines.push(`Content-Digest: ${c.digest}`);
  for (const [name, value] of Object.entries(c.headers ?? {})) {
    if (value !== null) lines.push(`${name}: ${value}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** Small typed clients for every protocol route. */
export function api(server: Pick<TestServer, 'url'>, token: string | undefined) {
  const auth = (): Record<string, string> =>
    token === undefined ? {} : { Authorization: `Bearer ${token}` };
  const at = (route: Parameters<typeof routePath>[0], params: Record<string, string> = {}) =>
    server.url + routePath(route, params);

  return {
    /** The server's base URL. */
    url: server.url,
    /** POST /initiate with a JSON body (or a raw string body with `contentType`). */
    initiate(
      body: InitiateRequest | unknown,
      opts: { raw?: string; contentType?: string; headers?: Record<string, string> } = {},
    ): Promise<ApiResponse<InitiateResponse>> {
      return request(at('initiate'), {
        method: 'POST',
        headers: {
          ...auth(),
          'Content-Type': opts.contentType ?? 'application/json',
          ...opts.headers,
        },
        body: opts.raw ?? JSON.stringify(body),
      });
    },
    session(id: string, headers: Record<string, string> = {}): Promise<ApiResponse<UploadSession>> {
      return request(at('session', { sessionId: id }), { headers: { ...auth(), ...headers } });
    },
    chunk(c: ChunkRequest): Promise<ApiResponse<ChunkResponse>> {
      const headers: HeaderOverrides = {
        ...auth(),
        [HEADERS.session]: c.sessionId,
        [HEADERS.file]: c.fileId,
        'Content-Range': `bytes ${c.start}-${c.end}/${c.size}`,
        'Content-Length': String(c.body.length),
        'Content-Type': 'application/octet-stream',
      };
      if (c.digest === true) headers[HEADERS.contentDigest] = digestOf(c.body);
      else if (typeof c.digest === 'string') headers[HEADERS.contentDigest] = c.digest;
      Object.assign(headers, c.headers);
      return httpRequest(at('chunk'), 'POST', headers, c.body);
    },
    status(
      id: string,
      headers: Record<string, string> = {},
    ): Promise<ApiResponse<FileStatusResponse>> {
      return request(at('status', { fileId: id }), { headers: { ...auth(), ...headers } });
    },
    remove(id: string, confirm: boolean | string = true): Promise<ApiResponse<unknown>> {
      const headers: Record<string, string> = auth();
      if (confirm !== false) headers[HEADERS.confirm] = confirm === true ? CONFIRM_DELETE : confirm;
      return request(at('remove', { fileId: id }), { method: 'DELETE', headers });
    },
    download(
      id: string,
      headers: Record<string, string> = {},
    ): Promise<ApiResponse<DownloadResponse>> {
      return request(at('download', { fileId: id }), { headers: { ...auth(), ...headers } });
    },
  };
}

export type Api = ReturnType<typeof api>;

/** Content-Digest of bytes. */
export function digestOf(bytes: Uint8Array): string {
  return formatContentDigest(createHash('sha256').update(bytes).digest());
}

/** SHA-256 of bytes, lowercase hex. */
export function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** The protocol's content hash: SHA-256 over the SHA-256s of 4 MiB blocks (hex). */
export function contentHash(bytes: Uint8Array): string {
  const outer = createHash('sha256');
  for (let at = 0; at < bytes.length; at += CONTENT_HASH_BLOCK_SIZE) {
    outer.update(
      createHash('sha256')
        .update(bytes.subarray(at, at + CONTENT_HASH_BLOCK_SIZE))
        .digest(),
    );
  }
  return outer.digest('hex');
}

/** Chunk `index` of `bytes` as a ChunkRequest. */
export function chunkOf(
  ids: { sessionId: string; fileId: string },
  bytes: Buffer,
  index: number,
  chunkSize = TEST_CHUNK_SIZE,
): ChunkRequest {
  const { start, end } = chunkRange(index, bytes.length, chunkSize);
  return { ...ids, start, end, size: bytes.length, body: bytes.subarray(start, end + 1) };
}

/** Fisher–Yates, so "out of order" differs between runs. */
export function shuffled<T>(items: readonly T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

/** What {@link uploadFile} did. */
export interface UploadResult {
  sessionId: string;
  fileId: string;
  initiated: InitiateResponse;
  /** Every chunk response, in the order the chunks were sent. */
  chunks: ApiResponse<ChunkResponse>[];
  /** GET /status after the last chunk. */
  status: FileStatusResponse & { error?: ProtocolError };
}

/**
 * Initiates one file and sends all its chunks at once, in a random order, with digests; then
 * reads GET /status. Throws when a request fails unexpectedly.
 */
export async function uploadFile(
  server: Pick<TestServer, 'url'>,
  token: string,
  name: string,
  bytes: Buffer,
  type: string,
  opts: { contentHash?: string; metadata?: Record<string, string> } = {},
): Promise<UploadResult> {
  const client = api(server, token);
  const init = await client.initiate({
    files: [
      {
        name,
        size: bytes.length,
        type,
        ...(opts.contentHash ? { contentHash: opts.contentHash } : {}),
      },
    ],
    ...(opts.metadata ? { metadata: opts.metadata } : {}),
  });
  if (init.status !== 201)
    throw new Error(`initiate answered ${init.status}: ${JSON.stringify(init.body)}`);
  const file = init.body.files[0];
  if (!file) throw new Error('initiate returned no file');
  const ids = { sessionId: init.body.sessionId, fileId: file.fileId };
  const indices = shuffled(Array.from({ length: file.totalChunks }, (_, i) => i));
  const chunks =
    file.status === 'pending'
      ? await Promise.all(
          indices.map((i) =>
            client.chunk({ ...chunkOf(ids, bytes, i, init.body.chunkSize), digest: true }),
          ),
        )
      : [];
  for (const res of chunks) {
    if (res.status !== 200)
      throw new Error(`chunk answered ${res.status}: ${JSON.stringify(res.body)}`);
  }
  const status = await client.status(file.fileId);
  if (status.status !== 200) throw new Error(`status answered ${status.status}`);
  return { ...ids, initiated: init.body, chunks, status: status.body };
}

// ---------------------------------------------------------------------------------------------
// Looking at the data directory.

/** Every regular file under `dir`, as paths relative to it ('/'-separated); [] when missing. */
export async function listFilesDeep(dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return (
    entries
      // Symbolic links too: the markers of chunks written in place are links.
      .filter((entry) => entry.isFile() || entry.isSymbolicLink())
      .map((entry) =>
        path.relative(
          dir,
          path.join(entry.parentPath ?? (entry as { path?: string }).path ?? dir, entry.name),
        ),
      )
      .map((rel) => rel.split(path.sep).join('/'))
      .sort()
  );
}

/** Where final objects live. */
export function objectsDir(dataDir: string): string {
  return path.join(dataDir, 'blobs', 'objects');
}

/** Chunk files of one file (their index names), [] when none. */
/**
 * The committed chunks of a file on disk, as 8-digit index names: chunk files of their own, and
 * markers of chunks written in place into the file's `data` (`00000001.at` -> `00000001`).
 */
export async function storedChunks(
  dataDir: string,
  sessionId: string,
  fileId: string,
): Promise<string[]> {
  const names = await listFilesDeep(path.join(dataDir, 'blobs', 'chunks', sessionId, fileId));
  return names
    .filter((name) => name !== 'data')
    .map((name) => name.replace(/\.at$/, ''))
    .sort();
}

/**
 * The final object of a file: `objects/<user>/<session>/<timestamp>-<fileId>/<name>`.
 * Returns its path relative to the objects dir and its bytes, or undefined when none exists.
 */
export async function storedObject(
  dataDir: string,
  user: string,
  sessionId: string,
  fileId: string,
): Promise<{ key: string; path: string; bytes: Buffer } | undefined> {
  const sessionDir = path.join(objectsDir(dataDir), user, sessionId);
  if (!existsSync(sessionDir)) return undefined;
  const dirs = (await readdir(sessionDir)).filter((d) => d.endsWith(`-${fileId}`));
  if (dirs.length === 0) return undefined;
  if (dirs.length > 1)
    throw new Error(`More than one object dir for ${fileId}: ${dirs.join(', ')}`);
  const dir = path.join(sessionDir, dirs[0] as string);
  const names = await readdir(dir);
  if (names.length !== 1) throw new Error(`Expected one object in ${dir}, found ${names.length}`);
  const full = path.join(dir, names[0] as string);
  if (!(await stat(full)).isFile()) throw new Error(`${full} is not a file`);
  return {
    key: path.relative(objectsDir(dataDir), full).split(path.sep).join('/'),
    path: full,
    bytes: await readFile(full),
  };
}

/** Polls `check` until it returns a truthy value or `timeoutMs` passes; returns the last value. */
export async function eventually<T>(
  check: () => Promise<T>,
  timeoutMs = 5_000,
  intervalMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value || Date.now() >= deadline) return value;
    await sleep(intervalMs);
  }
}

// ---------------------------------------------------------------------------------------------
// Assertions shared by the test files.

/**
 * Asks for a signed URL, downloads it without credentials, and checks the bytes (SHA-256) and
 * the headers that keep a browser from rendering the file. Returns the download response.
 */
export async function expectDownload(
  client: Api,
  fileId: string,
  bytes: Uint8Array,
): Promise<ApiResponse<unknown>> {
  const link = await client.download(fileId);
  assert.equal(link.status, 200, `GET download: ${JSON.stringify(link.body)}`);
  assert.ok(
    link.body.url.startsWith(`${client.url}${API_PREFIX}/files/${encodeURIComponent(fileId)}?`),
    `the link points at the server the client called: ${link.body.url}`,
  );
  assert.ok(Date.parse(link.body.expiresAt) > Date.now(), 'expiresAt lies in the future');
  const file = await request(link.body.url);
  assert.equal(file.status, 200, `GET signed URL: ${file.raw.toString('utf8').slice(0, 200)}`);
  assert.equal(sha256(file.raw), sha256(bytes), 'downloaded bytes equal the source');
  assert.match(file.headers.get('content-disposition') ?? '', /^attachment;/);
  assert.equal(file.headers.get('x-content-type-options'), 'nosniff');
  return file;
}

/** The final object of a file exists on disk and its SHA-256 is the source's. Returns it. */
export async function expectStoredObject(
  server: Pick<TestServer, 'dataDir'>,
  user: string,
  ids: { sessionId: string; fileId: string },
  bytes: Uint8Array,
): Promise<{ key: string; path: string; bytes: Buffer }> {
  const stored = await storedObject(server.dataDir, user, ids.sessionId, ids.fileId);
  assert.ok(stored, `a final object exists for ${ids.fileId}`);
  assert.equal(sha256(stored.bytes), sha256(bytes), 'stored object SHA-256 equals the source');
  return stored;
}

/** An error response with the protocol's body: status and code. */
export function expectError(res: ApiResponse<unknown>, status: number, code: string): void {
  assert.equal(
    res.status,
    status,
    `expected ${status} ${code}, got ${res.status} ${JSON.stringify(res.body)}`,
  );
  assert.equal(res.body.error?.code, code);
  assert.equal(typeof res.body.error?.message, 'string');
}

/** The same base64url value with one bit of its first byte flipped (a surely different value). */
export function tamperBase64url(value: string): string {
  const bytes = Buffer.from(value, 'base64url');
  bytes[0] = (bytes[0] ?? 0) ^ 0x01;
  return bytes.toString('base64url');
}
