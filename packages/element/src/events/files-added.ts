/** Detail of {@link FilesAddedEvent}. */
export interface FilesAddedDetail {
  /** The files that passed validation and were queued for upload. */
  readonly files: readonly File[];
}

/** Files passed validation and were queued (one event per pick, drop or paste). */
export class FilesAddedEvent extends Event {
  constructor(readonly detail: FilesAddedDetail) {
    super('files-added', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'files-added': FilesAddedEvent;
  }
}
