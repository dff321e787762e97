import type { Upload, UploadError } from '@file-uploader/sdk';

/** Detail of {@link UploadErrorEvent}. */
export interface UploadErrorDetail {
  readonly file: File;
  readonly upload: Upload;
  /** `error.code` is a protocol error code or a client one (`network`, `file_changed`, ...). */
  readonly error: UploadError;
  /** `failed` can be retried; `rejected` (the server refused the file) cannot. */
  readonly state: 'failed' | 'rejected';
}

/** An upload failed or the server rejected the file. */
export class UploadErrorEvent extends Event {
  constructor(readonly detail: UploadErrorDetail) {
    super('upload-error', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'upload-error': UploadErrorEvent;
  }
}
