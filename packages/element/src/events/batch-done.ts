import type { Upload } from '@file-uploader/sdk';

/** Detail of {@link BatchDoneEvent}. */
export interface BatchDoneDetail {
  /** Every upload of the batch, in the order added. */
  readonly uploads: readonly Upload[];
  /** Server ids of the files that ended ready. */
  readonly fileIds: readonly string[];
  /** How many ended failed or rejected. */
  readonly failed: number;
}

/** Nothing of the current batch is running any more: each upload ended or failed. */
export class BatchDoneEvent extends Event {
  constructor(readonly detail: BatchDoneDetail) {
    super('batch-done', { bubbles: true, composed: true });
  }
}

declare global {
  interface GlobalEventHandlersEventMap {
    'batch-done': BatchDoneEvent;
  }
}
