import type { BlobStore } from '../stores/blob-store.js';
import type { FilePatch, SessionStore, StoredFile } from '../stores/session-store.js';
import { objectKey } from './object-key.js';

/**
 * A file the same user already has, with the same content hash, size and type: its object is
 * copied for `file` (a hard link on disk), so both files live and die independently. Returns
 * what makes `file` a ready duplicate, or undefined when there is no such file (or it went away
 * meanwhile). The caller records the patch, or deletes `objectKey` when it cannot.
 */
export async function copyOfDuplicate(
  deps: { sessions: SessionStore; blobs: BlobStore },
  file: StoredFile,
  contentHash: string,
  now: number,
): Promise<(FilePatch & { status: 'ready'; objectKey: string }) | undefined> {
  const original = await deps.sessions.findReadyFile(file.userId, contentHash, file.size);
  if (!original?.objectKey || original.fileType !== file.claimedType) return undefined;
  const key = objectKey(file, now);
  try {
    await deps.blobs.copyObject(original.objectKey, key);
  } catch {
    return undefined; // The original went away meanwhile: upload normally.
  }
  return {
    status: 'ready',
    duplicateOf: original.id,
    contentHash,
    objectKey: key,
    fileType: original.fileType,
    ...(original.detectedType ? { detectedType: original.detectedType } : {}),
  };
}
