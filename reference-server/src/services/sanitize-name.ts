/** Longest name most file systems store, in UTF-8 bytes. */
const MAX_NAME_BYTES = 255;

/** Longer "extensions" are just part of the name and get no special treatment when cutting. */
const MAX_EXTENSION_BYTES = 32;

/** Characters Windows forbids in names; replaced so a download can be saved anywhere. */
const FORBIDDEN = /[<>:"|?*]/g;

/**
 * Device names Windows reserves whatever the extension; it ignores spaces before the dot and
 * counts superscript digits as digits.
 */
const RESERVED = /^(con|prn|aux|nul|com[1-9¹²³]|lpt[1-9¹²³]) *(\.|$)/i;

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/**
 * Makes a client-supplied file name safe to store, show and use as a download name: no path,
 * no control or bidi-override characters (which can disguise `exe.pdf` as `fdp.exe`), nothing
 * Windows refuses, and at most 255 UTF-8 bytes with the extension kept.
 */
export function sanitizeName(name: string): string {
  const cleaned = Array.from(basename(name).replace(/[\t\n\v\f\r]/g, ' '))
    .filter((char) => !isDropped(char.codePointAt(0) ?? 0))
    .join('')
    // After dropping, so "e\0\u0301" composes to "é" like "e\u0301" does.
    .normalize('NFC')
    .replace(FORBIDDEN, '_')
    .replace(/\s+/gu, ' ')
    .replace(/[ .]+$/, '');

  // A name that is all extension (".pdf", "...pdf") keeps it after a placeholder stem.
  const extensionOnly = /^[ .]*\.([^. ]+)$/.exec(cleaned);
  if (extensionOnly) return fitBytes(`file.${extensionOnly[1]}`);
  const trimmed = cleaned.replace(/^[ .]+/, '');
  if (!trimmed) return 'file';
  return fitBytes(RESERVED.test(trimmed) ? `_${trimmed}` : trimmed);
}

function basename(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
}

/** C0, DEL, C1, bidi embeddings/overrides/isolates, and lone surrogates (invalid text). */
function isDropped(code: number): boolean {
  return (
    code <= 0x1f ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069) ||
    (code >= 0xd800 && code <= 0xdfff)
  );
}

/** Cuts the stem (whole characters only) so the name fits in 255 bytes with its extension. */
function fitBytes(name: string): string {
  if (utf8Length(name) <= MAX_NAME_BYTES) return name;
  const dot = name.lastIndexOf('.');
  const extension = dot > 0 ? name.slice(dot) : '';
  const kept = utf8Length(extension) <= MAX_EXTENSION_BYTES ? extension : '';
  const stem = name.slice(0, name.length - kept.length);
  let cut = '';
  let bytes = 0;
  for (const { segment } of graphemes.segment(stem)) {
    const length = utf8Length(segment);
    if (bytes + length > MAX_NAME_BYTES - utf8Length(kept)) break;
    cut += segment;
    bytes += length;
  }
  // The cut may end the stem on a space or dot, which Windows would silently strip.
  const tidy = kept ? cut.replace(/ +$/, '') : cut.replace(/[ .]+$/, '');
  return tidy ? tidy + kept : `file${kept}`;
}

function utf8Length(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
