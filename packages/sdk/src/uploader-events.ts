import type { Upload } from './upload.js';
import type { UploadState } from './upload-state.js';

/** An event about one upload. */
export class UploadEvent extends Event {
  constructor(
    type: keyof UploaderEventMap,
    readonly upload: Upload,
    /** For `state`: the state the upload left. */
    readonly previous?: UploadState,
  ) {
    super(type);
  }
}

/** Events of an Uploader. */
export interface UploaderEventMap {
  /** An upload changed state (`event.upload.state`; `event.previous`). */
  state: UploadEvent;
  /** An upload's progress moved (throttled). */
  progress: UploadEvent;
  /** No upload is running any more. */
  idle: UploadEvent;
}
