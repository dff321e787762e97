/**
 * A minimal protocol v1 server inside the test page, on msw's service worker: initiate,
 * session, chunk, status and delete, in memory. It checks what a real server checks on a
 * chunk (session, file, Content-Range, length, Content-Digest with Web Crypto), assembles the
 * bytes and checks the content hash, so tests can compare what arrived with what was sent.
 * `fault` lets a test answer any request itself: errors, dropped connections, stalls.
 */
import {
  CONTENT_HASH_BLOCK_SIZE,
  HEADERS,
  chunkRange,
  concatBlockDigests,
  parseContentDigest,
  parseContentRange,
  toHex,
  totalChunks,
  type ChunkResponse,
  type ErrorCode,
  type FileStatus,
  type FileStatusResponse,
  type InitiateRequest,
  type InitiateResponse,
  type UploadSession,
} from '@file-uploader/protocol';
import { http, HttpResponse, type HttpHandler } from 'msw';
import { setupWorker } from 'msw/browser';

export type Route = 'initiate' | 'session' | 'events' | 'chunk' | 'status' | 'remove';

/** One request as the server saw it. */
export interface Hit {
  route: Route;
  /** Requests so far on this route (and chunk index), this one included: 1 for the first. */
  attempt: number;
  at: number;
  fileId?: string;
  chunkIndex?: number;
}

/** Answers a request in place of the server, or returns undefined to let the server answer. */
export type Fault = (
  hit: Hit,
  request: Request,
) => Response | undefined | Promise<Response | undefined>;

interface FakeFile {
  fileId: string;
  sessionId: string;
  name: string;
  size: number;
  type: string;
  contentHash?: string;
  status: FileStatus;
  chunks: Map<number, Uint8Array>;
  assembled?: Uint8Array;
  error?: { code: ErrorCode; message: string };
}

interface FakeSession {
  sessionId: string;
  createdAt: string;
  expiresAt: string;
  metadata: Record<string, string>;
  fileIds: string[];
}

/** The service worker, shared by every test of a page. */
export const worker = setupWorker();

export async function startWorker(): Promise<void> {
  await worker.start({
    serviceWorker: { url: '/mockServiceWorker.js' },
    onUnhandledRequest: 'bypass',
    quiet: true,
  });
}

function fail(code: ErrorCode, status: number, message: string = code): Response {
  return HttpResponse.json({ error: { code, message } }, { status });
}

async function protocolContentHash(bytes: Uint8Array): Promise<string> {
  const digests: Uint8Array[] = [];
  for (let start = 0; start < bytes.length; start += CONTENT_HASH_BLOCK_SIZE) {
    const block = bytes.subarray(start, Math.min(start + CONTENT_HASH_BLOCK_SIZE, bytes.length));
    const digest = await crypto.subtle.digest('SHA-256', block as Uint8Array<ArrayBuffer>);
    digests.push(new Uint8Array(digest));
  }
  const all = concatBlockDigests(digests) as Uint8Array<ArrayBuffer>;
  return toHex(new Uint8Array(await crypto.subtle.digest('SHA-256', all)));
}

let servers = 0;

export class FakeServer {
  /** Endpoint of this server: unique per instance, so resume records never mix. */
  readonly base = `/fake-${Date.now().toString(36)}-${++servers}/api/v1/upload`;
  readonly hits: Hit[] = [];
  readonly files = new Map<string, FakeFile>();
  readonly sessions = new Map<string, FakeSession>();
  /** Chunks whose Content-Digest was checked and matched. */
  digestsVerified = 0;
  /** When true every request fails as a dropped connection, as on a device without network. */
  offline = false;
  fault?: Fault;
  /** Answers `GET /session/:id/events`; without it the route answers 404, as older servers do. */
  events?: (sessionId: string, request: Request) => Response | Promise<Response>;
  #counts = new Map<string, number>();

  constructor(readonly chunkSize = 256 * 1024) {}

