export { API_PREFIX, ROUTES, SERVICE_ROUTES, routePath } from './routes.js';
export type { RouteName } from './routes.js';
export { HEADERS, CONFIRM_DELETE } from './headers.js';
export {
  CHUNK_SIZE_UNIT,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_SESSION_BYTES,
  DEFAULT_MAX_FILES,
  SESSION_TTL_MS,
  MAX_NAME_LENGTH,
  totalChunks,
  chunkRange,
} from './limits.js';
export { ERROR_CODES, statusOf, isErrorCode, isErrorBody } from './errors.js';
export type { ErrorCode, ErrorBody, ProtocolError } from './errors.js';
export { FileStatus, FINAL_STATUSES } from './types.js';
export type {
  FileDescriptor,
  UploadMetadata,
  InitiateRequest,
  InitiatedFile,
  InitiateResponse,
  UploadProgress,
  FileUpload,
  UploadSession,
  FileError,
  ChunkResponse,
  FileStatusResponse,
  DownloadResponse,
} from './types.js';
export {
  FILE_TYPES,
  DEFAULT_ALLOWED_TYPES,
  SNIFF_BYTES,
  sniffContainer,
  typesForHead,
  extensionOf,
  claimedType,
  resolveFileType,
} from './file-types.js';
export type { FileTypeId, Container } from './file-types.js';
export {
  formatContentDigest,
  parseContentDigest,
  formatContentRange,
  parseContentRange,
} from './digest.js';
export type { ContentRange } from './digest.js';
export {
  CONTENT_HASH_BLOCK_SIZE,
  CONTENT_HASH_PATTERN,
  toHex,
  concatBlockDigests,
} from './content-hash.js';
export { MAX_METADATA_TEXT, MetadataWarningCode } from './metadata.js';
export type {
  MetadataWarning,
  GpsPosition,
  ExifData,
  ImageMetadata,
  PdfMetadata,
  DocumentProperties,
  DocxMetadata,
  XlsxMetadata,
  DocMetadata,
  XlsMetadata,
  FileMetadata,
  ExtractedMetadata,
} from './metadata.js';
export {
  EVENT_SCHEMA_VERSION,
  UploadEventType,
  isUploadEvent,
  fileEventId,
  sessionCompletedId,
} from './events.js';
export type {
  UploadEvent,
  UploadEventOf,
  UploadEventDataMap,
  FileEventData,
  AssembledEventData,
  ScannedEventData,
  RejectedEventData,
  ScanOutcome,
  SessionFileOutcome,
  SessionCompletedData,
} from './events.js';
