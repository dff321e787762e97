import type { ReactiveController, ReactiveControllerHost } from 'lit';
import type { Strings } from './strings.js';
import { isUnfinished } from './file-entry.js';
import type { UploadController } from './upload-controller.js';

/**
 * The element's part in its form (ElementInternals): the value is the uploaded files' ids, one
 * FormData entry each under `name`; the field is invalid while uploads are unfinished (a form
 * sent then would miss them) and, when required, until a file is uploaded.
 */
export class FormController implements ReactiveController {
  /** Set by `formDisabledCallback` (a disabled fieldset or form). */
  formDisabled = false;
  #valueKey?: string;

  constructor(
    host: ReactiveControllerHost,
    private readonly internals: ElementInternals,
    private readonly uploads: UploadController,
  ) {
    host.addController(this);
  }

  hostConnected(): void {
    this.#valueKey = undefined; // A new form may hold the element now.
  }

  /** Ids of the uploaded files, in list order. */
  get fileIds(): string[] {
    return this.uploads.entries.flatMap(({ upload }) =>
      upload?.state === 'ready' && upload.fileId ? [upload.fileId] : [],
    );
  }

  /** Brings the form value and validity in line with the list. */
  sync(name: string, required: boolean, strings: Strings, anchor?: HTMLElement): void {
    const ids = this.fileIds;
    const key = `${name}\n${ids.join('\n')}`;
    if (key !== this.#valueKey) {
      this.#valueKey = key;
      if (name && ids.length > 0) {
        const data = new FormData();
        for (const id of ids) data.append(name, id);
        this.internals.setFormValue(data);
      } else {
        this.internals.setFormValue(null);
      }
    }
    if (this.uploads.entries.some(isUnfinished)) {
      this.internals.setValidity({ customError: true }, strings.validityUnfinished, anchor);
    } else if (required && ids.length === 0) {
      this.internals.setValidity({ valueMissing: true }, strings.validityRequired, anchor);
    } else {
      this.internals.setValidity({});
    }
  }
}
