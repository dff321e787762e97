/** Request plumbing shared by the route modules. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { badRequest, GcsError } from './errors.js';
import type { GcsState } from './model.js';

/** What every handler gets. */
export interface Context {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  query: URLSearchParams;
  /** `http://host:port` as the client addressed us; used in links and session URIs. */
  origin: string;
  state: GcsState;
  /** Public keys of the service accounts whose signed URLs are honoured, by client_email. */
  signers: ReadonlyMap<string, KeyObject>;
}

const JSON_LIMIT = 1024 * 1024;

export function sendJson(
  ctx: Context,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  ctx.res.writeHead(status, {
    'content-type': 'application/json; charset=UTF-8',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  ctx.res.end(text);
}

export function sendEmpty(
  ctx: Context,
  status: number,
  headers: Record<string, string> = {},
): void {
  ctx.res.writeHead(status, { 'content-length': '0', ...headers });
  ctx.res.end();
}

/** Reads a JSON body of at most 1 MiB; an empty body is `{}`. */
export async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  const pieces: Buffer[] = [];
  let size = 0;
  for await (const piece of req) {
    size += (piece as Buffer).length;
    if (size > JSON_LIMIT) throw new GcsError(413, 'uploadTooLarge', 'JSON body too large.');
    pieces.push(piece as Buffer);
  }
  if (size === 0) return {};
  try {
    const value: unknown = JSON.parse(Buffer.concat(pieces).toString('utf8'));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error();
    return value as Record<string, unknown>;
  } catch {
    throw badRequest('Parse Error', 'parseError');
  }
}

/** Drains what is left of a request body so the connection stays usable. */
export function drain(req: IncomingMessage): void {
  if (!req.readableEnded) req.resume();
}

export function sendError(ctx: Context, error: unknown): void {
  // The client went away mid-request (e.g. its source stream failed): nobody to answer.
  if (ctx.req.socket.destroyed || (error as NodeJS.ErrnoException)?.code === 'ECONNRESET') {
    ctx.res.destroy();
    return;
  }
  const gcs =
    error instanceof GcsError
      ? error
      : new GcsError(500, 'backendError', `Internal error: ${(error as Error)?.message ?? error}`);
  if (gcs.status === 500) console.error('gcs-emulator:', error);
  if (ctx.res.headersSent) {
    ctx.res.destroy();
    return;
  }
  drain(ctx.req);
  sendJson(ctx, gcs.status, gcs.body(), gcs.headers);
}

/** The optional string fields of a JSON body, checked. */
export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const value = body[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw badRequest(`Invalid value for ${name}.`);
  return value;
}

/** Custom metadata: string values only; `null` values mean "remove" in a patch. */
export function metadataField(
  body: Record<string, unknown>,
  previous?: Record<string, string>,
): Record<string, string> | undefined {
  const value = body.metadata;
  if (value === undefined) return previous;
  if (value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw badRequest('Invalid metadata.');
  const result: Record<string, string> = { ...previous };
  for (const [key, entry] of Object.entries(value as Record<string, unknown>)) {
    if (entry === null) delete result[key];
    else result[key] = typeof entry === 'string' ? entry : JSON.stringify(entry);
  }
  return Object.keys(result).length > 0 ? result : undefined;
}
