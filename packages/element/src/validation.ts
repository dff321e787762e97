import {
  DEFAULT_ALLOWED_TYPES,
  FILE_TYPES,
  SNIFF_BYTES,
  claimedType,
  resolveFileType,
  typesForHead,
  type FileTypeId,
} from '@file-uploader/protocol';

/** What the element accepts: the `accept` list (empty = every protocol type) and the limits. */
export interface ValidationRules {
  accept: readonly string[];
  maxFileSize?: number;
  maxTotalSize?: number;
  maxFiles?: number;
}

/** Why a file was refused before upload. */
export const RejectionCode = {
  type: 'type',
  content: 'content',
  fileSize: 'file-size',
  totalSize: 'total-size',
  count: 'count',
  empty: 'empty',
} as const;

export type RejectionCode = (typeof RejectionCode)[keyof typeof RejectionCode];

/**
 * A refused file. `params` always holds `name`; byte values (`size`, `max`, `total`) are plain
 * numbers of bytes, to be formatted for the reader's locale (see `rejectionMessage`).
 */
export interface Rejection {
  file: File;
  code: RejectionCode;
  params: Record<string, string | number>;
}

/** The files already in the list, which count towards `maxFiles` and `maxTotalSize`. */
export interface CurrentFiles {
  count: number;
  totalBytes: number;
}

/** At this share of `maxTotalSize` the element warns that the limit is near. */
export const NEAR_LIMIT_SHARE = 0.9;

/**
 * Normalises an `accept` attribute: trimmed, lower case, without duplicates. Extensions keep
 * their dot (`.pdf`), MIME types and wildcards stay as they are (`image/*`); a bare known type
 * (`pdf`, `jpeg`) becomes its extension, and other bare words are dropped because the browser's
 * file picker would ignore them too.
 */
export function parseAccept(accept: string | null | undefined): string[] {
  if (!accept) return [];
  const entries = new Set<string>();
  for (const raw of accept.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (!entry) continue;
    if (entry.startsWith('.') || entry.includes('/')) {
      entries.add(entry);
      continue;
    }
    const id = resolveFileType(entry);
    if (id) entries.add(FILE_TYPES[id].extensions[0]);
  }
  return [...entries];
}

const SIZE_PATTERN = /^(\d+(?:\.\d+)?|\.\d+)\s*([kmgt]?i?b?)$/i;
const DECIMAL: Record<string, number> = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 };

/**
 * Parses a size attribute: plain bytes (`1024`), decimal units (`500kb`, `100MB`, `2 G` = 10^n)
 * or binary units (`1.5 GiB`, `64KiB` = 2^n), case-insensitive. Returns undefined for empty or
 * unreadable text, so a bad attribute means "no limit" rather than "refuse everything".
 */
export function parseSize(text: string | null | undefined): number | undefined {
  const match = SIZE_PATTERN.exec(text?.trim() ?? '');
  if (!match) return undefined;
  const [, amount = '', unit = ''] = match;
  const lower = unit.toLowerCase();
  const prefix = lower.replace(/i?b?$/, '');
  // "ib" without a prefix ("10ib") is not a unit.
  if (!prefix && lower.includes('i')) return undefined;
  const factor = lower.includes('i')
    ? 2 ** (10 * ['k', 'm', 'g', 't'].indexOf(prefix) + 10)
    : (DECIMAL[prefix] ?? 1);
  return Math.round(Number(amount) * factor);
}

/** The protocol types an `accept` list allows; an empty list allows every protocol type. */
export function allowedTypes(accept: readonly string[]): FileTypeId[] {
  if (accept.length === 0 || accept.includes('*') || accept.includes('*/*')) {
    return [...DEFAULT_ALLOWED_TYPES];
  }
  const ids = new Set<FileTypeId>();
  for (const entry of accept) {
    if (entry.endsWith('/*')) {
      const family = entry.slice(0, -1);
      for (const id of DEFAULT_ALLOWED_TYPES) {
        if (FILE_TYPES[id].mime.startsWith(family)) ids.add(id);
      }
      continue;
    }
    const id = resolveFileType(entry);
    if (id) ids.add(id);
  }
  return DEFAULT_ALLOWED_TYPES.filter((id) => ids.has(id));
}

