import type { RejectionCode } from '../validation.js';

/** Detail of {@link FileRejectedEvent}. */
export interface FileRejectedDetail {
  readonly file: File;
  /** Why, as a code (`type`, `content`, `file-size`, `total-size`, `count`, `empty`). */
  readonly code: RejectionCode;
  /** The message shown to the user, in the element's language. */
  readonly message: string;
}

/** A file was refused before any byte of it was sent. */
export class FileRejectedEvent extends Event {
  constructor(readonly detail: FileRejectedDetail) {
    super('file-rejected', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'file-rejected': FileRejectedEvent;
  }
}