  handlers(): HttpHandler[] {
    const base = this.base;
    return [
      http.post(`${base}/initiate`, ({ request }) =>
        this.#handle({ route: 'initiate' }, request, () => this.#initiate(request)),
      ),
      http.get(`${base}/session/:sessionId`, ({ request, params }) =>
        this.#handle({ route: 'session' }, request, () => this.#session(String(params.sessionId))),
      ),
      http.get(`${base}/session/:sessionId/events`, ({ request, params }) =>
        this.#handle(
          { route: 'events' },
          request,
          () => this.events?.(String(params.sessionId), request) ?? fail('not_found', 404),
        ),
      ),
      http.post(`${base}/chunk`, ({ request }) => {
        const fileId = request.headers.get(HEADERS.file) ?? undefined;
        const range = parseContentRange(request.headers.get(HEADERS.contentRange) ?? '');
        const chunkIndex = range ? Math.floor(range.start / this.chunkSize) : undefined;
        return this.#handle({ route: 'chunk', fileId, chunkIndex }, request, () =>
          this.#chunk(request),
        );
      }),
      http.get(`${base}/status/:fileId`, ({ request, params }) =>
        this.#handle({ route: 'status', fileId: String(params.fileId) }, request, () =>
          this.#status(String(params.fileId)),
        ),
      ),
      http.delete(`${base}/:fileId`, ({ request, params }) =>
        this.#handle({ route: 'remove', fileId: String(params.fileId) }, request, () =>
          this.#remove(String(params.fileId), request),
        ),
      ),
    ];
  }

  /** Requests on a route (and chunk index). */
  count(route: Route, chunkIndex?: number): number {
    return this.hits.filter(
      (h) => h.route === route && (chunkIndex === undefined || h.chunkIndex === chunkIndex),
    ).length;
  }

  /** Chunk indices the server stored for a file, ascending. */
  received(fileId: string): number[] {
    return [...(this.files.get(fileId)?.chunks.keys() ?? [])].sort((a, b) => a - b);
  }

  /** SHA-256 (hex) of a file's assembled bytes. */
  async sha256(fileId: string): Promise<string> {
    const file = this.files.get(fileId);
    if (!file?.assembled) throw new Error(`file ${fileId} is not assembled`);
    const digest = await crypto.subtle.digest('SHA-256', file.assembled as Uint8Array<ArrayBuffer>);
    return toHex(new Uint8Array(digest));
  }

  async #handle(
    seen: Omit<Hit, 'attempt' | 'at'>,
    request: Request,
    serve: () => Response | Promise<Response>,
  ): Promise<Response> {
    const counter = `${seen.route}:${seen.fileId ?? ''}:${seen.chunkIndex ?? ''}`;
    const attempt = (this.#counts.get(counter) ?? 0) + 1;
    this.#counts.set(counter, attempt);
    const hit: Hit = { ...seen, attempt, at: performance.now() };
    this.hits.push(hit);
    if (this.offline) return HttpResponse.error();
    const faulted = await this.fault?.(hit, request);
    if (faulted) return faulted;
    if (this.offline) return HttpResponse.error();
    if (request.headers.get(HEADERS.authorization) !== 'Bearer test-token') {
      return fail('unauthenticated', 401);
    }
    return serve();
  }

  async #initiate(request: Request): Promise<Response> {
    const body = (await request.json()) as InitiateRequest;
    const sessionId = crypto.randomUUID();
    const createdAt = new Date();
    const expiresAt = new Date(createdAt.getTime() + 60 * 60_000).toISOString();
    const session: FakeSession = {
      sessionId,
      createdAt: createdAt.toISOString(),
      expiresAt,
      metadata: body.metadata ?? {},
      fileIds: [],
    };
    this.sessions.set(sessionId, session);
    const response: InitiateResponse = {
      sessionId,
      expiresAt,
      chunkSize: this.chunkSize,
      files: body.files.map((f) => {
        const file: FakeFile = {
          fileId: crypto.randomUUID(),
          sessionId,
          name: f.name,
          size: f.size,
          type: f.type,
          ...(f.contentHash ? { contentHash: f.contentHash } : {}),
          status: 'pending',
          chunks: new Map(),
        };
        this.files.set(file.fileId, file);
        session.fileIds.push(file.fileId);
        return {
          fileId: file.fileId,
          name: f.name,
          size: f.size,
          totalChunks: totalChunks(f.size, this.chunkSize),
          status: file.status,
        };
      }),
    };
    return HttpResponse.json(response, { status: 201 });
  }

  #session(sessionId: string): Response {
    const session = this.sessions.get(sessionId);
    if (!session) return fail('not_found', 404);
    const body: UploadSession = {
      sessionId,
      createdAt: session.createdAt,
      expiresAt: session.expiresAt,
      chunkSize: this.chunkSize,
      metadata: session.metadata,
      files: session.fileIds.map((id) => {
        const file = this.files.get(id) as FakeFile;
        return {
          fileId: id,
          name: file.name,
          size: file.size,
          type: file.type,
          status: file.status,
          receivedChunks: this.received(id),
          receivedBytes: this.#receivedBytes(file),
          totalChunks: totalChunks(file.size, this.chunkSize),
          ...(file.error ? { error: file.error } : {}),
        };
      }),
    };
    return HttpResponse.json(body);
  }

  #receivedBytes(file: FakeFile): number {
    let bytes = 0;
    for (const chunk of file.chunks.values()) bytes += chunk.length;
    return bytes;
  }

  async #chunk(request: Request): Promise<Response> {
    const file = this.files.get(request.headers.get(HEADERS.file) ?? '');
    if (!file || file.sessionId !== request.headers.get(HEADERS.session)) {
      return fail('not_found', 404);
    }
    const range = parseContentRange(request.headers.get(HEADERS.contentRange) ?? '');
    if (!range || range.size !== file.size || range.start % this.chunkSize !== 0) {
      return fail('range_not_satisfiable', 416);
    }
    const index = range.start / this.chunkSize;
    if (chunkRange(index, file.size, this.chunkSize).end !== range.end) {
      return fail('range_not_satisfiable', 416);
    }
    const bytes = new Uint8Array(await request.arrayBuffer());
    if (bytes.length !== range.end - range.start + 1) return fail('body_length_mismatch', 400);
    const header = request.headers.get(HEADERS.contentDigest);
    if (header) {
      const claimed = parseContentDigest(header);
      const actual = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
      if (!claimed || toHex(claimed) !== toHex(actual)) return fail('digest_mismatch', 400);
      this.digestsVerified++;
    }
    if (file.status === 'pending' || file.status === 'uploading') {
      file.chunks.set(index, bytes);
      file.status = 'uploading';
      if (file.chunks.size === totalChunks(file.size, this.chunkSize)) await this.#assemble(file);
    }
    const body: ChunkResponse = {
      fileId: file.fileId,
      chunkIndex: index,
      receivedBytes: this.#receivedBytes(file),
      status: file.status,
    };
    return HttpResponse.json(body);
  }

  async #assemble(file: FakeFile): Promise<void> {
    const whole = new Uint8Array(file.size);
    for (const [index, chunk] of file.chunks) whole.set(chunk, index * this.chunkSize);
    file.assembled = whole;
    if (file.contentHash && (await protocolContentHash(whole)) !== file.contentHash) {
      file.status = 'failed';
      file.error = { code: 'internal', message: 'The content hash does not match.' };
    } else {
      file.status = 'assembling'; // `status` reports it ready: assembly takes one poll.
    }
  }

  #status(fileId: string): Response {
    const file = this.files.get(fileId);
    if (!file) return fail('not_found', 404);
    if (file.status === 'assembling') file.status = 'ready';
    const body: FileStatusResponse = {
      fileId,
      sessionId: file.sessionId,
      name: file.name,
      size: file.size,
      status: file.status,
      receivedBytes: this.#receivedBytes(file),
      ...(file.contentHash ? { contentHash: file.contentHash } : {}),
      ...(file.error ? { error: file.error } : {}),
    };
    return HttpResponse.json(body);
  }

  #remove(fileId: string, request: Request): Response {
    if (request.headers.get(HEADERS.confirm) !== 'delete')
      return fail('precondition_required', 428);
    if (!this.files.delete(fileId)) return fail('not_found', 404);
    return new HttpResponse(null, { status: 204 });
  }
}
