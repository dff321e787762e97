import type { ErrorCode } from './errors.js';
import type { ScanOutcome } from './events.js';
import type { FileTypeId } from './file-types.js';
import type { ExtractedMetadata } from './metadata.js';

/** Lifecycle of one file on the server. */
export const FileStatus = {
  pending: 'pending',
  uploading: 'uploading',
  assembling: 'assembling',
  scanning: 'scanning',
  ready: 'ready',
  rejected: 'rejected',
  failed: 'failed',
} as const;

export type FileStatus = (typeof FileStatus)[keyof typeof FileStatus];

/** Statuses after which a file takes no more chunks. */
export const FINAL_STATUSES: readonly FileStatus[] = ['ready', 'rejected', 'failed'];

/** One file as described by the client at initiate. Nothing here is trusted. */
export interface FileDescriptor {
  name: string;
  size: number;
  /** MIME type as the browser reports it; may be empty. */
  type: string;
  lastModified?: number;
  /** Content hash (see content-hash.ts), lowercase hex; enables dedupe. */
  contentHash?: string;
}

/** Free-form client metadata: string keys to string values. */
export type UploadMetadata = Record<string, string>;

/** `POST /initiate` request body. */
export interface InitiateRequest {
  files: FileDescriptor[];
  metadata?: UploadMetadata;
}

/** One file in the initiate response. */
export interface InitiatedFile {
  fileId: string;
  name: string;
  size: number;
  totalChunks: number;
  status: FileStatus;
  /** Set when the same user already has a ready file with this content: nothing needs sending. */
  duplicateOf?: string;
}

/** `POST /initiate` response body (201). */
export interface InitiateResponse {
  sessionId: string;
  expiresAt: string;
  chunkSize: number;
  files: InitiatedFile[];
}

/** Progress of one file, as the server sees it. */
export interface UploadProgress {
  fileId: string;
  status: FileStatus;
  /** Indices of the chunks the server holds, ascending. */
  receivedChunks: number[];
  receivedBytes: number;
  totalChunks: number;
}

/** A file of a session (`GET /session/:sessionId`). */
export interface FileUpload extends UploadProgress {
  name: string;
  size: number;
  type: string;
  duplicateOf?: string;
  error?: FileError;
}

/** `GET /session/:sessionId` response body. */
export interface UploadSession {
  sessionId: string;
  createdAt: string;
  expiresAt: string;
  chunkSize: number;
  metadata: UploadMetadata;
  files: FileUpload[];
}

/** Why a file ended rejected or failed. */
export interface FileError {
  code: ErrorCode;
  message: string;
}

/** `POST /chunk` response body. */
export interface ChunkResponse {
  fileId: string;
  chunkIndex: number;
  receivedBytes: number;
  status: FileStatus;
}

/** `GET /status/:fileId` response body. */
export interface FileStatusResponse {
  fileId: string;
  sessionId: string;
  name: string;
  size: number;
  status: FileStatus;
  receivedBytes: number;
  /** MIME type found from the file's bytes after assembly. */
  detectedType?: string;
  /** The allowed type the file was recognised as. */
  fileType?: FileTypeId;
  contentHash?: string;
  /** The virus scan's outcome, once it has one: `skipped` when the server has no scanner. */
  scan?: ScanOutcome;
  /** What the server read from the content (see metadata.ts); set once the file is assembled. */
  contentMetadata?: ExtractedMetadata;
  /** The session's client metadata, when not empty. */
  metadata?: UploadMetadata;
  error?: FileError;
}

/** `GET /:fileId/download` response body. */
export interface DownloadResponse {
  url: string;
  expiresAt: string;
}
