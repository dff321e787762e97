import { createHash } from 'node:crypto';
import type { StoredFile } from '../stores/session-store.js';

const SAFE_SEGMENT = /^[A-Za-z0-9_-]{1,64}$/;

/** A path segment for a user id: the id itself when safe, else a stable digest of it. */
export function userSegment(userId: string): string {
  if (SAFE_SEGMENT.test(userId)) return userId;
  return `u-${createHash('sha256').update(userId).digest('hex').slice(0, 40)}`;
}

/** Where a file's final object lives: `{userId}/{sessionId}/{timestamp}-{fileId}/{name}`. */
export function objectKey(
  file: Pick<StoredFile, 'userId' | 'sessionId' | 'id' | 'name'>,
  at: number,
): string {
  return `${userSegment(file.userId)}/${file.sessionId}/${at}-${file.id}/${file.name}`;
}
