import type { Upload } from '@file-uploader/sdk';

/** Detail of {@link UploadStartEvent}. */
export interface UploadStartDetail {
  readonly file: File;
  /** The SDK's upload, live: its state and progress change as it goes. */
  readonly upload: Upload;
  /** True when the upload continues one left unfinished by an earlier page. */
  readonly resumed: boolean;
}

/** A file was handed to the SDK and its upload has begun. */
export class UploadStartEvent extends Event {
  constructor(readonly detail: UploadStartDetail) {
    super('upload-start', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'upload-start': UploadStartEvent;
  }
}
