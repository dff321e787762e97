import {
  EVENT_SCHEMA_VERSION,
  fileEventId,
  type FileEventData,
  type ScanOutcome,
  type UploadEventType,
} from '@file-uploader/protocol';
import type { NewEvent } from '../stores/session-events.js';
import type { StoredFile } from '../stores/session-store.js';

type FileEventType = Exclude<UploadEventType, 'session.completed'>;

/**
 * The event of type `type` about `file` as it is after the change (patch applied). Written to
 * the outbox in the same step as that change (see SessionStore).
 */
export function fileEvent(
  type: FileEventType,
  file: StoredFile,
  scan?: ScanOutcome,
  now = Date.now(),
): NewEvent {
  const base = {
    id: fileEventId(type, file.id),
    version: EVENT_SCHEMA_VERSION,
    occurredAt: new Date(now).toISOString(),
    sessionId: file.sessionId,
    userId: file.userId,
  } as const;
  const data: FileEventData = {
    fileId: file.id,
    name: file.name,
    size: file.size,
    status: file.status,
  };
  const found = {
    contentHash: file.contentHash ?? '',
    ...(file.detectedType ? { detectedType: file.detectedType } : {}),
    ...(file.fileType ? { fileType: file.fileType } : {}),
    ...(file.contentMetadata ? { contentMetadata: file.contentMetadata } : {}),
  };
  switch (type) {
    case 'upload.assembled':
    case 'upload.ready':
      return { ...base, type, data: { ...data, ...found } };
    case 'upload.scanned':
      return { ...base, type, data: { ...data, scan: scan ?? { result: 'skipped' } } };
    case 'upload.rejected':
      return {
        ...base,
        type,
        data: {
          ...data,
          error: file.error ?? { code: 'internal', message: 'The file was rejected.' },
        },
      };
    case 'upload.received':
    case 'upload.deleted':
      return { ...base, type, data };
  }
}
