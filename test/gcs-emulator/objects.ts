/** Object routes: get (metadata or media), list, patch/update, delete. */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { customerKeyFrom, readContent, type CustomerKey } from './content.js';
import { badRequest, GcsError } from './errors.js';
import { metadataField, readJson, sendEmpty, sendJson, stringField, type Context } from './http.js';
import { checkPreconditions, preconditionsFrom, type ObjectVersion } from './model.js';
import { objectResource } from './resources.js';

export function generationParam(query: URLSearchParams): number | undefined {
  const value = query.get('generation');
  if (value === null) return undefined;
  if (!/^\d{1,20}$/.test(value)) throw badRequest(`Invalid generation: ${value}`);
  return Number(value);
}

/** Finds the object a request names and checks its preconditions. */
export function lookup(ctx: Context, bucket: string, name: string): ObjectVersion {
  const version = ctx.state.getObject(bucket, name, generationParam(ctx.query));
  checkPreconditions(version, preconditionsFrom(ctx.query));
  return version;
}

/** Parses `Range: bytes=a-b | a- | -n` against `size`: undefined for the whole object. */
function parseRange(header: string | undefined, size: number): [number, number] | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return undefined; // ignored, as in HTTP
  let start: number;
  let end: number;
  if (match[1] === '') {
    start = Math.max(0, size - Number(match[2]));
    end = size - 1;
  } else {
    start = Number(match[1]);
    end = match[2] === '' ? size - 1 : Math.min(Number(match[2]), size - 1);
  }
  if (start >= size || end < start) {
    throw new GcsError(416, 'requestedRangeNotSatisfiable', 'Request range not satisfiable', {
      'content-range': `bytes */${size}`,
    });
  }
  return [start, end];
}

/** Streams an object's bytes (or the requested range) with the headers the client validates. */
export async function serveMedia(
  ctx: Context,
  version: ObjectVersion,
  key: CustomerKey | undefined,
  overrides: Record<string, string> = {},
): Promise<void> {
  const { content } = version;
  const range = parseRange(ctx.req.headers.range, content.size);
  const [start, end] = range ?? [0, content.size - 1];
  const pieces = readContent(content, key, start, end); // checks the key before any header
  const hashes = [`crc32c=${content.crc32c}`];
  if (version.componentCount === undefined) hashes.push(`md5=${content.md5Hash}`);
  const headers: Record<string, string> = {
    'content-type': version.contentType,
    'content-length': String(end - start + 1),
    'accept-ranges': 'bytes',
    'x-goog-hash': hashes.join(','),
    'x-goog-generation': String(version.generation),
    'x-goog-metageneration': String(version.metageneration),
    'x-goog-stored-content-encoding': version.contentEncoding ?? 'identity',
    'x-goog-stored-content-length': String(content.size),
    'x-goog-storage-class': 'STANDARD',
    etag: `"${content.md5Hash}"`,
    'last-modified': version.updated.toUTCString(),
    ...(version.contentDisposition ? { 'content-disposition': version.contentDisposition } : {}),
    ...(range ? { 'content-range': `bytes ${start}-${end}/${content.size}` } : {}),
    ...overrides,
  };
  ctx.res.writeHead(range ? 206 : 200, headers);
  if (ctx.req.method === 'HEAD' || content.size === 0) {
    ctx.res.end();
    return;
  }
  await pipeline(Readable.from(pieces, { objectMode: false }), ctx.res);
}

export async function getObject(ctx: Context, bucket: string, name: string): Promise<void> {
  const version = lookup(ctx, bucket, name);
  const key = customerKeyFrom(ctx.req.headers);
  if (ctx.query.get('alt') === 'media') return serveMedia(ctx, version, key);
  sendJson(ctx, 200, objectResource(version, ctx.origin, key));
}

/** Page tokens carry the last name (and generation) returned. */
function decodeToken(token: string | null): { name: string; generation: number } | undefined {
  if (!token) return undefined;
  try {
    const value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as {
      name: string;
      generation: number;
    };
    if (typeof value.name !== 'string') throw new Error();
    return value;
  } catch {
    throw badRequest('Invalid pageToken.');
  }
}

