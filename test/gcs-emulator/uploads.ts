/**
 * Uploads under /upload/storage/v1/b/:bucket/o: simple (`uploadType=media`), multipart and
 * resumable. Bytes are hashed (and encrypted with a customer key) as they arrive; an object
 * appears only when its upload completes, so a dropped request leaves nothing behind.
 */
import { randomBytes } from 'node:crypto';
import { ContentWriter, customerKeyFrom, type CustomerKey, type StoredContent } from './content.js';
import { badRequest, GcsError } from './errors.js';
import { metadataField, readJson, sendEmpty, sendJson, stringField, type Context } from './http.js';
import { boundaryOf, MultipartReader } from './multipart.js';
import {
  checkPreconditions,
  preconditionsFrom,
  type ObjectVersion,
  type Preconditions,
} from './model.js';
import { objectResource } from './resources.js';

/** Where an upload goes and what the object will carry. */
interface UploadTarget {
  bucket: string;
  name: string;
  fields: Record<string, unknown>;
  mediaType?: string;
  kmsKeyName?: string;
  key?: CustomerKey;
  pre: Preconditions;
}

/** An open resumable upload session. */
export interface ResumableSession {
  target: UploadTarget;
  writer: ContentWriter;
  final?: ObjectVersion;
  cancelled?: boolean;
}

/** Non-final resumable chunks must be multiples of this, as in GCS. */
const CHUNK_GRANULARITY = 256 * 1024;
const METADATA_LIMIT = 1024 * 1024;

function targetFrom(ctx: Context, bucket: string, fields: Record<string, unknown>): UploadTarget {
  ctx.state.bucket(bucket); // 404 before any byte is read
  const name = ctx.query.get('name') ?? stringField(fields, 'name');
  if (!name) throw badRequest('Required parameter: name', 'required');
  const kmsKeyName = ctx.query.get('kmsKeyName') ?? stringField(fields, 'kmsKeyName');
  const key = customerKeyFrom(ctx.req.headers);
  if (kmsKeyName && key) {
    throw badRequest('A customer-supplied key and a Cloud KMS key cannot both be given.');
  }
  return { bucket, name, fields, kmsKeyName, key, pre: preconditionsFrom(ctx.query) };
}

