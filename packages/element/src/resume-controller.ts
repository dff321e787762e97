import type { ResumableUpload } from '@file-uploader/sdk';
import { Task } from '@lit/task';
import { html, type ReactiveController, type ReactiveControllerHost } from 'lit';
import { renderResumeOffer } from './resume-offer.js';
import { errorKey, t, type Strings } from './strings.js';
import type { UploadController } from './upload-controller.js';

export interface ResumeHost extends ReactiveControllerHost {
  readonly renderRoot: HTMLElement | DocumentFragment;
  endpoint: string;
  persistFiles: boolean;
  uploaderOptions?: object;
}

/**
 * The offer to continue uploads an earlier page left unfinished: a Task over the SDK's
 * `resumable()`, re-run when the endpoint or the SDK options change.
 */
export class ResumeController implements ReactiveController {
  readonly #done = new Set<string>();
  readonly #errors = new Map<string, string>();
  #pickFor?: ResumableUpload;
  #strings!: Strings;

  readonly task: Task<readonly [string, object | undefined, boolean], ResumableUpload[]>;

  constructor(
    private readonly host: ResumeHost,
    private readonly uploads: UploadController,
  ) {
    host.addController(this);
    this.task = new Task(host, {
      task: ([endpoint]) => (endpoint ? uploads.uploader.resumable() : Promise.resolve([])),
      args: () => [host.endpoint, host.uploaderOptions, host.persistFiles] as const,
    });
  }

  hostConnected(): void {}

  /** Uploads still on offer. */
  get pending(): ResumableUpload[] {
    return (this.task.value ?? []).filter((p) => !this.#done.has(p.record.key));
  }

  /** Kept bytes resume at once; otherwise the file chooser asks for the same file. */
  #resume = (pending: ResumableUpload): void => {
    if (pending.persisted) {
      void this.#continue(pending);
      return;
    }
    this.#pickFor = pending;
    this.host.renderRoot.querySelector<HTMLInputElement>('#resume-input')?.click();
  };

  async #continue(pending: ResumableUpload, file?: File): Promise<void> {
    const { key, name } = pending.record;
    try {
      await this.uploads.resume(pending, file);
      this.#done.add(key);
      this.#errors.delete(key);
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'internal';
      this.#errors.set(
        key,
        code === 'file_changed' && file
          ? t(this.#strings, 'resumeMismatch', { picked: file.name, name })
          : t(this.#strings, errorKey(code), { message: (err as Error).message }),
      );
    }
    this.host.requestUpdate();
  }

  /** Forgets the unfinished uploads on offer, and only those: running uploads keep theirs. */
  #discard = async (): Promise<void> => {
    const pending = this.pending;
    for (const upload of pending) this.#done.add(upload.record.key);
    this.host.requestUpdate();
    await Promise.all(pending.map((upload) => upload.discard()));
  };

  #picked = (event: Event): void => {
    const input = event.target as HTMLInputElement;
    const file = input.files?.[0];
    input.value = ''; // The same file can be picked again after a mismatch.
    if (this.#pickFor && file) void this.#continue(this.#pickFor, file);
  };

  render(strings: Strings, locale: string, disabled: boolean) {
    this.#strings = strings;
    return html`${renderResumeOffer(this.pending, {
        strings,
        locale,
        disabled,
        errors: this.#errors,
        resume: this.#resume,
        discard: this.#discard,
      })}
      <input
        id="resume-input"
        class="visually-hidden"
        type="file"
        tabindex="-1"
        aria-label=${t(strings, 'resumeOfferResume')}
        @change=${this.#picked}
      />`;
  }
}
