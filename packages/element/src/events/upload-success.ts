import type { FileStatusResponse } from '@file-uploader/protocol';
import type { Upload } from '@file-uploader/sdk';

/** Detail of {@link UploadSuccessEvent}. */
export interface UploadSuccessDetail {
  readonly file: File;
  readonly upload: Upload;
  /** The server's id of the stored file: what the form value carries. */
  readonly fileId: string;
  /** The server's last word on the file (`status: 'ready'`). */
  readonly result: FileStatusResponse;
}

/** A file is stored on the server and ready. */
export class UploadSuccessEvent extends Event {
  constructor(readonly detail: UploadSuccessDetail) {
    super('upload-success', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'upload-success': UploadSuccessEvent;
  }
}