/** Compares `X-Goog-Hash` (sent by the client with the last bytes) with what arrived. */
function checkSentHashes(ctx: Context, content: StoredContent): void {
  const header = ctx.req.headers['x-goog-hash'];
  if (typeof header !== 'string') return;
  for (const pair of header.split(',')) {
    const at = pair.indexOf('=');
    const [kind, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
    const actual = kind === 'crc32c' ? content.crc32c : kind === 'md5' ? content.md5Hash : value;
    if (actual !== value) {
      throw badRequest(`Provided ${kind} "${value}" doesn't match calculated ${kind} "${actual}".`);
    }
  }
}

function finalize(ctx: Context, target: UploadTarget, content: StoredContent): ObjectVersion {
  checkSentHashes(ctx, content);
  const { fields } = target;
  const now = ctx.state.now();
  const version: ObjectVersion = {
    bucket: target.bucket,
    name: target.name,
    generation: ctx.state.nextGeneration(),
    metageneration: 1,
    content,
    contentType:
      stringField(fields, 'contentType') ?? target.mediaType ?? 'application/octet-stream',
    contentEncoding: stringField(fields, 'contentEncoding'),
    contentDisposition: stringField(fields, 'contentDisposition'),
    cacheControl: stringField(fields, 'cacheControl'),
    metadata: metadataField(fields),
    kmsKeyName: target.kmsKeyName,
    timeCreated: now,
    updated: now,
  };
  return ctx.state.putObject(version, target.pre);
}

export async function mediaUpload(ctx: Context, bucket: string): Promise<void> {
  const target = targetFrom(ctx, bucket, {});
  target.mediaType = ctx.req.headers['content-type'];
  const writer = new ContentWriter(target.key);
  for await (const piece of ctx.req) writer.write(piece as Buffer);
  const version = finalize(ctx, target, writer.finish());
  sendJson(ctx, 200, objectResource(version, ctx.origin, target.key));
}

export async function multipartUpload(ctx: Context, bucket: string): Promise<void> {
  ctx.state.bucket(bucket);
  const key = customerKeyFrom(ctx.req.headers);
  const writer = new ContentWriter(key);
  const metadata: Buffer[] = [];
  let metadataSize = 0;
  let mediaType: string | undefined;
  const reader = new MultipartReader(boundaryOf(ctx.req.headers['content-type']), {
    part(index, headers) {
      if (index > 1) throw badRequest('A multipart upload has exactly two parts.');
      if (index === 1) mediaType = headers['content-type'];
    },
    data(index, bytes) {
      if (index === 1) return writer.write(bytes);
      metadataSize += bytes.length;
      if (metadataSize > METADATA_LIMIT) throw badRequest('Metadata part too large.');
      metadata.push(Buffer.from(bytes));
    },
  });
  for await (const piece of ctx.req) reader.feed(piece as Buffer);
  if (!reader.complete) throw badRequest('The multipart body ended before its closing boundary.');
  let fields: Record<string, unknown>;
  try {
    fields = JSON.parse(Buffer.concat(metadata).toString('utf8') || '{}') as Record<
      string,
      unknown
    >;
  } catch {
    throw badRequest('The metadata part is not JSON.', 'parseError');
  }
  const target = targetFrom(ctx, bucket, fields);
  target.mediaType = mediaType;
  const version = finalize(ctx, target, writer.finish());
  sendJson(ctx, 200, objectResource(version, ctx.origin, key));
}

export async function startResumable(ctx: Context, bucket: string): Promise<void> {
  const fields = await readJson(ctx.req);
  const target = targetFrom(ctx, bucket, fields);
  const uploadType = ctx.req.headers['x-upload-content-type'];
  if (typeof uploadType === 'string') target.mediaType = uploadType;
  // Checked now to fail early, and again when the upload completes.
  checkPreconditions(ctx.state.bucket(bucket).live.get(target.name), target.pre);
  const id = randomBytes(16).toString('base64url');
  ctx.state.uploads.set(id, { target, writer: new ContentWriter(target.key) });
  const query = new URLSearchParams({ uploadType: 'resumable', name: target.name, upload_id: id });
  sendEmpty(ctx, 200, {
    location: `${ctx.origin}/upload/storage/v1/b/${bucket}/o?${query}`,
    'x-guploader-uploadid': id,
  });
}

/** `bytes a-b/T`, `bytes a-*\/T` or `bytes *\/T`, with T a number or `*`. */
function parseContentRange(header: string | undefined) {
  const match = /^bytes (?:(\d+)-(-?\d+|\*)|\*)\/(\d+|\*)$/.exec(header?.trim() ?? '');
  if (!match) throw badRequest(`Invalid Content-Range: ${header ?? '(none)'}`);
  return {
    start: match[1] === undefined ? undefined : Number(match[1]),
    end: match[2] === undefined || match[2] === '*' ? undefined : Number(match[2]),
    total: match[3] === '*' ? undefined : Number(match[3]),
  };
}

function incomplete(ctx: Context, session: ResumableSession): void {
  const received = session.writer.size;
  sendEmpty(ctx, 308, received > 0 ? { range: `bytes=0-${received - 1}` } : {});
}

function complete(ctx: Context, session: ResumableSession, id: string): void {
  try {
    session.final = finalize(ctx, session.target, session.writer.finish());
  } catch (error) {
    ctx.state.uploads.delete(id); // a refused upload cannot be completed later
    throw error;
  }
  sendJson(ctx, 200, objectResource(session.final, ctx.origin, session.target.key));
}

export async function continueResumable(ctx: Context, id: string): Promise<void> {
  const session = ctx.state.uploads.get(id);
  if (!session) throw new GcsError(404, 'notFound', 'No such upload session.');
  if (ctx.req.method === 'DELETE') {
    session.cancelled = true;
    return sendEmpty(ctx, 499);
  }
  if (session.cancelled) throw new GcsError(499, 'clientClosedRequest', 'Upload was cancelled.');
  const key = customerKeyFrom(ctx.req.headers);
  if (session.target.key && key?.sha256 !== session.target.key.sha256) {
    throw badRequest('This upload needs the customer-supplied key it was started with.');
  }
  if (session.final) {
    return sendJson(ctx, 200, objectResource(session.final, ctx.origin, session.target.key));
  }
  const { start, end, total } = parseContentRange(ctx.req.headers['content-range']);
  if (start === undefined) {
    if (total !== undefined && total === session.writer.size) return complete(ctx, session, id);
    return incomplete(ctx, session);
  }
  // The request's bytes are kept apart until it ends, so a dropped request adds nothing.
  const pieces: Buffer[] = [];
  let length = 0;
  for await (const piece of ctx.req) {
    pieces.push(piece as Buffer);
    length += (piece as Buffer).length;
  }
  const received = session.writer.size;
  if (start > received) {
    throw badRequest(`Bytes from ${received} are missing; this request starts at ${start}.`);
  }
  if (end !== undefined && end - start + 1 !== Math.max(length, 0)) {
    throw badRequest(`Content-Range ${start}-${end} does not match the ${length} bytes sent.`);
  }
  const last = total === undefined ? end === undefined : start + length === total;
  if (total !== undefined && start + length > total) {
    throw badRequest(`The upload is ${total} bytes; this request goes past its end.`);
  }
  if (!last && length % CHUNK_GRANULARITY !== 0) {
    throw badRequest(
      `Invalid request. The number of bytes uploaded is required to be a multiple of ${CHUNK_GRANULARITY}, except for the final request.`,
    );
  }
  let skip = received - start; // bytes this session already has (a resent chunk)
  for (const piece of pieces) {
    if (skip >= piece.length) {
      skip -= piece.length;
      continue;
    }
    session.writer.write(piece.subarray(skip));
    skip = 0;
  }
  if (last) return complete(ctx, session, id);
  incomplete(ctx, session);
}
