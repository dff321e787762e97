import { html, svg, type SVGTemplateResult, type TemplateResult } from 'lit';
import type { FileTypeId } from '@file-uploader/protocol';

/** Icon families: Word and Excel files share one icon each, PNG and JPEG share the image icon. */
export type IconKind = 'pdf' | 'document' | 'spreadsheet' | 'image' | 'generic';

const KINDS: Readonly<Record<FileTypeId, IconKind>> = {
  pdf: 'pdf',
  doc: 'document',
  docx: 'document',
  xls: 'spreadsheet',
  xlsx: 'spreadsheet',
  png: 'image',
  jpg: 'image',
};

/** The icon family of a file type; unknown types get the generic page. */
export function iconKind(type: FileTypeId | undefined): IconKind {
  return (type && KINDS[type]) || 'generic';
}

// A page with a folded corner, drawn in currentColor on a 24×24 grid; each family adds a mark.
const FOLD = svg`<path d="M14.25 2.75v5h5" />`;
const PAGE = svg`<path d="M6 2.75h8.25L19.25 7.75v13.5H6z" />${FOLD}`;

const DRAWINGS: Readonly<Record<IconKind, SVGTemplateResult>> = {
  // A band with the letters P, D, F, the way PDF readers badge their files.
  // The page's left edge stops at the band instead of crossing it.
  pdf: svg`<path d="M6 12V2.75h8.25l5 5v13.5H6v-2.75" />${FOLD}<rect x="3.75" y="12" width="13" height="6.5" rx="1" />
    <path d="M6.25 16.75v-3h1a1 1 0 0 1 0 2h-1M9.75 16.75v-3h.5a1.5 1.5 0 0 1 0 3zM13.5 16.75v-3h1.75M13.5 15.25h1.25" stroke-width="1" />`,
  // Lines of text.
  document: svg`${PAGE}<path d="M9 11.25h7M9 14.25h7M9 17.25h4.5" />`,
  // A grid of cells.
  spreadsheet: svg`${PAGE}<rect x="8.75" y="10.75" width="7.5" height="7.5" /><path d="M8.75 14.5h7.5M12.5 10.75v7.5" />`,
  // A sun over a hill.
  image: svg`${PAGE}<circle cx="10.5" cy="11.5" r="1.5" /><path d="M6 19.5l4-4 2.5 2.5 2-2 4.75 4.75" />`,
  generic: PAGE,
};

/**
 * The icon of a file type: an inline SVG hidden from assistive technology (the file's name
 * and state carry the meaning). It is 24 px by default; style `.file-icon` to size it (CSS
 * overrides the width and height attributes). Lit renders a whole `<svg>` element from an `html` template; `svg` holds the fragments.
 */
export function fileIcon(type: FileTypeId | undefined): TemplateResult {
  const kind = iconKind(type);
  return html`<svg
    class="file-icon file-icon-${kind}"
    data-kind=${kind}
    viewBox="0 0 24 24"
    width="24"
    height="24"
    fill="none"
    stroke="currentColor"
    stroke-width="1.5"
    stroke-linecap="round"
    stroke-linejoin="round"
    aria-hidden="true"
    focusable="false"
  >
    ${DRAWINGS[kind]}
  </svg>`;
}
