import { API_PREFIX } from '@file-uploader/protocol';
import type { TokenProvider, UploaderOptions } from '@file-uploader/sdk';
import { html, LitElement, nothing, type PropertyValues } from 'lit';
import { property } from 'lit/decorators.js';
import { DropController } from './drop-controller.js';
import { FileRejectedEvent } from './events/file-rejected.js';
import { FilesAddedEvent } from './events/files-added.js';
import { isUnfinished, type FileEntry } from './file-entry.js';
import { renderFileRow } from './file-row.js';
import { RowActions } from './row-actions.js';
import { styles } from './file-uploader.styles.js';
import { FormController } from './form-controller.js';
import { formatBytes, formatPercent } from './format.js';
import { LiveAnnouncer } from './live-announcer.js';
import { ResumeController } from './resume-controller.js';
import { renderDropZone } from './drop-zone.js';
import { en, errorKey, rejectionMessage, t, tn, type Strings } from './strings.js';
import { UploadController } from './upload-controller.js';
import {
  nearLimit,
  parseAccept,
  parseSize,
  validateFiles,
  type ValidationRules,
} from './validation.js';

/**
 * A drop zone and file list that uploads through the file-uploader SDK: validation before any
 * byte is sent, chunked resumable uploads, previews, progress, and form participation.
 *
 * @tagname file-uploader
 * @summary Drop-in upload element: drag and drop, browse, paste; resumable chunked uploads.
 *
 * @event {FilesAddedEvent} files-added - Files passed validation and were queued.
 * @event {FileRejectedEvent} file-rejected - A file was refused before upload (`detail.code`, `detail.message`).
 * @event {UploadStartEvent} upload-start - A file was handed to the SDK (`detail.upload`).
 * @event {UploadProgressEvent} upload-progress - Bytes moved (`detail.progress`).
 * @event {UploadSuccessEvent} upload-success - A file is stored and ready (`detail.fileId`).
 * @event {UploadErrorEvent} upload-error - An upload failed or the server rejected the file.
 * @event {BatchDoneEvent} batch-done - Every upload of the batch has ended or failed.
 *
 * @slot drop-zone - Content of the drop zone, replacing the icon and text.
 * @slot empty - Shown while the list is empty.
 *
 * @csspart base - The wrapper of everything.
 * @csspart drop-zone - The drop target.
 * @csspart drop-zone-label - The drop zone's text.
 * @csspart browse-button - The button that opens the file picker.
 * @csspart hint - Allowed types and limits.
 * @csspart warning - The warning that the total size nears its limit.
 * @csspart summary - The overall progress line.
 * @csspart list - The file list.
 * @csspart item - One file of the list.
 * @csspart preview - The thumbnail or icon box.
 * @csspart thumbnail - An image's thumbnail.
 * @csspart icon - The icon of a file without thumbnail.
 * @csspart name - A file's name.
 * @csspart meta - A file's size and type.
 * @csspart state - A file's state label.
 * @csspart message - Why a file was refused or failed.
 * @csspart progress - A file's progress track (role progressbar).
 * @csspart progress-bar - The filled part of the track.
 * @csspart stats - Percent, bytes, speed and time left.
 * @csspart actions - A file's buttons.
 * @csspart button - Every button of a file or of the resume offer.
 * @csspart pause-button - Pause.
 * @csspart resume-button - Resume (a file, or an upload of the resume offer).
 * @csspart retry-button - Retry.
 * @csspart remove-button - Remove, cancel or dismiss.
 * @csspart confirm - The removal confirmation.
 * @csspart confirm-button - Confirms the removal.
 * @csspart keep-button - Closes the confirmation.
 * @csspart empty - The empty state's wrapper.
 * @csspart resume-offer - The offer to resume unfinished uploads.
 * @csspart resume-item - One upload of the resume offer.
 * @csspart pick-button - Asks for a file again to resume it.
 * @csspart discard-button - Forgets the unfinished uploads.
 *
 * @cssproperty [--fu-font=inherit] - Font.
 * @cssproperty [--fu-color=#1f2328] - Text color (dark: #e6edf3).
 * @cssproperty [--fu-background=#ffffff] - Background (dark: #0d1117).
 * @cssproperty [--fu-muted=#59636e] - Secondary text (dark: #9198a1).
 * @cssproperty [--fu-border-color=#d1d9e0] - Borders and progress track (dark: #3d444d).
 * @cssproperty [--fu-accent=#0969da] - Accent: progress, focus, active drop zone (dark: #4493f8).
 * @cssproperty [--fu-accent-contrast=#ffffff] - Text on the accent.
 * @cssproperty [--fu-danger=#d1242f] - Errors and refused drags (dark: #f85149).
 * @cssproperty [--fu-success=#1a7f37] - Uploaded files (dark: #3fb950).
 * @cssproperty [--fu-warning=#9a6700] - The near-limit warning (dark: #d29922).
 * @cssproperty [--fu-drop-background=#f6f8fa] - Drop zone background.
 * @cssproperty [--fu-drop-active-background=#ddf4ff] - Drop zone while acceptable files hover.
 * @cssproperty [--fu-drop-refused-background=#ffebe9] - Drop zone while refused files hover.
 * @cssproperty [--fu-radius=8px] - Corner radius.
 * @cssproperty [--fu-gap=0.75rem] - Spacing.
 * @cssproperty [--fu-progress-height=6px] - Height of progress bars.
 * @cssproperty [--fu-thumbnail-size=48px] - Size of previews.
 * @cssproperty [--fu-transition=150ms ease-out] - Transitions (none under prefers-reduced-motion).
 *
 * @cssstate dragging - Files are dragged over the drop zone.
 * @cssstate refusing - The dragged files would be refused.
 * @cssstate uploading - Uploads are unfinished.
 */
