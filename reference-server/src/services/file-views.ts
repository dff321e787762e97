import {
  chunkRange,
  type FileStatusResponse,
  type FileUpload,
  type UploadSession,
} from '@file-uploader/protocol';
import type { BlobStore } from '../stores/blob-store.js';
import type { StoredFile, StoredSession } from '../stores/session-store.js';

/** Statuses in which the chunk store, not the file record, tells what has arrived. */
const RECEIVING: ReadonlySet<string> = new Set(['pending', 'uploading', 'failed']);

/** Bytes of these chunks of a file (indices past its last chunk are not counted). */
export function bytesOfChunks(
  indices: readonly number[],
  file: StoredFile,
  chunkSize: number,
): { receivedChunks: number[]; receivedBytes: number } {
  const receivedChunks = indices.filter((i) => i < file.totalChunks);
  const receivedBytes = receivedChunks.reduce((sum, i) => {
    const { start, end } = chunkRange(i, file.size, chunkSize);
    return sum + end - start + 1;
  }, 0);
  return { receivedChunks, receivedBytes };
}

/** Chunks the server holds for a file, and their bytes. */
export async function receivedOf(
  blobs: BlobStore,
  file: StoredFile,
  chunkSize: number,
): Promise<{ receivedChunks: number[]; receivedBytes: number }> {
  if (!RECEIVING.has(file.status)) {
    return {
      receivedChunks: Array.from({ length: file.totalChunks }, (_, i) => i),
      receivedBytes: file.size,
    };
  }
  return bytesOfChunks(await blobs.listChunks(file.sessionId, file.id), file, chunkSize);
}

/** A file as `GET /session/:sessionId` lists it. */
export async function fileUploadView(
  blobs: BlobStore,
  file: StoredFile,
  chunkSize: number,
): Promise<FileUpload> {
  const received = await receivedOf(blobs, file, chunkSize);
  return {
    fileId: file.id,
    name: file.name,
    size: file.size,
    type: file.detectedType ?? file.clientType,
    status: file.status,
    totalChunks: file.totalChunks,
    ...received,
    ...(file.duplicateOf ? { duplicateOf: file.duplicateOf } : {}),
    ...(file.error ? { error: file.error } : {}),
  };
}

/** `GET /session/:sessionId`. */
export async function sessionView(
  blobs: BlobStore,
  session: StoredSession,
  files: StoredFile[],
): Promise<UploadSession> {
  return {
    sessionId: session.id,
    createdAt: new Date(session.createdAt).toISOString(),
    expiresAt: new Date(session.expiresAt).toISOString(),
    chunkSize: session.chunkSize,
    metadata: session.metadata,
    files: await Promise.all(files.map((f) => fileUploadView(blobs, f, session.chunkSize))),
  };
}

/** `GET /status/:fileId`. */
export async function statusView(
  blobs: BlobStore,
  session: StoredSession,
  file: StoredFile,
): Promise<FileStatusResponse> {
  const { receivedBytes } = await receivedOf(blobs, file, session.chunkSize);
  return {
    fileId: file.id,
    sessionId: file.sessionId,
    name: file.name,
    size: file.size,
    status: file.status,
    receivedBytes,
    ...(file.detectedType ? { detectedType: file.detectedType } : {}),
    ...(file.fileType ? { fileType: file.fileType } : {}),
    ...(file.contentHash ? { contentHash: file.contentHash } : {}),
    ...(file.scan ? { scan: file.scan } : {}),
    ...(file.contentMetadata ? { contentMetadata: file.contentMetadata } : {}),
    ...(Object.keys(session.metadata).length > 0 ? { metadata: session.metadata } : {}),
    ...(file.error ? { error: file.error } : {}),
  };
}
