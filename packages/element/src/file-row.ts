import { html, nothing, type TemplateResult } from 'lit';
import { entryState, type FileEntry } from './file-entry.js';
import { fileIcon } from './file-icons.js';
import { formatBytes, formatDuration, formatPercent, formatSpeed } from './format.js';
import { errorKey, stateKeys, t, type StringKey, type Strings } from './strings.js';

/** What a row's buttons do. */
export const RowAction = {
  pause: 'pause',
  resume: 'resume',
  retry: 'retry',
  /** Asks first for uploaded files, removes at once otherwise. */
  remove: 'remove',
  /** Confirms the removal of an uploaded file. */
  confirm: 'confirm',
  /** Closes the confirmation and keeps the file. */
  keep: 'keep',
} as const;

export type RowAction = (typeof RowAction)[keyof typeof RowAction];

export interface RowContext {
  strings: Strings;
  locale: string;
  disabled: boolean;
  act(entry: FileEntry, action: RowAction): void;
}

/** States in which the row shows a progress bar. */
const MOVING = new Set(['queued', 'checking', 'uploading', 'paused', 'assembling', 'scanning']);

/** The reason shown under a failed, rejected or refused file. */
function reason(entry: FileEntry, strings: Strings): string | undefined {
  if (entry.refusal) return entry.refusal.message;
  const error = entry.upload?.error;
  const state = entryState(entry);
  if (!error || (state !== 'failed' && state !== 'rejected')) return undefined;
  return t(strings, errorKey(error.code), { message: error.message });
}

function button(
  entry: FileEntry,
  context: RowContext,
  action: RowAction,
  label: StringKey,
  name: StringKey,
  style = '',
): TemplateResult {
  const { strings } = context;
  return html`<button
    type="button"
    part="button ${action}-button"
    class=${style}
    data-action=${action}
    aria-label=${t(strings, name, { name: entry.file.name })}
    ?disabled=${context.disabled || entry.removing === true}
    @click=${() => context.act(entry, action)}
  >
    ${t(strings, label)}
  </button>`;
}

function actions(entry: FileEntry, context: RowContext): TemplateResult {
  const { strings } = context;
  if (entry.confirming) {
    return html`<div
      part="confirm"
      class="confirm"
      role="group"
      aria-labelledby="${entry.id}-confirm"
    >
      <span id="${entry.id}-confirm"
        >${t(strings, 'confirmRemove', { name: entry.file.name })}</span
      >
      ${button(entry, context, 'confirm', 'confirmRemoveYes', 'removeFile', 'danger')}
      ${button(entry, context, 'keep', 'confirmRemoveNo', 'confirmRemoveNo')}
    </div>`;
  }
  const state = entryState(entry);
  const upload = entry.upload;
  const running = ['queued', 'checking', 'uploading'].includes(state);
  const ended = state === 'refused' || state === 'rejected' || state === 'cancelled';
  return html`<div part="actions" class="actions">
    ${running && upload ? button(entry, context, 'pause', 'pause', 'pauseFile') : nothing}
    ${state === 'paused' ? button(entry, context, 'resume', 'resume', 'resumeFile') : nothing}
    ${state === 'failed' ? button(entry, context, 'retry', 'retry', 'retryFile') : nothing}
    ${
      ended
        ? button(entry, context, 'remove', 'remove', 'removeFile')
        : button(
            entry,
            context,
            'remove',
            state === 'ready' ? 'remove' : 'cancel',
            state === 'ready' ? 'removeFile' : 'cancelFile',
          )
    }
  </div>`;
}

function progress(entry: FileEntry, context: RowContext): TemplateResult {
  const { strings, locale } = context;
  const { confirmedBytes, inFlightBytes, totalBytes, bytesPerSecond, etaSeconds } = (
    entry.upload as NonNullable<FileEntry['upload']>
  ).progress;
  const sent = Math.min(totalBytes, confirmedBytes + inFlightBytes);
  const fraction = totalBytes > 0 ? sent / totalBytes : 0;
  const percent = formatPercent(fraction, locale);
  const uploading = entryState(entry) === 'uploading';
  const stats = [
    percent,
    t(strings, 'fileProgress', {
      sent: formatBytes(sent, locale),
      size: formatBytes(totalBytes, locale),
    }),
    uploading && bytesPerSecond > 0
      ? t(strings, 'speed', { speed: formatSpeed(bytesPerSecond, locale) })
      : '',
    uploading && etaSeconds !== undefined
      ? t(strings, 'timeLeft', { time: formatDuration(etaSeconds, locale) })
      : '',
  ].filter(Boolean);
  return html`<div
      part="progress"
      class="progress"
      role="progressbar"
      aria-label=${entry.file.name}
      aria-valuemin="0"
      aria-valuemax="100"
      aria-valuenow=${Math.floor(fraction * 100)}
      aria-valuetext=${percent}
    >
      <div part="progress-bar" class="bar" style="--fu-fraction: ${fraction}"></div>
    </div>
    <span part="stats" class="stats muted">${stats.join(' · ')}</span>`;
}

/** One file of the list: preview, name, size and type, state, progress and actions. */
export function renderFileRow(entry: FileEntry, context: RowContext): TemplateResult {
  const { strings, locale } = context;
  const { file } = entry;
  const state = entryState(entry);
  const label: StringKey = entry.upload ? stateKeys[entry.upload.state] : 'stateRejected';
  const why = reason(entry, strings);
  const type = entry.typeId?.toUpperCase() ?? (file.type || '—');
  return html`<li part="item" class="item" id=${entry.id} data-state=${state}>
    <div part="preview" class="preview">
      ${
        entry.thumbnail
          ? html`<img part="thumbnail" src=${entry.thumbnail} alt="" />`
          : html`<span part="icon">${fileIcon(entry.typeId)}</span>`
      }
    </div>
    <div class="info">
      <span part="name" class="name" title=${file.name}>${file.name}</span>
      <span part="meta" class="meta muted">${formatBytes(file.size, locale)} · ${type}</span>
      <span part="state" class="state" data-state=${state}>${t(strings, label)}</span>
      ${why ? html`<span part="message" class="error">${why}</span>` : nothing}
      ${
        entry.removeError
          ? html`<span part="message" class="error">${entry.removeError}</span>`
          : nothing
      }
      ${entry.upload && MOVING.has(state) ? progress(entry, context) : nothing}
    </div>
    ${actions(entry, context)}
  </li>`;
}
