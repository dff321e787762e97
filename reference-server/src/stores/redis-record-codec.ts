/** How RedisSessionStore keeps records in Redis hashes and passes lists to its scripts. */
import type { FilePatch, StoredFile, StoredSession } from './session-store.js';

/** A Redis hash as node-redis returns it. */
export type Fields = Record<string, string>;

type Kind = 'string' | 'number' | 'json';

/** A list preceded by its length, as the scripts read lists from ARGV. */
export function counted(values: readonly string[]): string[] {
  return [String(values.length), ...values];
}

export function pairs(fields: Fields): string[] {
  return Object.entries(fields).flat();
}

export function fromPairs(flat: readonly string[]): Fields {
  const fields: Fields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i] as string] = flat[i + 1] as string;
  return fields;
}

/**
 * How each field is kept in its hash: as is, as a decimal number, or as JSON. `satisfies` makes
 * a field added to StoredSession or StoredFile a compile error here until it is given a kind.
 */
const SESSION_FIELDS = {
  id: 'string',
  userId: 'string',
  createdAt: 'number',
  expiresAt: 'number',
  chunkSize: 'number',
  metadata: 'json',
  cleanedAt: 'number',
} as const satisfies { [K in keyof Required<StoredSession>]: Kind };

export const FILE_FIELDS = {
  id: 'string',
  sessionId: 'string',
  userId: 'string',
  name: 'string',
  size: 'number',
  clientType: 'string',
  claimedType: 'string',
  lastModified: 'number',
  totalChunks: 'number',
  status: 'string',
  createdAt: 'number',
  updatedAt: 'number',
  duplicateOf: 'string',
  contentHash: 'string',
  detectedType: 'string',
  fileType: 'string',
  objectKey: 'string',
  scan: 'json',
  contentMetadata: 'json',
  error: 'json',
} as const satisfies { [K in keyof Required<StoredFile>]: Kind };

/** A field value as stored in its hash. */
export function encode(kind: Kind, value: unknown): string {
  return kind === 'json' ? JSON.stringify(value) : String(value);
}

function decode(kind: Kind, value: string): unknown {
  return kind === 'json' ? JSON.parse(value) : kind === 'number' ? Number(value) : value;
}

/** Hash fields of a record; optional fields that are undefined are left out. */
function toFields(record: object, kinds: Record<string, Kind>): Fields {
  const fields: Fields = {};
  for (const [key, kind] of Object.entries(kinds)) {
    const value = (record as Record<string, unknown>)[key];
    if (value !== undefined) fields[key] = encode(kind, value);
  }
  return fields;
}

/** The record of hash fields; fields the kinds do not name (internal ones) are not copied. */
function fromFields<T>(fields: Fields, kinds: Record<string, Kind>): T {
  const record: Record<string, unknown> = {};
  for (const [key, kind] of Object.entries(kinds)) {
    const value = fields[key];
    if (value !== undefined) record[key] = decode(kind, value);
  }
  return record as T;
}

export function sessionFields(session: StoredSession): Fields {
  return toFields(session, SESSION_FIELDS);
}

export function fileFields(file: StoredFile): Fields {
  return toFields(file, FILE_FIELDS);
}

export function toSession(fields: Fields): StoredSession {
  return fromFields<StoredSession>(fields, SESSION_FIELDS);
}

export function toFile(fields: Fields): StoredFile {
  return fromFields<StoredFile>(fields, FILE_FIELDS);
}

/** Only these keys are read from a patch, whatever else a caller's object carries. */
export const PATCH_KEYS = Object.keys({
  status: true,
  contentHash: true,
  detectedType: true,
  fileType: true,
  objectKey: true,
  error: true,
  duplicateOf: true,
  scan: true,
  contentMetadata: true,
} satisfies { [K in keyof Required<FilePatch>]: true }) as (keyof FilePatch)[];
