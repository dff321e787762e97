export { FileUploader } from './file-uploader.js';
export { UploadController } from './upload-controller.js';
export type { UploadHost } from './upload-controller.js';
export { DropController, DropState } from './drop-controller.js';
export type { DropOptions } from './drop-controller.js';
export { FormController } from './form-controller.js';
export { LiveAnnouncer } from './live-announcer.js';
export { ResumeController } from './resume-controller.js';
export type { ResumeHost } from './resume-controller.js';
export { EntryState, entryState } from './file-entry.js';
export type { FileEntry } from './file-entry.js';
export { RowAction } from './file-row.js';
export { en, t, tn } from './strings.js';
export { de } from './strings-de.js';
export type { Strings, StringKey } from './strings.js';
export {
  RejectionCode,
  parseAccept,
  parseSize,
  validateFiles,
  nearLimit,
  dragVerdict,
} from './validation.js';
export type { ValidationRules, Rejection } from './validation.js';
export { formatBytes, formatSpeed, formatDuration, formatPercent } from './format.js';
export { filesFromDataTransfer } from './drop-entries.js';
export { makeThumbnail } from './thumbnail.js';
export { fileIcon } from './file-icons.js';
export { removeUploaded } from './remove-uploaded.js';
export { FilesAddedEvent } from './events/files-added.js';
export type { FilesAddedDetail } from './events/files-added.js';
export { FileRejectedEvent } from './events/file-rejected.js';
export type { FileRejectedDetail } from './events/file-rejected.js';
export { UploadStartEvent } from './events/upload-start.js';
export type { UploadStartDetail } from './events/upload-start.js';
export { UploadProgressEvent } from './events/upload-progress.js';
export type { UploadProgressDetail } from './events/upload-progress.js';
export { UploadSuccessEvent } from './events/upload-success.js';
export type { UploadSuccessDetail } from './events/upload-success.js';
export { UploadErrorEvent } from './events/upload-error.js';
export type { UploadErrorDetail } from './events/upload-error.js';
export { BatchDoneEvent } from './events/batch-done.js';
export type { BatchDoneDetail } from './events/batch-done.js';
