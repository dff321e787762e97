import { html, nothing, type TemplateResult } from 'lit';
import type { DropController } from './drop-controller.js';
import { formatBytes } from './format.js';
import { t, type StringKey, type Strings } from './strings.js';
import { allowedTypes, describeTypes, type ValidationRules } from './validation.js';

const UPLOAD_ICON = html`<svg
  viewBox="0 0 24 24"
  aria-hidden="true"
  fill="none"
  stroke="currentColor"
  stroke-width="1.5"
>
  <path d="M12 16V4m0 0-4 4m4-4 4 4M4 16v3a1 1 0 0 0 1 1h14a1 1 0 0 0 1-1v-3" />
</svg>`;

export interface DropZoneContext {
  strings: Strings;
  locale: string;
  rules: ValidationRules;
  disabled: boolean;
  /** A dropped folder is being read. */
  reading: boolean;
  drop: DropController;
  browse(): void;
  picked(event: Event): void;
}

/** Allowed types and limits, as one line. */
function hints({ strings, locale, rules }: DropZoneContext): string {
  const lines = [t(strings, 'hintTypes', { types: describeTypes(allowedTypes(rules.accept)) })];
  const size = (max: number) => ({ max: formatBytes(max, locale) });
  if (rules.maxFileSize) lines.push(t(strings, 'hintFileSize', size(rules.maxFileSize)));
  if (rules.maxTotalSize) lines.push(t(strings, 'hintTotalSize', size(rules.maxTotalSize)));
  if (rules.maxFiles) lines.push(t(strings, 'hintCount', { max: rules.maxFiles }));
  return lines.join(' · ');
}

const LABELS: Record<string, StringKey> = {
  idle: 'dropIdle',
  accept: 'dropAccept',
  unknown: 'dropUnknown',
  reject: 'dropReject',
  disabled: 'dropDisabled',
};

/**
 * The drop target: states idle, accept, reject and disabled; a click anywhere (or the browse
 * button, by keyboard) opens the real file input beside it.
 */
export function renderDropZone(context: DropZoneContext): TemplateResult {
  const { strings, rules, disabled, drop } = context;
  const state = disabled ? 'disabled' : drop.state;
  const label = context.reading && !disabled ? 'dropReading' : (LABELS[state] ?? 'dropIdle');
  return html`<div
      part="drop-zone"
      class="drop-zone"
      role="group"
      aria-label=${t(strings, 'dropZoneLabel')}
      data-state=${state}
      @dragenter=${drop.dragenter}
      @dragover=${drop.dragover}
      @dragleave=${drop.dragleave}
      @drop=${drop.drop}
      @click=${context.browse}
    >
      <slot name="drop-zone">${UPLOAD_ICON}</slot>
      <span part="drop-zone-label">${t(strings, label)}</span>
      <button part="browse-button" class="primary" type="button" ?disabled=${disabled}>
        ${t(strings, 'browse')}
      </button>
      <span part="hint" class="muted">${hints(context)}</span>
    </div>
    <input
      id="input"
      class="visually-hidden"
      type="file"
      multiple
      tabindex="-1"
      aria-hidden="true"
      accept=${rules.accept.join(',') || nothing}
      aria-label=${t(strings, 'browse')}
      ?disabled=${disabled}
      @change=${context.picked}
    />`;
}
