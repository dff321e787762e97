/** The JSON resources the API returns for buckets and objects. */
import { createHash } from 'node:crypto';
import type { CustomerKey } from './content.js';
import type { BucketState, ObjectVersion } from './model.js';

export const PROJECT_NUMBER = '123456789012';

function etag(parts: ReadonlyArray<string | number>): string {
  return createHash('md5').update(parts.join('/')).digest('base64').slice(0, 12);
}

/**
 * An object resource. The hashes of a CSEK object are themselves encrypted in GCS, so they are
 * reported only to a request that carries the object's key. Composite objects have no MD5.
 */
export function objectResource(
  version: ObjectVersion,
  origin: string,
  key?: CustomerKey,
): Record<string, unknown> {
  const { bucket, name, generation, content } = version;
  const encoded = encodeURIComponent(name);
  const hashesVisible =
    !content.encryption || (key !== undefined && key.sha256 === content.encryption.keySha256);
  return {
    kind: 'storage#object',
    id: `${bucket}/${name}/${generation}`,
    selfLink: `${origin}/storage/v1/b/${bucket}/o/${encoded}`,
    mediaLink: `${origin}/download/storage/v1/b/${bucket}/o/${encoded}?generation=${generation}&alt=media`,
    name,
    bucket,
    generation: String(generation),
    metageneration: String(version.metageneration),
    contentType: version.contentType,
    storageClass: 'STANDARD',
    size: String(content.size),
    ...(hashesVisible && version.componentCount === undefined ? { md5Hash: content.md5Hash } : {}),
    ...(hashesVisible ? { crc32c: content.crc32c } : {}),
    etag: etag([generation, version.metageneration]),
    timeCreated: version.timeCreated.toISOString(),
    updated: version.updated.toISOString(),
    timeStorageClassUpdated: version.timeCreated.toISOString(),
    ...(version.timeDeleted ? { timeDeleted: version.timeDeleted.toISOString() } : {}),
    ...(version.contentEncoding ? { contentEncoding: version.contentEncoding } : {}),
    ...(version.contentDisposition ? { contentDisposition: version.contentDisposition } : {}),
    ...(version.cacheControl ? { cacheControl: version.cacheControl } : {}),
    ...(version.metadata ? { metadata: version.metadata } : {}),
    ...(version.componentCount !== undefined ? { componentCount: version.componentCount } : {}),
    ...(version.kmsKeyName ? { kmsKeyName: `${version.kmsKeyName}/cryptoKeyVersions/1` } : {}),
    ...(content.encryption
      ? {
          customerEncryption: {
            encryptionAlgorithm: 'AES256',
            keySha256: content.encryption.keySha256,
          },
        }
      : {}),
  };
}

export function bucketResource(bucket: BucketState, origin: string): Record<string, unknown> {
  return {
    kind: 'storage#bucket',
    id: bucket.name,
    selfLink: `${origin}/storage/v1/b/${bucket.name}`,
    projectNumber: PROJECT_NUMBER,
    name: bucket.name,
    timeCreated: bucket.timeCreated.toISOString(),
    updated: bucket.updated.toISOString(),
    metageneration: String(bucket.metageneration),
    location: 'US',
    locationType: 'multi-region',
    storageClass: 'STANDARD',
    etag: etag([bucket.name, bucket.metageneration]),
    versioning: { enabled: bucket.versioning },
    ...(bucket.lifecycle ? { lifecycle: bucket.lifecycle } : {}),
    ...(bucket.labels ? { labels: bucket.labels } : {}),
  };
}
