/**
 * The emulator's state: buckets and their objects, with generations, metagenerations and (when a
 * bucket has versioning on) noncurrent versions. Every change is synchronous, so a precondition
 * check and the write it guards are atomic, as in GCS.
 */
import { badRequest, GcsError, notFound, preconditionFailed } from './errors.js';
import type { StoredContent } from './content.js';
import type { ResumableSession } from './uploads.js';

/** One generation of an object. */
export interface ObjectVersion {
  bucket: string;
  name: string;
  generation: number;
  metageneration: number;
  content: StoredContent;
  contentType: string;
  contentEncoding?: string;
  contentDisposition?: string;
  cacheControl?: string;
  metadata?: Record<string, string>;
  kmsKeyName?: string;
  /** Set on composed objects: how many original uploads they are made of. */
  componentCount?: number;
  timeCreated: Date;
  updated: Date;
  /** When this version stopped being live (versioned buckets only). */
  timeDeleted?: Date;
}

export interface BucketState {
  name: string;
  timeCreated: Date;
  updated: Date;
  metageneration: number;
  versioning: boolean;
  /** Kept and reported as given; the emulator does not run lifecycle rules by itself. */
  lifecycle?: unknown;
  labels?: Record<string, string>;
  live: Map<string, ObjectVersion>;
  noncurrent: Map<string, ObjectVersion[]>;
}

/** The generation and metageneration conditions of a request. */
export interface Preconditions {
  ifGenerationMatch?: number;
  ifGenerationNotMatch?: number;
  ifMetagenerationMatch?: number;
  ifMetagenerationNotMatch?: number;
}

const CONDITIONS = [
  'ifGenerationMatch',
  'ifGenerationNotMatch',
  'ifMetagenerationMatch',
  'ifMetagenerationNotMatch',
] as const;

function integerParam(query: URLSearchParams, name: string): number | undefined {
  const value = query.get(name);
  if (value === null) return undefined;
  if (!/^-?\d{1,20}$/.test(value)) throw badRequest(`Invalid value for ${name}: ${value}`);
  return Number(value);
}

/** Reads preconditions from a query; with `source`, `ifSourceGenerationMatch` and the like. */
export function preconditionsFrom(query: URLSearchParams, source = false): Preconditions {
  const result: Preconditions = {};
  for (const name of CONDITIONS) {
    const param = source ? name.replace(/^if/, 'ifSource') : name;
    const value = integerParam(query, param);
    if (value !== undefined) result[name] = value;
  }
  return result;
}

/** Throws 412 when `current` (undefined: no live object) does not meet the conditions. */
export function checkPreconditions(current: ObjectVersion | undefined, pre: Preconditions): void {
  const generation = current?.generation ?? 0;
  if (pre.ifGenerationMatch !== undefined && pre.ifGenerationMatch !== generation) {
    throw preconditionFailed();
  }
  if (pre.ifGenerationNotMatch !== undefined && pre.ifGenerationNotMatch === generation) {
    throw preconditionFailed();
  }
  const meta = pre.ifMetagenerationMatch ?? pre.ifMetagenerationNotMatch;
  if (meta !== undefined && !current) throw preconditionFailed();
  if (
    pre.ifMetagenerationMatch !== undefined &&
    pre.ifMetagenerationMatch !== current?.metageneration
  ) {
    throw preconditionFailed();
  }
  if (
    pre.ifMetagenerationNotMatch !== undefined &&
    pre.ifMetagenerationNotMatch === current?.metageneration
  ) {
    throw preconditionFailed();
  }
}

export class GcsState {
  readonly buckets = new Map<string, BucketState>();
  /** Open resumable uploads by upload id. */
  readonly uploads = new Map<string, ResumableSession>();
  #lastGeneration = 0;
  #clockOffsetMs = 0;

