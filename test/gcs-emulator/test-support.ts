/** Helpers shared by the emulator's test files. */
import { createHash } from 'node:crypto';
import { CRC32C, type Bucket, type Storage } from '@google-cloud/storage';
import type { GcsEmulator } from './index.js';

export const KIB = 1024;
export const MIB = 1024 * KIB;

/** What a test file set up: the emulator, a client and a bucket. */
export interface EmulatorEnv {
  gcs: GcsEmulator;
  storage: Storage;
  bucket: Bucket;
}

export const md5 = (data: Buffer): string => createHash('md5').update(data).digest('base64');

/** CRC32C by the client's own implementation, independent of the emulator's. */
export function crc32c(data: Buffer): string {
  const crc = new CRC32C();
  crc.update(data);
  return crc.toString();
}

/** The HTTP status a client call failed with, or undefined when it succeeded. */
export async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return undefined;
  } catch (error) {
    const e = error as { code?: unknown; status?: unknown; response?: { status?: number } };
    return typeof e.code === 'number' ? e.code : (e.response?.status ?? (e.status as number));
  }
}
