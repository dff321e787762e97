import type { FileTypeId } from './file-types.js';
import type { ExtractedMetadata } from './metadata.js';
import type { FileError, FileStatus } from './types.js';

/** Version of the event schemas below; a breaking change to any of them makes a new version. */
export const EVENT_SCHEMA_VERSION = 1;

/** Every event type, as a const object plus the union type of its values. */
export const UploadEventType = {
  /** Every chunk of a file is stored; assembly starts. */
  received: 'upload.received',
  /** The file is one object with a verified size, content hash and type. */
  assembled: 'upload.assembled',
  /** The virus scan ended (clean or infected), or was skipped because no scanner is set up. */
  scanned: 'upload.scanned',
  /** The file is downloadable. */
  ready: 'upload.ready',
  /** The file was refused (type, size, scan); `data.error` says why. */
  rejected: 'upload.rejected',
  /** The file was deleted by its owner. */
  deleted: 'upload.deleted',
  /** Every file of the session has ended: emitted once per session, with every outcome. */
  sessionCompleted: 'session.completed',
} as const;

export type UploadEventType = (typeof UploadEventType)[keyof typeof UploadEventType];

/** What every file event says about its file. */
export interface FileEventData {
  fileId: string;
  name: string;
  size: number;
  status: FileStatus;
}

/** Outcome of scanning a file. */
export interface ScanOutcome {
  result: 'clean' | 'infected' | 'skipped';
  /** The signature found, for `infected`. */
  signature?: string;
}

export interface AssembledEventData extends FileEventData {
  contentHash: string;
  detectedType?: string;
  fileType?: FileTypeId;
  /** What the server read from the file's content (pages, dimensions, document properties). */
  contentMetadata?: ExtractedMetadata;
}

export interface ScannedEventData extends FileEventData {
  scan: ScanOutcome;
}

export interface RejectedEventData extends FileEventData {
  error: FileError;
}

/** One file's outcome in `session.completed`. */
export interface SessionFileOutcome extends FileEventData {
  error?: FileError;
  contentHash?: string;
  fileType?: FileTypeId;
}

export interface SessionCompletedData {
  files: SessionFileOutcome[];
}

/** Data carried by each event type. */
export interface UploadEventDataMap {
  'upload.received': FileEventData;
  'upload.assembled': AssembledEventData;
  'upload.scanned': ScannedEventData;
  'upload.ready': AssembledEventData;
  'upload.rejected': RejectedEventData;
  'upload.deleted': FileEventData;
  'session.completed': SessionCompletedData;
}

/**
 * An event as published. `id` is an idempotency key (the same occurrence always has the same
 * id, so a consumer drops repeats); `seq` orders a stream and is what `Last-Event-ID` carries.
 */
export interface UploadEventOf<T extends UploadEventType> {
  id: string;
  seq: string;
  type: T;
  version: typeof EVENT_SCHEMA_VERSION;
  /** ISO 8601 time of the state change. */
  occurredAt: string;
  sessionId: string;
  userId: string;
  data: UploadEventDataMap[T];
}

export type UploadEvent = { [T in UploadEventType]: UploadEventOf<T> }[UploadEventType];

const TYPES = new Set<string>(Object.values(UploadEventType));

/**
 * Checks the envelope of an event (type known, version, ids, time, data object). Consumers call it
 * before trusting a payload from the wire; data fields are checked where they are used.
 */
export function isUploadEvent(value: unknown): value is UploadEvent {
  if (typeof value !== 'object' || value === null) return false;
  const event = value as Record<string, unknown>;
  return (
    typeof event.id === 'string' &&
    typeof event.seq === 'string' &&
    typeof event.type === 'string' &&
    TYPES.has(event.type) &&
    event.version === EVENT_SCHEMA_VERSION &&
    typeof event.occurredAt === 'string' &&
    !Number.isNaN(Date.parse(event.occurredAt)) &&
    typeof event.sessionId === 'string' &&
    typeof event.userId === 'string' &&
    typeof event.data === 'object' &&
    event.data !== null
  );
}

/** The idempotency key of a file event: one occurrence of each type per file. */
export function fileEventId(type: UploadEventType, fileId: string): string {
  return `${type}:${fileId}`;
}

/** The idempotency key of `session.completed`. */
export function sessionCompletedId(sessionId: string): string {
  return `${UploadEventType.sessionCompleted}:${sessionId}`;
}