export function listObjects(ctx: Context, bucketName: string): void {
  const bucket = ctx.state.bucket(bucketName);
  const q = ctx.query;
  const prefix = q.get('prefix') ?? '';
  const delimiter = q.get('delimiter') ?? '';
  const startOffset = q.get('startOffset') ?? '';
  const endOffset = q.get('endOffset');
  const maxResults = Math.min(Number(q.get('maxResults') ?? 1000) || 1000, 1000);
  const after = decodeToken(q.get('pageToken'));
  // Filtered before sorting: a listing costs what its prefix holds, not the whole bucket.
  const entries = [...bucket.live.values()].filter((v) => v.name.startsWith(prefix));
  if (q.get('versions') === 'true') {
    for (const [name, versions] of bucket.noncurrent) {
      if (name.startsWith(prefix)) entries.push(...versions);
    }
  }
  entries.sort((a, b) =>
    a.name === b.name ? a.generation - b.generation : a.name < b.name ? -1 : 1,
  );
  const items: ObjectVersion[] = [];
  const prefixes: string[] = [];
  let last: { name: string; generation: number } | undefined;
  let more = false;
  for (const version of entries) {
    const { name, generation } = version;
    if (!name.startsWith(prefix) || name < startOffset) continue;
    if (endOffset !== null && name >= endOffset) continue;
    if (after && (name < after.name || (name === after.name && generation <= after.generation))) {
      continue;
    }
    let collapsed: string | undefined;
    if (delimiter) {
      const at = name.indexOf(delimiter, prefix.length);
      if (at >= 0) collapsed = name.slice(0, at + delimiter.length);
    }
    if (collapsed !== undefined && prefixes.at(-1) === collapsed) continue;
    if (items.length + prefixes.length >= maxResults) {
      more = true;
      break;
    }
    if (collapsed !== undefined) {
      prefixes.push(collapsed);
      // Skip the rest of this prefix on the next page: past every name that starts with it.
      last = { name: `${collapsed}\uffff`, generation: Number.MAX_SAFE_INTEGER };
    } else {
      items.push(version);
      last = { name, generation };
    }
  }
  const key = customerKeyFrom(ctx.req.headers);
  sendJson(ctx, 200, {
    kind: 'storage#objects',
    ...(prefixes.length > 0 ? { prefixes } : {}),
    items: items.map((version) => objectResource(version, ctx.origin, key)),
    ...(more && last
      ? { nextPageToken: Buffer.from(JSON.stringify(last)).toString('base64url') }
      : {}),
  });
}

/** PATCH merges the given fields; PUT (update) replaces the writable metadata. */
export async function patchObject(ctx: Context, bucket: string, name: string): Promise<void> {
  const current = ctx.state.getObject(bucket, name, generationParam(ctx.query));
  const body = await readJson(ctx.req);
  const replace = ctx.req.method === 'PUT';
  const pick = (
    field: 'contentType' | 'contentDisposition' | 'cacheControl' | 'contentEncoding',
  ) => (field in body || replace ? stringField(body, field) : current[field]);
  const updated: ObjectVersion = {
    ...current,
    contentType: pick('contentType') ?? 'application/octet-stream',
    contentDisposition: pick('contentDisposition'),
    cacheControl: pick('cacheControl'),
    contentEncoding: pick('contentEncoding'),
    metadata: metadataField(body, replace ? undefined : current.metadata),
    metageneration: current.metageneration + 1,
    updated: ctx.state.now(),
  };
  ctx.state.replaceMetadata(updated, preconditionsFrom(ctx.query));
  sendJson(ctx, 200, objectResource(updated, ctx.origin, customerKeyFrom(ctx.req.headers)));
}

export function deleteObject(ctx: Context, bucket: string, name: string): void {
  const generation = generationParam(ctx.query);
  ctx.state.deleteObject(bucket, name, generation, preconditionsFrom(ctx.query));
  sendEmpty(ctx, 204);
}
