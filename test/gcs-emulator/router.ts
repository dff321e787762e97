/**
 * Maps requests to handlers. The JSON API answers under `/storage/v1/` (the client with
 * `apiEndpoint`) and at `/` (the client with `STORAGE_EMULATOR_HOST`); uploads are under
 * `/upload/storage/v1/` and media also under `/download/storage/v1/`, as in GCS. A request with
 * V4 signing parameters is a signed URL: `/bucket/object`.
 */
import { deleteBucket, getBucket, insertBucket, listBuckets, patchBucket } from './buckets.js';
import { composeObject, rewriteObject } from './compose.js';
import { GcsError } from './errors.js';
import { drain, sendError, type Context } from './http.js';
import { deleteObject, getObject, listObjects, patchObject } from './objects.js';
import { isSignedUrl, serveSignedUrl } from './signed-urls.js';
import { continueResumable, mediaUpload, multipartUpload, startResumable } from './uploads.js';

function notFound(): GcsError {
  return new GcsError(404, 'notFound', 'Not Found');
}

function methodNotAllowed(): GcsError {
  return new GcsError(405, 'methodNotAllowed', 'Method not allowed for this resource.');
}

function decode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new GcsError(400, 'invalid', `Malformed path segment: ${segment}`);
  }
}

async function routeUpload(ctx: Context, bucket: string): Promise<void> {
  const id = ctx.query.get('upload_id');
  if (id !== null) return continueResumable(ctx, id);
  if (ctx.req.method !== 'POST') throw methodNotAllowed();
  switch (ctx.query.get('uploadType')) {
    case 'media':
      return mediaUpload(ctx, bucket);
    case 'multipart':
      return multipartUpload(ctx, bucket);
    case 'resumable':
      return startResumable(ctx, bucket);
    default:
      throw new GcsError(400, 'invalid', 'Unsupported or missing uploadType.');
  }
}

async function routeJson(ctx: Context, raw: string[], media: boolean): Promise<void> {
  const method = ctx.req.method;
  const [b, bucket, o, object, action, ...tail] = raw;
  if (b !== 'b') throw notFound();
  if (bucket === undefined || bucket === '') {
    if (method === 'GET') return listBuckets(ctx);
    if (method === 'POST') return insertBucket(ctx);
    throw methodNotAllowed();
  }
  const bucketName = decode(bucket);
  if (o === undefined) {
    if (method === 'GET') return getBucket(ctx, bucketName);
    if (method === 'PATCH' || method === 'PUT') return patchBucket(ctx, bucketName);
    if (method === 'DELETE') return deleteBucket(ctx, bucketName);
    throw methodNotAllowed();
  }
  if (o !== 'o') throw notFound();
  if (object === undefined || object === '') {
    if (method === 'GET') return listObjects(ctx, bucketName);
    throw methodNotAllowed();
  }
  const name = decode(object);
  if (action === 'compose' && tail.length === 0) {
    if (method !== 'POST') throw methodNotAllowed();
    return composeObject(ctx, bucketName, name);
  }
  if ((action === 'rewriteTo' || action === 'copyTo') && tail.length === 4 && tail[0] === 'b') {
    if (method !== 'POST') throw methodNotAllowed();
    const to = { bucket: decode(tail[1]!), name: decode(tail[3]!) };
    return rewriteObject(ctx, { bucket: bucketName, name }, to, action === 'rewriteTo');
  }
  // Unencoded slashes in an object name: everything after /o/ is the name.
  const fullName = action === undefined ? name : raw.slice(3).map(decode).join('/');
  if (media && method === 'GET') ctx.query.set('alt', 'media');
  switch (method) {
    case 'GET':
    case 'HEAD':
      return getObject(ctx, bucketName, fullName);
    case 'PATCH':
    case 'PUT':
      return patchObject(ctx, bucketName, fullName);
    case 'DELETE':
      return deleteObject(ctx, bucketName, fullName);
    default:
      throw methodNotAllowed();
  }
}

export async function route(ctx: Context): Promise<void> {
  try {
    if (isSignedUrl(ctx.url)) return await serveSignedUrl(ctx);
    const raw = ctx.url.pathname.split('/').slice(1);
    const versioned = raw[1] === 'storage' && raw[2] === 'v1';
    if (raw[0] === 'upload' && versioned) {
      const [b, bucket, o, extra] = raw.slice(3);
      if (b !== 'b' || !bucket || o !== 'o' || extra !== undefined) throw notFound();
      return await routeUpload(ctx, decode(bucket));
    }
    if (raw[0] === 'download' && versioned) return await routeJson(ctx, raw.slice(3), true);
    if (raw[0] === 'storage' && raw[1] === 'v1') return await routeJson(ctx, raw.slice(2), false);
    return await routeJson(ctx, raw, false);
  } catch (error) {
    sendError(ctx, error);
  } finally {
    drain(ctx.req);
  }
}
