import type { ResumableUpload } from '@file-uploader/sdk';
import { html, nothing, type TemplateResult } from 'lit';
import { formatBytes } from './format.js';
import { t, tn, type Strings } from './strings.js';

export interface ResumeOfferContext {
  strings: Strings;
  locale: string;
  disabled: boolean;
  /** Why resuming an upload failed (a different file was picked), by record key. */
  errors: ReadonlyMap<string, string>;
  /** Continue at once (bytes kept) or ask for the file. */
  resume(pending: ResumableUpload): void;
  discard(): void;
}

/**
 * The offer to continue uploads an earlier page left unfinished. Kept bytes resume with one
 * click; otherwise the user picks the same file, which the SDK checks before sending.
 */
export function renderResumeOffer(
  pending: readonly ResumableUpload[],
  context: ResumeOfferContext,
): TemplateResult | typeof nothing {
  if (pending.length === 0) return nothing;
  const { strings, locale } = context;
  return html`<section part="resume-offer" class="offer" aria-labelledby="resume-title">
    <p id="resume-title" class="summary">${tn(strings, 'resumeOffer', pending.length)}</p>
    <ul>
      ${pending.map((item) => {
        const { name, size } = item.record;
        const error = context.errors.get(item.record.key);
        return html`<li part="resume-item">
          <span>${name} · ${formatBytes(size, locale)}</span>
          ${
            item.persisted
              ? html`<button
                  type="button"
                  part="button resume-button"
                  class="primary"
                  aria-label=${t(strings, 'resumeFile', { name })}
                  ?disabled=${context.disabled}
                  @click=${() => context.resume(item)}
                >
                  ${t(strings, 'resumeOfferResume')}
                </button>`
              : html`<span class="muted">${t(strings, 'resumePickAgain', { name })}</span>
                  <button
                    type="button"
                    part="button pick-button"
                    class="primary"
                    ?disabled=${context.disabled}
                    @click=${() => context.resume(item)}
                  >
                    ${t(strings, 'resumePickButton', { name })}
                  </button>`
          }
          ${error ? html`<span part="message" class="error">${error}</span>` : nothing}
        </li>`;
      })}
    </ul>
    <div>
      <button
        type="button"
        part="button discard-button"
        ?disabled=${context.disabled}
        @click=${context.discard}
      >
        ${t(strings, 'resumeOfferDiscard')}
      </button>
    </div>
  </section>`;
}
