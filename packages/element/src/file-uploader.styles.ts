import { css } from 'lit';

/** Styles of `<file-uploader>`. Every color and size is a custom property set on :host. */
export const styles = css`
  :host {
    --fu-font: inherit;
    --fu-color: #1f2328;
    --fu-background: #ffffff;
    --fu-muted: #59636e;
    --fu-border-color: #d1d9e0;
    --fu-accent: #0969da;
    --fu-accent-contrast: #ffffff;
    --fu-danger: #d1242f;
    --fu-success: #1a7f37;
    --fu-warning: #9a6700;
    --fu-drop-background: #f6f8fa;
    --fu-drop-active-background: #ddf4ff;
    --fu-drop-refused-background: #ffebe9;
    --fu-radius: 8px;
    --fu-gap: 0.75rem;
    --fu-progress-height: 6px;
    --fu-thumbnail-size: 48px;
    --fu-transition: 150ms ease-out;
    display: block;
    font: var(--fu-font);
    color: var(--fu-color);
    background: var(--fu-background);
    border-radius: var(--fu-radius);
  }
  @media (prefers-color-scheme: dark) {
    :host {
      --fu-color: #e6edf3;
      --fu-background: #0d1117;
      --fu-muted: #9198a1;
      --fu-border-color: #3d444d;
      --fu-accent: #4493f8;
      --fu-accent-contrast: #0d1117;
      --fu-danger: #f85149;
      --fu-success: #3fb950;
      --fu-warning: #d29922;
      --fu-drop-background: #151b23;
      --fu-drop-active-background: #0c2d6b;
      --fu-drop-refused-background: #42191a;
    }
  }
  :host([hidden]) {
    display: none;
  }
  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }
  .base {
    display: grid;
    gap: var(--fu-gap);
  }
  .drop-zone {
    display: grid;
    justify-items: center;
    gap: calc(var(--fu-gap) / 2);
    padding: calc(var(--fu-gap) * 2);
    border: 2px dashed var(--fu-border-color);
    border-radius: var(--fu-radius);
    background: var(--fu-drop-background);
    text-align: center;
    cursor: pointer;
    transition:
      background var(--fu-transition),
      border-color var(--fu-transition);
  }
  .drop-zone[data-state='accept'],
  .drop-zone[data-state='unknown'] {
    border-color: var(--fu-accent);
    background: var(--fu-drop-active-background);
  }
  .drop-zone[data-state='reject'] {
    border-color: var(--fu-danger);
    background: var(--fu-drop-refused-background);
    cursor: no-drop;
  }
  .drop-zone[data-state='disabled'] {
    border-style: solid;
    cursor: not-allowed;
  }
  .drop-zone svg {
    width: 2rem;
    height: 2rem;
  }
  button {
    font: inherit;
    color: var(--fu-color);
    background: var(--fu-background);
    border: 1px solid var(--fu-border-color);
    border-radius: calc(var(--fu-radius) / 2);
    padding: 0.25rem 0.75rem;
    cursor: pointer;
  }
  button:disabled {
    cursor: not-allowed;
  }
  .primary {
    color: var(--fu-accent-contrast);
    background: var(--fu-accent);
    border-color: var(--fu-accent);
  }
  .danger {
    color: var(--fu-background);
    background: var(--fu-danger);
    border-color: var(--fu-danger);
  }
  button:focus-visible {
    outline: 2px solid var(--fu-accent);
    outline-offset: 2px;
  }
  .muted {
    color: var(--fu-muted);
  }
  .warning {
    color: var(--fu-warning);
    margin: 0;
  }
  .error {
    color: var(--fu-danger);
  }
  .list {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: calc(var(--fu-gap) / 2);
  }
  .item {
    display: grid;
    grid-template-columns: var(--fu-thumbnail-size) 1fr auto;
    align-items: center;
    gap: var(--fu-gap);
    padding: calc(var(--fu-gap) / 2);
    border: 1px solid var(--fu-border-color);
    border-radius: var(--fu-radius);
  }
  .preview {
    width: var(--fu-thumbnail-size);
    height: var(--fu-thumbnail-size);
    display: grid;
    place-items: center;
    color: var(--fu-muted);
  }
  .preview img {
    max-width: 100%;
    max-height: 100%;
    border-radius: calc(var(--fu-radius) / 2);
  }
  .preview svg {
    width: 70%;
    height: 70%;
  }
  .info {
    display: grid;
    gap: 0.125rem;
    min-width: 0;
  }
  .name {
    font-weight: 600;
    overflow: hidden;
    text-overflow: ellipsis;
    white-space: nowrap;
  }
  .meta,
  .stats {
    font-size: 0.875em;
  }
  .state[data-state='ready'] {
    color: var(--fu-success);
  }
  .state[data-state='failed'],
  .state[data-state='rejected'],
  .state[data-state='refused'] {
    color: var(--fu-danger);
  }
  .progress {
    height: var(--fu-progress-height);
    border-radius: var(--fu-progress-height);
    background: var(--fu-border-color);
    overflow: hidden;
  }
  .bar {
    height: 100%;
    background: var(--fu-accent);
    transform-origin: left;
    transform: scaleX(var(--fu-fraction, 0));
    transition: transform var(--fu-transition);
  }
  .actions,
  .confirm {
    display: flex;
    flex-wrap: wrap;
    gap: 0.375rem;
    align-items: center;
    justify-content: flex-end;
  }
  .summary,
  .offer {
    margin: 0;
  }
  .offer {
    display: grid;
    gap: calc(var(--fu-gap) / 2);
    padding: var(--fu-gap);
    border: 1px solid var(--fu-accent);
    border-radius: var(--fu-radius);
  }
  .offer ul {
    margin: 0;
    padding: 0;
    list-style: none;
    display: grid;
    gap: 0.375rem;
  }
  .offer li {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
    align-items: center;
  }
  .visually-hidden {
    position: absolute;
    width: 1px;
    height: 1px;
    margin: -1px;
    padding: 0;
    overflow: hidden;
    clip: rect(0 0 0 0);
    white-space: nowrap;
    border: 0;
  }
  @media (prefers-reduced-motion: reduce) {
    .drop-zone,
    .bar {
      transition: none;
    }
  }
`;