export class FileUploader extends LitElement {
  static override styles = styles;
  static formAssociated = true;
  static override shadowRootOptions = { ...LitElement.shadowRootOptions, delegatesFocus: true };

  /** Text tables by lowercase language tag; English is built in. */
  static readonly #locales = new Map<string, Partial<Strings>>();
  static readonly #connected = new Set<FileUploader>();

  /**
   * Adds the texts of a language (`de`, `pt-br`), picked by `locale` or the nearest `lang`:
   * an exact tag first, then its language (`de-AT` → `de`). Missing texts fall back to English.
   * Elements already on the page switch at once. German ships as
   * `@file-uploader/element/locales/de` (or `file-uploader-de.js` beside the one-file bundle),
   * which calls this when imported.
   */
  static addLocale(tag: string, strings: Partial<Strings>): void {
    FileUploader.#locales.set(tag.toLowerCase(), strings);
    for (const element of FileUploader.#connected) element.requestUpdate();
  }

  /** Base URL of the upload protocol's routes. */
  @property() endpoint = API_PREFIX;
  /** Allowed types: extensions, MIME types and wildcards (`.pdf,.docx,image/*`); empty allows every type the server knows. */
  @property() accept = '';
  /** Largest file: bytes or a size with unit (`10MB`, `1.5 GiB`). */
  @property({ attribute: 'max-file-size' }) maxFileSize = '';
  /** Largest total of all files in the list (`100MB`). */
  @property({ attribute: 'max-total-size' }) maxTotalSize = '';
  /** Most files in the list. */
  @property({ attribute: 'max-files', type: Number }) maxFiles?: number;
  @property({ type: Boolean, reflect: true }) disabled = false;
  /** Form field name: the form gets one entry per uploaded file id under it. */
  @property({ reflect: true }) name = '';
  /** The form is invalid until at least one file is uploaded. */
  @property({ type: Boolean, reflect: true }) required = false;
  /** Language of texts and numbers (`en`, `de`, ...); default: the nearest `lang`, then the browser's. */
  @property() locale = '';
  /** Keep files' bytes in IndexedDB so a reload resumes without picking the files again. */
  @property({ attribute: 'persist-files', type: Boolean }) persistFiles = false;
  /** Returns a bearer token; called again with `refresh = true` after a 401. */
  @property({ attribute: false }) getToken?: TokenProvider;
  /** Replaces any of the texts (merged over the built-in table of the locale). */
  @property({ attribute: false }) strings?: Partial<Strings>;
  /** Further SDK options (concurrency, retry, resume store, ...). */
  @property({ attribute: false }) uploaderOptions?: Partial<
    Omit<UploaderOptions, 'endpoint' | 'getToken'>
  >;

  readonly #internals = this.attachInternals();
  readonly #uploads = new UploadController(this);
  readonly #announcer = new LiveAnnouncer(this);
  readonly #form = new FormController(this, this.#internals, this.#uploads);
  readonly #drop = new DropController(this, {
    rules: () => this.#rules,
    disabled: () => this.#disabled,
    dropped: (files) => void this.addFiles(files),
    failed: (error) => this.#announcer.say((error as Error).message),
  });
  readonly #resume = new ResumeController(this, this.#uploads);
  readonly #actions = new RowActions(this, this.#uploads, this.#announcer, () => this.#strings);
  #adding: Promise<void> = Promise.resolve();

  constructor() {
    super();
    this.addEventListener('paste', (event) => {
      const files = event.clipboardData?.files;
      if (!files?.length || this.#disabled) return;
      event.preventDefault();
      void this.addFiles(Array.from(files));
    });
    this.addEventListener('upload-success', (e) => this.#say('announceReady', e.detail.file.name));
    this.addEventListener('upload-error', (e) =>
      this.#announcer.say(
        t(this.#strings, 'announceFailed', {
          name: e.detail.file.name,
          reason: t(this.#strings, errorKey(e.detail.error.code), {
            message: e.detail.error.message,
          }),
        }),
      ),
    );
    this.addEventListener('upload-progress', () => this.#announcer.progress(this.#overallBytes()));
    this.addEventListener('batch-done', () => this.#say('announceAllDone'));
  }

  override connectedCallback(): void {
    super.connectedCallback();
    FileUploader.#connected.add(this);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    FileUploader.#connected.delete(this);
  }

  /** Ids of the uploaded files, in list order: the form value. */
  get value(): string[] {
    return this.#form.fileIds;
  }
  get form(): HTMLFormElement | null {
    return this.#internals.form;
  }
  get validity(): ValidityState {
    return this.#internals.validity;
  }
  get validationMessage(): string {
    return this.#internals.validationMessage;
  }
  get willValidate(): boolean {
    return this.#internals.willValidate;
  }
  checkValidity(): boolean {
    return this.#internals.checkValidity();
  }
  reportValidity(): boolean {
    return this.#internals.reportValidity();
  }

  /** Form reset: unfinished uploads are cancelled and the list is emptied. */
  formResetCallback(): void {
    this.#uploads.clear();
  }
  formDisabledCallback(disabled: boolean): void {
    this.#form.formDisabled = disabled;
    this.requestUpdate();
  }

  /** The files of the list, with their SDK uploads. */
  get entries(): readonly FileEntry[] {
    return this.#uploads.entries;
  }

  /** Opens the file picker. */
  browse(): void {
    if (this.#disabled) return;
    this.renderRoot.querySelector<HTMLInputElement>('#input')?.click();
  }

  /** Validates files and queues those that pass, as if they were picked; resolves once listed. */
  addFiles(files: Iterable<File>): Promise<void> {
    const list = [...files];
    const run = this.#adding.then(() => this.#add(list));
    this.#adding = run.catch(() => undefined);
    return run;
  }

  async #add(files: File[]): Promise<void> {
    if (this.#disabled || files.length === 0) return;
    const { accepted, rejected } = await validateFiles(files, this.#rules, this.#uploads.totals);
    const strings = this.#strings;
    const refusals = rejected.map((r) => ({
      file: r.file,
      code: r.code,
      message: rejectionMessage(strings, r, this.#locale),
    }));
    this.#uploads.refuse(refusals);
    // Events are declared in the class comment; a variable keeps the manifest from guessing.
    const events: Event[] = refusals.map((refusal) => new FileRejectedEvent(refusal));
    if (accepted.length > 0) events.push(new FilesAddedEvent({ files: accepted }));
    for (const event of events) this.dispatchEvent(event);
    if (accepted.length > 0) this.#uploads.add(accepted);
    const news = refusals.map((r) => r.message);
    if (accepted.length > 0) news.unshift(tn(strings, 'announceAdded', accepted.length));
    this.#announcer.say(news.join(' '));
  }

  get #disabled(): boolean {
    return this.disabled || this.#form.formDisabled;
  }

  get #rules(): ValidationRules {
    const rules: ValidationRules = { accept: parseAccept(this.accept) };
    const maxFileSize = parseSize(String(this.maxFileSize));
    const maxTotalSize = parseSize(String(this.maxTotalSize));
    if (maxFileSize !== undefined) rules.maxFileSize = maxFileSize;
    if (maxTotalSize !== undefined) rules.maxTotalSize = maxTotalSize;
    if (this.maxFiles !== undefined && this.maxFiles > 0) rules.maxFiles = this.maxFiles;
    return rules;
  }

  get #locale(): string {
    return (
      this.locale ||
      this.closest<HTMLElement>('[lang]')?.lang ||
      (typeof navigator !== 'undefined' ? navigator.language : '') ||
      'en'
    );
  }

  get #strings(): Strings {
    const tag = this.#locale.toLowerCase();
    const locales = FileUploader.#locales;
    return { ...en, ...(locales.get(tag) ?? locales.get(tag.split('-')[0]!)), ...this.strings };
  }

  #say(key: 'announceReady' | 'announceAllDone', name = ''): void {
    this.#announcer.say(t(this.#strings, key, { name }));
  }

  #overallBytes(): string {
    const { sent, total } = this.#uploads.overall;
    const locale = this.#locale;
    return t(this.#strings, 'overallBytes', {
      sent: formatBytes(sent, locale),
      total: formatBytes(total, locale),
      percent: formatPercent(total > 0 ? sent / total : 0, locale),
    });
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    const anchor =
      this.renderRoot.querySelector<HTMLElement>('[part="browse-button"]') ?? undefined;
    this.#form.sync(this.name, this.required, this.#strings, anchor);
    this.#customState('dragging', this.#drop.state !== 'idle');
    this.#customState('refusing', this.#drop.state === 'reject');
    this.#customState('uploading', this.#uploads.entries.some(isUnfinished));
  }

  #customState(state: string, on: boolean): void {
    const states = this.#internals.states;
    if (on) states.add(state);
    else states.delete(state);
  }

  #picked = (event: Event): void => {
    const input = event.target as HTMLInputElement;
    const files = Array.from(input.files ?? []);
    input.value = ''; // The same file can be picked again.
    void this.addFiles(files);
  };

  protected override render() {
    const strings = this.#strings;
    const locale = this.#locale;
    const disabled = this.#disabled;
    const entries = this.#uploads.entries;
    const rules = this.#rules;
    const { totalBytes } = this.#uploads.totals;
    const { done, count } = this.#uploads.overall;
    const near = nearLimit(totalBytes, rules.maxTotalSize);
    const used = {
      used: formatBytes(totalBytes, locale),
      max: formatBytes(rules.maxTotalSize ?? 0, locale),
    };
    return html`<div part="base" class="base">
      ${this.#resume.render(strings, locale, disabled)}
      ${renderDropZone({
        strings,
        locale,
        rules,
        disabled,
        reading: this.#drop.reading,
        drop: this.#drop,
        browse: () => this.browse(),
        picked: this.#picked,
      })}
      ${near ? html`<p part="warning" class="warning">${t(strings, 'nearLimit', used)}</p>` : nothing}
      ${
        entries.length > 0
          ? html`<p part="summary" class="summary">
                ${tn(strings, 'overallFiles', count, { done })} · ${this.#overallBytes()}
              </p>
              <ul part="list" class="list" aria-label=${t(strings, 'fileListLabel')}>
                ${entries.map((entry) =>
                  renderFileRow(entry, { strings, locale, disabled, act: this.#actions.act }),
                )}
              </ul>`
          : html`<div part="empty" class="muted">
              <slot name="empty">${strings.emptyList}</slot>
            </div>`
      }
      <div class="visually-hidden" role="status" aria-live="polite">${this.#announcer.message}</div>
    </div>`;
  }
}
