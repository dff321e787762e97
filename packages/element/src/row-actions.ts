import type { ReactiveControllerHost } from 'lit';
import type { FileEntry } from './file-entry.js';
import type { RowAction } from './file-row.js';
import type { LiveAnnouncer } from './live-announcer.js';
import { t, type Strings } from './strings.js';
import type { UploadController } from './upload-controller.js';

export interface RowActionsHost extends ReactiveControllerHost {
  readonly renderRoot: HTMLElement | DocumentFragment;
}

/**
 * What a row's buttons do, and where focus goes after: it stays on the row (pause -> resume),
 * moves into the removal confirmation and back, and after a removal goes to the row that took
 * the removed one's place, else the one before, else the browse button.
 */
export class RowActions {
  constructor(
    private readonly host: RowActionsHost,
    private readonly uploads: UploadController,
    private readonly announcer: LiveAnnouncer,
    private readonly strings: () => Strings,
  ) {}

  readonly act = (entry: FileEntry, action: RowAction): void => {
    const upload = entry.upload;
    const name = entry.file.name;
    if (action === 'pause' && upload) {
      upload.pause();
      this.announcer.say(t(this.strings(), 'announcePaused', { name }));
      this.#focus(`#${entry.id} [data-action="resume"]`);
    } else if (action === 'resume' && upload) {
      upload.resume();
      this.announcer.say(t(this.strings(), 'announceResumed', { name }));
      this.#focus(`#${entry.id} [data-action="pause"]`);
    } else if (action === 'retry' && upload) {
      upload.retry();
      this.#focus(`#${entry.id} [data-action="pause"]`);
    } else if (action === 'remove' && upload?.state === 'ready') {
      entry.confirming = true; // Deleting a stored file asks first.
      this.host.requestUpdate();
      this.#focus(`#${entry.id} [data-action="confirm"]`);
    } else if (action === 'keep') {
      entry.confirming = false;
      this.host.requestUpdate();
      this.#focus(`#${entry.id} [data-action="remove"]`);
    } else if (action === 'remove' || action === 'confirm') {
      void this.#remove(entry);
    }
  };

  async #remove(entry: FileEntry): Promise<void> {
    const index = this.uploads.entries.indexOf(entry);
    const cancelled = entry.upload !== undefined && entry.upload.state !== 'ready';
    try {
      await this.uploads.remove(entry);
    } catch {
      entry.confirming = false;
      this.#focus(`#${entry.id} [data-action="remove"]`);
      return; // The row shows why.
    }
    const key = cancelled ? 'announceCancelled' : 'announceRemoved';
    this.announcer.say(t(this.strings(), key, { name: entry.file.name }));
    const next = this.uploads.entries[index] ?? this.uploads.entries[index - 1];
    this.#focus(next ? `#${next.id} [data-action]` : '[part="browse-button"]');
  }

  #focus(selector: string): void {
    void this.host.updateComplete.then(() =>
      this.host.renderRoot.querySelector<HTMLElement>(selector)?.focus(),
    );
  }
}
