/**
 * The file types protocol v1 knows, and the magic-number rules both the server and the
 * browser apply to a file's first bytes. The server then looks inside containers (ZIP, OLE2)
 * to tell DOCX from XLSX and DOC from XLS.
 */
export const FILE_TYPES = {
  pdf: { mime: 'application/pdf', extensions: ['.pdf'], container: 'pdf' },
  doc: { mime: 'application/msword', extensions: ['.doc'], container: 'ole2' },
  docx: {
    mime: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
    extensions: ['.docx'],
    container: 'zip',
  },
  xls: { mime: 'application/vnd.ms-excel', extensions: ['.xls'], container: 'ole2' },
  xlsx: {
    mime: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    extensions: ['.xlsx'],
    container: 'zip',
  },
  png: { mime: 'image/png', extensions: ['.png'], container: 'png' },
  jpg: { mime: 'image/jpeg', extensions: ['.jpg', '.jpeg', '.jfif'], container: 'jpeg' },
} as const satisfies Record<
  string,
  { mime: string; extensions: readonly string[]; container: Container }
>;

export type FileTypeId = keyof typeof FILE_TYPES;

/** Byte-level families recognisable from a file's first bytes. */
export type Container = 'pdf' | 'png' | 'jpeg' | 'zip' | 'ole2';

/** The default allow-list: every known type. */
export const DEFAULT_ALLOWED_TYPES: readonly FileTypeId[] = Object.keys(FILE_TYPES) as FileTypeId[];

/** How many leading bytes {@link sniffContainer} needs. */
export const SNIFF_BYTES = 8;

const SIGNATURES: ReadonlyArray<{ container: Container; bytes: readonly number[] }> = [
  { container: 'pdf', bytes: [0x25, 0x50, 0x44, 0x46, 0x2d] }, // %PDF-
  { container: 'png', bytes: [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a] },
  { container: 'jpeg', bytes: [0xff, 0xd8, 0xff] },
  { container: 'zip', bytes: [0x50, 0x4b, 0x03, 0x04] }, // PK\x03\x04
  { container: 'ole2', bytes: [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] },
];

/** The container family of a file from its first bytes, or undefined when none matches. */
export function sniffContainer(head: Uint8Array): Container | undefined {
  for (const { container, bytes } of SIGNATURES) {
    if (head.length >= bytes.length && bytes.every((byte, i) => head[i] === byte)) {
      return container;
    }
  }
  return undefined;
}

/** The known types whose first bytes look like `head`. */
export function typesForHead(head: Uint8Array): FileTypeId[] {
  const container = sniffContainer(head);
  if (!container) return [];
  return (Object.keys(FILE_TYPES) as FileTypeId[]).filter(
    (id) => FILE_TYPES[id].container === container,
  );
}

/** Lower-case extension of a file name including the dot, or '' when it has none. */
export function extensionOf(name: string): string {
  const base = name.slice(Math.max(name.lastIndexOf('/'), name.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  // '.pdf' alone counts as a PDF's name: hidden-file names get no free pass on the allow-list.
  return dot >= 0 ? base.slice(dot).toLowerCase() : '';
}

/** The type a client claims for a file: by extension first, then by MIME type. */
export function claimedType(name: string, mime: string): FileTypeId | undefined {
  const ext = extensionOf(name);
  const ids = Object.keys(FILE_TYPES) as FileTypeId[];
  if (ext) {
    return ids.find((id) => (FILE_TYPES[id].extensions as readonly string[]).includes(ext));
  }
  const normalized = mime.split(';')[0]?.trim().toLowerCase() ?? '';
  return ids.find((id) => FILE_TYPES[id].mime === normalized);
}

/**
 * Resolves an allow-list entry (`pdf`, `.pdf` or `application/pdf`) to a type id.
 * Returns undefined for unknown entries.
 */
export function resolveFileType(entry: string): FileTypeId | undefined {
  const value = entry.trim().toLowerCase();
  const ids = Object.keys(FILE_TYPES) as FileTypeId[];
  if (value === 'jpeg') return 'jpg';
  return ids.find(
    (id) =>
      id === value ||
      FILE_TYPES[id].mime === value ||
      (FILE_TYPES[id].extensions as readonly string[]).includes(value),
  );
}
