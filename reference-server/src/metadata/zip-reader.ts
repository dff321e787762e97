import type { MetadataContext } from './metadata-context.js';
import { MetadataError, limit, malformed } from './metadata-error.js';

/** One file of a ZIP archive, as its central directory describes it. */
export interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
}

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_BYTES = 22;
const MAX_COMMENT_BYTES = 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const CENTRAL_SIGNATURE = 0x02014b50;
const LOCAL_SIGNATURE = 0x04034b50;
const CENTRAL_HEADER_BYTES = 46;
const LOCAL_HEADER_BYTES = 30;
const ENCRYPTED = 1;
const [STORED, DEFLATED] = [0, 8];
/** Office files hold hundreds of parts; a directory walk stops here whatever the file claims. */
const MAX_ENTRIES = 100_000;

/**
 * Finds the named entries in the central directory: reads the end record from the tail, then
 * walks directory records one by one (each a small bounded read), never the entry data.
 */
export async function findZipEntries(
  ctx: MetadataContext,
  names: ReadonlySet<string>,
): Promise<Map<string, ZipEntry>> {
  const { reader } = ctx;
  const { entries, offset: directoryOffset, size: directorySize } = await endOfDirectory(ctx);
  const found = new Map<string, ZipEntry>();
  let offset = directoryOffset;
  const end = directoryOffset + directorySize;
  for (let i = 0; i < entries && found.size < names.size; i++) {
    if (i >= MAX_ENTRIES) limit(`more than ${MAX_ENTRIES} ZIP entries`);
    if (offset + CENTRAL_HEADER_BYTES > end) malformed('central directory is shorter than stated');
    const header = view(await reader.bytes(offset, CENTRAL_HEADER_BYTES));
    if (header.getUint32(0, true) !== CENTRAL_SIGNATURE)
      malformed(`no directory record at ${offset}`);
    const nameLength = header.getUint16(28, true);
    const extraLength = header.getUint16(30, true);
    const commentLength = header.getUint16(32, true);
    const nameBytes = await reader.bytes(offset + CENTRAL_HEADER_BYTES, nameLength);
    const name = Buffer.from(nameBytes).toString('utf8');
    if (names.has(name) && !found.has(name)) {
      const entry: ZipEntry = {
        name,
        flags: header.getUint16(8, true),
        method: header.getUint16(10, true),
        compressedSize: header.getUint32(20, true),
        uncompressedSize: header.getUint32(24, true),
        localHeaderOffset: header.getUint32(42, true),
      };
      const extra = await reader.bytes(offset + CENTRAL_HEADER_BYTES + nameLength, extraLength);
      applyZip64Extra(entry, extra);
      found.set(name, entry);
    }
    offset += CENTRAL_HEADER_BYTES + nameLength + extraLength + commentLength;
  }
  return found;
}

/**
 * The entry's content, at most `maxBytes` both compressed and inflated (inflating also counts
 * against the file's inflate budget), so an entry with a huge ratio stops with a `limit`.
 */
export async function readZipEntry(
  ctx: MetadataContext,
  entry: ZipEntry,
  maxBytes: number,
): Promise<Buffer> {
  if (entry.flags & ENCRYPTED) {
    throw new MetadataError('unsupported', `${entry.name} is encrypted`);
  }
  if (entry.method !== STORED && entry.method !== DEFLATED) {
    throw new MetadataError('unsupported', `${entry.name} uses compression method ${entry.method}`);
  }
  if (entry.compressedSize > maxBytes) limit(`${entry.name} is over ${maxBytes} bytes compressed`);
  if (entry.uncompressedSize > maxBytes)
    limit(`${entry.name} would inflate over ${maxBytes} bytes`);
  const local = view(await ctx.reader.bytes(entry.localHeaderOffset, LOCAL_HEADER_BYTES));
  if (local.getUint32(0, true) !== LOCAL_SIGNATURE) malformed(`no local header for ${entry.name}`);
  const dataOffset =
    entry.localHeaderOffset +
    LOCAL_HEADER_BYTES +
    local.getUint16(26, true) +
    local.getUint16(28, true);
  const data = await ctx.reader.bytes(dataOffset, entry.compressedSize);
  if (entry.method === STORED) return Buffer.from(data);
  // The stated size is not trusted: the inflate itself is capped as well.
  return ctx.inflate(data, 'raw', maxBytes);
}

async function endOfDirectory(ctx: MetadataContext) {
  const { reader } = ctx;
  if (reader.size < EOCD_BYTES) malformed('too small for a ZIP archive');
  const tailLength = Math.min(reader.size, EOCD_BYTES + MAX_COMMENT_BYTES);
  const tailStart = reader.size - tailLength;
  const tail = await reader.bytes(tailStart, tailLength);
  const tailView = view(tail);
  let at = -1;
  for (let i = tail.length - EOCD_BYTES; i >= 0; i--) {
    if (tailView.getUint32(i, true) === EOCD_SIGNATURE) {
      at = i;
      break;
    }
  }
  if (at < 0) malformed('no end of central directory record (truncated?)');
  let entries = tailView.getUint16(at + 10, true);
  let size = tailView.getUint32(at + 12, true);
  let offset = tailView.getUint32(at + 16, true);
  if (entries === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locatorAt = tailStart + at - 20;
    const locator = view(await reader.bytes(locatorAt, 20));
    if (locator.getUint32(0, true) !== ZIP64_LOCATOR_SIGNATURE) malformed('no ZIP64 locator');
    const zip64 = view(await reader.bytes(safe(locator.getBigUint64(8, true)), 56));
    if (zip64.getUint32(0, true) !== ZIP64_EOCD_SIGNATURE) malformed('no ZIP64 end record');
    entries = safe(zip64.getBigUint64(32, true));
    size = safe(zip64.getBigUint64(40, true));
    offset = safe(zip64.getBigUint64(48, true));
  }
  if (offset + size > reader.size) malformed('central directory lies past the end of the file');
  return { entries, size, offset };
}

/** ZIP64 extended information: 64-bit values for the fields set to 0xFFFFFFFF, in order. */
function applyZip64Extra(entry: ZipEntry, extra: Uint8Array): void {
  const extraView = view(extra);
  for (let at = 0; at + 4 <= extra.length;) {
    const id = extraView.getUint16(at, true);
    const length = extraView.getUint16(at + 2, true);
    if (id === 0x0001) {
      let field = at + 4;
      const next = () => {
        if (field + 8 > at + 4 + length || field + 8 > extra.length) malformed('short ZIP64 field');
        const value = safe(extraView.getBigUint64(field, true));
        field += 8;
        return value;
      };
      if (entry.uncompressedSize === 0xffffffff) entry.uncompressedSize = next();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = next();
      if (entry.localHeaderOffset === 0xffffffff) entry.localHeaderOffset = next();
      return;
    }
    at += 4 + length;
  }
}

function safe(value: bigint): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) malformed('ZIP64 value out of range');
  return Number(value);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
