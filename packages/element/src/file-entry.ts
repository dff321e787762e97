import type { FileTypeId } from '@file-uploader/protocol';
import type { Upload, UploadState } from '@file-uploader/sdk';
import type { RejectionCode } from './validation.js';

/** What a row of the list shows: the SDK's states plus the element's own. */
export const EntryState = {
  queued: 'queued',
  /** The SDK hashes the file and initiates the session. */
  checking: 'checking',
  uploading: 'uploading',
  paused: 'paused',
  assembling: 'assembling',
  scanning: 'scanning',
  ready: 'ready',
  rejected: 'rejected',
  failed: 'failed',
  cancelled: 'cancelled',
  /** Refused by validation before any byte was sent. */
  refused: 'refused',
} as const;

export type EntryState = (typeof EntryState)[keyof typeof EntryState];

/** One file in the list. */
export interface FileEntry {
  /** Stable id for rendering and focus. */
  readonly id: string;
  readonly file: File;
  readonly typeId: FileTypeId | undefined;
  /** Absent for files refused by validation. */
  upload?: Upload;
  /** Why validation refused the file. */
  refusal?: { code: RejectionCode; message: string };
  /** Object URL of a downscaled image; revoked when the entry goes. */
  thumbnail?: string;
  /** The remove confirmation is open (uploaded files only). */
  confirming?: boolean;
  /** A DELETE is on its way. */
  removing?: boolean;
  /** Why the last removal failed. */
  removeError?: string;
}

const FROM_SDK: Record<UploadState, EntryState> = {
  queued: 'queued',
  hashing: 'checking',
  initiating: 'checking',
  uploading: 'uploading',
  paused: 'paused',
  assembling: 'assembling',
  scanning: 'scanning',
  ready: 'ready',
  rejected: 'rejected',
  failed: 'failed',
  cancelled: 'cancelled',
};

/** The state a row shows. */
export function entryState(entry: FileEntry): EntryState {
  return entry.upload ? FROM_SDK[entry.upload.state] : 'refused';
}

/** True while the upload still needs the page: it has not ended, or it failed and can be retried. */
export function isUnfinished(entry: FileEntry): boolean {
  const state = entryState(entry);
  return !['ready', 'rejected', 'cancelled', 'refused', 'failed'].includes(state);
}

/** True when the entry counts towards the count and total limits. */
export function countsTowardsLimits(entry: FileEntry): boolean {
  const state = entryState(entry);
  return state !== 'refused' && state !== 'rejected' && state !== 'cancelled';
}
