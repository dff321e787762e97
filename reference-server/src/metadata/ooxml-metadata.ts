import type { DocumentProperties, DocxMetadata, XlsxMetadata } from '@file-uploader/protocol';
import type { MetadataContext } from './metadata-context.js';
import { MetadataError } from './metadata-error.js';
import { assignDefined, cleanText, isoDate } from './metadata-text.js';
import { countElements, elementText, elementsAttributes, findStartTag } from './xml-text.js';
import { findZipEntries, readZipEntry } from './zip-reader.js';
import type { ZipEntry } from './zip-reader.js';

/** Property parts are a few KiB; a workbook part lists sheets and names, rarely past 1 MiB. */
const MAX_PART_BYTES = 1024 * 1024;
const MAX_RELATIONSHIPS = 256;

const RELATIONSHIPS = 'http://schemas.openxmlformats.org';
const CORE_TYPE = `${RELATIONSHIPS}/package/2006/relationships/metadata/core-properties`;
const APP_TYPE = `${RELATIONSHIPS}/officeDocument/2006/relationships/extended-properties`;
const DOCUMENT_TYPE = `${RELATIONSHIPS}/officeDocument/2006/relationships/officeDocument`;

/** Core properties (and the application name) of a DOCX or XLSX; the sheet count of an XLSX. */
export async function extractOoxml(
  ctx: MetadataContext,
  out: DocxMetadata | XlsxMetadata,
): Promise<void> {
  const defaults = {
    core: 'docProps/core.xml',
    app: 'docProps/app.xml',
    document: out.fileType === 'xlsx' ? 'xl/workbook.xml' : 'word/document.xml',
  };
  // The package relationships name the parts; the defaults are what Office always writes.
  const rootRels = await findZipEntries(ctx, new Set(['_rels/.rels']));
  const rels = rootRels.get('_rels/.rels');
  const parts = rels ? await partNames(ctx, rels, defaults) : defaults;

  const entries = await findZipEntries(ctx, new Set([parts.core, parts.app, parts.document]));
  // Each part is read on its own, so a hostile core.xml does not hide the sheet count.
  await part(ctx, async () => {
    const core = entries.get(parts.core);
    if (core) assignDefined(out, coreProperties(await readText(ctx, core)));
  });
  await part(ctx, async () => {
    const app = entries.get(parts.app);
    if (app) out.application ??= cleanText(elementText(await readText(ctx, app), 'Application'));
  });
  if (out.fileType === 'xlsx') {
    const workbook = entries.get(parts.document);
    if (!workbook) throw new MetadataError('malformed', `no workbook part ${parts.document}`);
    out.sheets = sheetCount(await readText(ctx, workbook));
  }
}

/** Runs one part's extraction; a content problem becomes a warning, storage errors pass. */
async function part(ctx: MetadataContext, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof MetadataError) || error.code === 'timeout') throw error;
    ctx.warn(error.code, error.message);
  }
}

async function partNames(
  ctx: MetadataContext,
  rels: ZipEntry,
  defaults: { core: string; app: string; document: string },
) {
  const xml = await readText(ctx, rels);
  const parts = { ...defaults };
  for (const { Type: type, Target: target } of elementsAttributes(
    xml,
    'Relationship',
    MAX_RELATIONSHIPS,
  )) {
    if (!target || /^[a-z][\w+.-]*:/i.test(target)) continue; // external targets name no part
    const name = target.replace(/^\/+/, '');
    if (type === CORE_TYPE) parts.core = name;
    else if (type === APP_TYPE) parts.app = name;
    else if (type === DOCUMENT_TYPE) parts.document = name;
  }
  return parts;
}

async function readText(ctx: MetadataContext, entry: ZipEntry): Promise<string> {
  return (await readZipEntry(ctx, entry, MAX_PART_BYTES)).toString('utf8');
}

function coreProperties(xml: string): DocumentProperties {
  const text = (name: string) => cleanText(elementText(xml, name));
  return {
    title: text('title'),
    subject: text('subject'),
    author: text('creator'),
    keywords: text('keywords'),
    description: text('description'),
    lastModifiedBy: text('lastModifiedBy'),
    created: w3cDate(elementText(xml, 'created')),
    modified: w3cDate(elementText(xml, 'modified')),
  };
}

/** Sheets of every kind inside `<sheets>`; other elements named `sheet` do not count. */
function sheetCount(xml: string): number {
  const sheets = findStartTag(xml, 'sheets', 0);
  if (!sheets) throw new MetadataError('malformed', 'workbook lists no sheets');
  if (sheets.selfClosing) return 0;
  const close = xml.indexOf(`</${sheets.qualifiedName}`, sheets.end);
  return countElements(xml, 'sheet', sheets.end, close < 0 ? xml.length : close);
}

/** dcterms:W3CDTF, as core.xml writes dates: `2024-05-01T10:20:30Z` and its shorter forms. */
export function w3cDate(value: string | undefined): string | undefined {
  const match =
    /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(
      value?.trim() ?? '',
    );
  if (!match) return undefined;
  const n = (i: number, fallback: number) => (match[i] === undefined ? fallback : Number(match[i]));
  const zone = match[7];
  const offset =
    zone === undefined
      ? undefined
      : zone === 'Z'
        ? 0
        : (zone.startsWith('-') ? -1 : 1) *
          (Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6)));
  return isoDate(
    {
      year: n(1, 0),
      month: n(2, 1),
      day: n(3, 1),
      hour: n(4, 0),
      minute: n(5, 0),
      second: n(6, 0),
    },
    offset,
  );
}