  /** The emulator's idea of now; tests move it forward to expire signed URLs. */
  now(): Date {
    return new Date(Date.now() + this.#clockOffsetMs);
  }

  advanceClock(ms: number): void {
    this.#clockOffsetMs += ms;
  }

  /** Generations are microsecond timestamps in GCS; here they are also strictly increasing. */
  nextGeneration(): number {
    this.#lastGeneration = Math.max(this.now().getTime() * 1000, this.#lastGeneration + 1);
    return this.#lastGeneration;
  }

  bucket(name: string): BucketState {
    const bucket = this.buckets.get(name);
    if (!bucket) throw new GcsError(404, 'notFound', 'The specified bucket does not exist.');
    return bucket;
  }

  createBucket(
    name: string,
    fields: { versioning?: boolean; lifecycle?: unknown; labels?: Record<string, string> },
  ): BucketState {
    if (!/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/.test(name)) {
      throw badRequest(`Invalid bucket name: '${name}'`);
    }
    if (this.buckets.has(name)) {
      throw new GcsError(
        409,
        'conflict',
        'Your previous request to create the named bucket succeeded and you already own it.',
      );
    }
    const now = this.now();
    const bucket: BucketState = {
      name,
      timeCreated: now,
      updated: now,
      metageneration: 1,
      versioning: fields.versioning ?? false,
      lifecycle: fields.lifecycle,
      labels: fields.labels,
      live: new Map(),
      noncurrent: new Map(),
    };
    this.buckets.set(name, bucket);
    return bucket;
  }

  /** The live object, or a given generation (live or noncurrent). */
  getObject(bucketName: string, name: string, generation?: number): ObjectVersion {
    const bucket = this.bucket(bucketName);
    const live = bucket.live.get(name);
    if (generation === undefined || live?.generation === generation) {
      if (!live) throw notFound(`${bucketName}/${name}`);
      return live;
    }
    const old = bucket.noncurrent.get(name)?.find((v) => v.generation === generation);
    if (!old) throw notFound(`${bucketName}/${name}#${generation}`);
    return old;
  }

  /** Makes `version` the live object if the preconditions hold against the current one. */
  putObject(version: ObjectVersion, pre: Preconditions): ObjectVersion {
    const bucket = this.bucket(version.bucket);
    const current = bucket.live.get(version.name);
    checkPreconditions(current, pre);
    if (current) this.#retire(bucket, current);
    bucket.live.set(version.name, version);
    return version;
  }

  /** Replaces the live object's metadata in place (a new metageneration). */
  replaceMetadata(version: ObjectVersion, pre: Preconditions): ObjectVersion {
    const bucket = this.bucket(version.bucket);
    const current = bucket.live.get(version.name);
    if (!current || current.generation !== version.generation) {
      throw notFound(`${version.bucket}/${version.name}`);
    }
    checkPreconditions(current, pre);
    bucket.live.set(version.name, version);
    return version;
  }

  deleteObject(
    bucketName: string,
    name: string,
    generation: number | undefined,
    pre: Preconditions,
  ): void {
    const bucket = this.bucket(bucketName);
    const live = bucket.live.get(name);
    if (generation !== undefined && live?.generation !== generation) {
      const versions = bucket.noncurrent.get(name) ?? [];
      const index = versions.findIndex((v) => v.generation === generation);
      if (index < 0) throw notFound(`${bucketName}/${name}#${generation}`);
      checkPreconditions(versions[index], pre);
      versions.splice(index, 1);
      return;
    }
    if (!live) throw notFound(`${bucketName}/${name}`);
    checkPreconditions(live, pre);
    bucket.live.delete(name);
    this.#retire(bucket, live);
  }

  #retire(bucket: BucketState, version: ObjectVersion): void {
    if (!bucket.versioning) return;
    const versions = bucket.noncurrent.get(version.name) ?? [];
    versions.push({ ...version, timeDeleted: this.now() });
    bucket.noncurrent.set(version.name, versions);
  }
}
