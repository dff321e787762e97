/** Bucket routes: insert, get, list, patch, delete. */
import { badRequest, GcsError } from './errors.js';
import { readJson, sendEmpty, sendJson, stringField, type Context } from './http.js';
import type { BucketState } from './model.js';
import { bucketResource } from './resources.js';

function versioningOf(body: Record<string, unknown>): boolean | undefined {
  const versioning = body.versioning as { enabled?: unknown } | undefined | null;
  if (versioning === undefined || versioning === null) return undefined;
  return versioning.enabled === true;
}

function labelsOf(body: Record<string, unknown>): Record<string, string> | undefined {
  const labels = body.labels;
  if (labels === undefined || labels === null) return undefined;
  if (typeof labels !== 'object') throw badRequest('Invalid labels.');
  return labels as Record<string, string>;
}

export async function insertBucket(ctx: Context): Promise<void> {
  const body = await readJson(ctx.req);
  const name = stringField(body, 'name');
  if (!name) throw badRequest('Required field: name', 'required');
  const bucket = ctx.state.createBucket(name, {
    versioning: versioningOf(body),
    lifecycle: body.lifecycle ?? undefined,
    labels: labelsOf(body),
  });
  sendJson(ctx, 200, bucketResource(bucket, ctx.origin));
}

export function getBucket(ctx: Context, name: string): void {
  sendJson(ctx, 200, bucketResource(ctx.state.bucket(name), ctx.origin));
}

export function listBuckets(ctx: Context): void {
  const prefix = ctx.query.get('prefix') ?? '';
  const items = [...ctx.state.buckets.values()]
    .filter((bucket) => bucket.name.startsWith(prefix))
    .sort((a, b) => (a.name < b.name ? -1 : 1))
    .map((bucket) => bucketResource(bucket, ctx.origin));
  sendJson(ctx, 200, { kind: 'storage#buckets', items });
}

export async function patchBucket(ctx: Context, name: string): Promise<void> {
  const bucket: BucketState = ctx.state.bucket(name);
  const body = await readJson(ctx.req);
  const match = ctx.query.get('ifMetagenerationMatch');
  if (match !== null && Number(match) !== bucket.metageneration) {
    throw new GcsError(
      412,
      'conditionNotMet',
      'At least one of the pre-conditions you specified did not hold.',
    );
  }
  const versioning = versioningOf(body);
  if (versioning !== undefined) bucket.versioning = versioning;
  if ('lifecycle' in body) bucket.lifecycle = body.lifecycle ?? undefined;
  if ('labels' in body) bucket.labels = labelsOf(body);
  bucket.metageneration += 1;
  bucket.updated = ctx.state.now();
  sendJson(ctx, 200, bucketResource(bucket, ctx.origin));
}

export function deleteBucket(ctx: Context, name: string): void {
  const bucket = ctx.state.bucket(name);
  if (bucket.live.size > 0) {
    throw new GcsError(409, 'conflict', 'The bucket you tried to delete is not empty.');
  }
  ctx.state.buckets.delete(name);
  sendEmpty(ctx, 204);
}