/**
 * Checks files before any byte is sent, in the order the server would refuse them: empty file,
 * type (claimed by extension, then MIME, against `accept` and the protocol's types), size per
 * file, content (the first bytes must match the claimed type's magic number, read with
 * `Blob.slice`, never more), then count and total size together with the files already listed.
 * Files are taken in order, so a file over the total may be refused while a later, smaller one
 * still fits. Rejects with `signal.reason` when aborted.
 */
export async function validateFiles(
  files: readonly File[],
  rules: ValidationRules,
  current: CurrentFiles,
  signal?: AbortSignal,
): Promise<{ accepted: File[]; rejected: Rejection[] }> {
  const allowed = allowedTypes(rules.accept);
  const accepted: File[] = [];
  const rejected: Rejection[] = [];
  let count = current.count;
  let total = current.totalBytes;
  for (const file of files) {
    signal?.throwIfAborted();
    const name = file.name;
    const reject = (code: RejectionCode, params: Record<string, string | number> = {}) =>
      rejected.push({ file, code, params: { name, ...params } });
    const type = claimedType(file.name, file.type);
    if (file.size === 0) {
      reject(RejectionCode.empty);
    } else if (!type || !allowed.includes(type)) {
      reject(RejectionCode.type, { accept: describeTypes(allowed) });
    } else if (rules.maxFileSize !== undefined && file.size > rules.maxFileSize) {
      reject(RejectionCode.fileSize, { size: file.size, max: rules.maxFileSize });
    } else if (!(await headMatches(file, type, signal))) {
      reject(RejectionCode.content, { type: type.toUpperCase() });
    } else if (rules.maxFiles !== undefined && count >= rules.maxFiles) {
      reject(RejectionCode.count, { max: rules.maxFiles });
    } else if (rules.maxTotalSize !== undefined && total + file.size > rules.maxTotalSize) {
      reject(RejectionCode.totalSize, {
        size: file.size,
        total: total + file.size,
        max: rules.maxTotalSize,
      });
    } else {
      accepted.push(file);
      count += 1;
      total += file.size;
    }
  }
  return { accepted, rejected };
}

/** The allowed types as a reader sees them: "PDF, DOCX, PNG". */
export function describeTypes(types: readonly FileTypeId[]): string {
  return types.map((id) => id.toUpperCase()).join(', ');
}

async function headMatches(file: Blob, type: FileTypeId, signal?: AbortSignal): Promise<boolean> {
  const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
  signal?.throwIfAborted();
  return typesForHead(head).includes(type);
}

/** True when `totalBytes` has reached 90 % of `maxTotalSize`. */
export function nearLimit(totalBytes: number, maxTotalSize: number | undefined): boolean {
  return (
    maxTotalSize !== undefined && maxTotalSize > 0 && totalBytes >= maxTotalSize * NEAR_LIMIT_SHARE
  );
}

/**
 * What a drag would bring, judged from MIME types alone (names and bytes are hidden until the
 * drop): 'reject' when no item is a file or every file's type is known and refused, 'accept'
 * when every file's type is known and allowed, otherwise 'unknown' (folders and files the
 * system gives no MIME type report an empty type).
 */
export function dragVerdict(
  items: DataTransferItemList,
  rules: ValidationRules,
): 'accept' | 'reject' | 'unknown' {
  const allowed = allowedTypes(rules.accept);
  let files = 0;
  let ok = 0;
  let refused = 0;
  for (const item of Array.from(items)) {
    if (item.kind !== 'file') continue;
    files += 1;
    const mime = item.type.split(';')[0]?.trim().toLowerCase() ?? '';
    if (!mime) continue;
    const type = claimedType('', mime);
    if (type && allowed.includes(type)) ok += 1;
    else refused += 1;
  }
  if (files === 0 || refused === files) return 'reject';
  if (ok === files) return 'accept';
  return 'unknown';
}
