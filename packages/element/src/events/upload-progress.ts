import type { Upload, UploadProgress } from '@file-uploader/sdk';

/** Detail of {@link UploadProgressEvent}. */
export interface UploadProgressDetail {
  readonly file: File;
  readonly upload: Upload;
  /** A snapshot: confirmed and in-flight bytes, total, speed and time left. */
  readonly progress: UploadProgress;
}

/** An upload's bytes moved (throttled by the SDK's `progressIntervalMs`). */
export class UploadProgressEvent extends Event {
  constructor(readonly detail: UploadProgressDetail) {
    super('upload-progress', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'upload-progress': UploadProgressEvent;
  }
}
