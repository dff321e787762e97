/**
 * Joins objects into one with GCS compose: at most 32 sources per call, so longer lists are
 * composed in a tree of intermediate objects (deleted afterwards). Each compose is checked: the
 * result's CRC32C must equal its sources' CRC32Cs combined, and its size their sum.
 */
import type { Bucket, File } from '@google-cloud/storage';
import { crc32cCombine, crc32cFromBase64 } from './crc32c-combine.js';
import { isStatus, notFoundError } from './gcs-errors.js';

/** GCS's limit of source objects per compose request. */
export const MAX_COMPOSE_SOURCES = 32;
/** GCS's limit of components (original uploads) in one composite object. */
export const MAX_COMPONENTS = 1024;

/** One source: a pinned generation, with the size and CRC32C GCS reported for it. */
export interface ComposePart {
  name: string;
  generation: number;
  size: number;
  crc32c: number;
}

export interface ComposeTreeOptions {
  parts: readonly ComposePart[];
  /** Name of the final object; it is created only if it does not exist. */
  target: string;
  bucket: Bucket;
  /** A File handle with the store's encryption settings, pinned to `generation` when given. */
  file(name: string, generation?: number): File;
  /** A fresh name for an intermediate object. */
  tempName(): string;
  kmsKeyName?: string;
  remove(name: string): Promise<void>;
}

/** CRC32C and size of the concatenation of `parts`. */
export function combinedChecksum(parts: readonly ComposePart[]): { crc32c: number; size: number } {
  let crc32c = 0;
  let size = 0;
  for (const part of parts) {
    crc32c = size === 0 ? part.crc32c : crc32cCombine(crc32c, part.crc32c, part.size);
    size += part.size;
  }
  return { crc32c, size };
}

async function composeOnce(
  options: ComposeTreeOptions,
  group: readonly ComposePart[],
  name: string,
): Promise<ComposePart | 'exists'> {
  const expected = combinedChecksum(group);
  const sources = group.map((part) => options.file(part.name, part.generation));
  let response: { crc32c?: string; size?: string | number; generation?: string | number };
  try {
    const [, apiResponse] = await options.bucket.combine(sources, options.file(name), {
      ifGenerationMatch: 0, // never overwrite: final objects keep their first version
      ...(options.kmsKeyName ? { kmsKeyName: options.kmsKeyName } : {}),
    });
    response = apiResponse as typeof response;
  } catch (error) {
    if (isStatus(error, 412)) return 'exists';
    if (isStatus(error, 404)) throw notFoundError(`A source of ${name} is missing`, error);
    throw error;
  }
  const generation = Number(response.generation);
  const size = Number(response.size);
  const crc32c = response.crc32c === undefined ? undefined : crc32cFromBase64(response.crc32c);
  if (crc32c !== expected.crc32c || size !== expected.size) {
    // Only this generation: never touch a version someone else wrote.
    await options.file(name, generation).delete({ ignoreNotFound: true });
    throw new Error(
      `Composed object ${name} failed its check: CRC32C ${crc32c} (expected ${expected.crc32c}), ` +
        `${size} bytes (expected ${expected.size})`,
    );
  }
  return { name, generation, size, crc32c };
}

/** Composes `parts` into `target`; 'exists' when `target` already exists. */
export async function composeTree(
  options: ComposeTreeOptions,
): Promise<{ size: number; generation: number } | 'exists'> {
  if (options.parts.length === 0) throw new RangeError('Nothing to compose');
  const intermediates: string[] = [];
  try {
    let level = options.parts;
    while (level.length > MAX_COMPOSE_SOURCES) {
      const next: ComposePart[] = [];
      for (let i = 0; i < level.length; i += MAX_COMPOSE_SOURCES) {
        const group = level.slice(i, i + MAX_COMPOSE_SOURCES);
        if (group.length === 1) {
          next.push(group[0]!);
          continue;
        }
        const name = options.tempName();
        intermediates.push(name);
        const made = await composeOnce(options, group, name);
        if (made === 'exists') throw new Error(`Intermediate name taken: ${name}`);
        next.push(made);
      }
      level = next;
    }
    const made = await composeOnce(options, level, options.target);
    return made === 'exists' ? 'exists' : { size: made.size, generation: made.generation };
  } finally {
    await Promise.all(intermediates.map((name) => options.remove(name)));
  }
}
