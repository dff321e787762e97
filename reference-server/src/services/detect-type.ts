import { fileTypeFromBlob } from 'file-type';
import { FILE_TYPES, SNIFF_BYTES, sniffContainer } from '@file-uploader/protocol';
import type { FileTypeId } from '@file-uploader/protocol';
import { cfbRootStreamNames } from './cfb-directory.js';

/** Reads the inclusive byte range `[start, end]` of the stored file. */
export type ReadRange = (start: number, end: number) => Promise<Buffer>;

export interface DetectedType {
  /** Set only for a type protocol v1 knows; anything else is not allowed. */
  fileType?: FileTypeId;
  /** The content's MIME type when recognisable, for messages and logs. */
  mime?: string;
}

/** Most bytes one detection may read, however large or hostile the file. */
export const MAX_DETECT_READ_BYTES = 4 * 1024 * 1024;

/** Reads are rounded out to blocks of this size and cached, so small probes cost one fetch. */
const BLOCK_BYTES = 64 * 1024;

const ZIP_MIME = 'application/zip';
const CFB_MIME = 'application/x-cfb';

/** Raised when the read budget is spent; the content is then treated as unrecognised. */
class ReadBudgetError extends Error {}

/** Wraps a failure of `read` itself (storage I/O), which is not a verdict on the content. */
class SourceReadError extends Error {}

/**
 * Finds a file's real type from its bytes, never from its name. PDF, PNG and JPEG are decided
 * by the protocol's magic numbers (so the server agrees with the browser's check); ZIP and OLE2
 * containers are opened to tell DOCX/XLSX and DOC/XLS from other archives and compound files.
 * Malformed content yields `{}` or a generic MIME type; only a failing `read` rejects.
 */
export async function detectType(read: ReadRange, size: number): Promise<DetectedType> {
  if (!Number.isSafeInteger(size) || size <= 0) return {};
  const reader = createRangeReader(read, size);
  try {
    const container = sniffContainer(await reader.bytes(0, Math.min(size, SNIFF_BYTES)));
    switch (container) {
      case 'pdf':
        return known('pdf');
      case 'png':
        return known('png');
      case 'jpeg':
        return known('jpg');
      case 'ole2':
        return await detectCompoundFile(reader);
      case 'zip': {
        const mime = await fileTypeMime(reader);
        if (mime === FILE_TYPES.docx.mime) return known('docx');
        if (mime === FILE_TYPES.xlsx.mime) return known('xlsx');
        return { mime: mime ?? ZIP_MIME };
      }
      default: {
        const mime = await fileTypeMime(reader);
        return mime ? { mime } : {};
      }
    }
  } catch (error) {
    if (error instanceof SourceReadError) throw error.cause;
    return {};
  }
}

async function detectCompoundFile(reader: RangeReader): Promise<DetectedType> {
  let names: Set<string>;
  try {
    names = await cfbRootStreamNames(reader.bytes);
  } catch (error) {
    if (error instanceof SourceReadError) throw error;
    return { mime: CFB_MIME };
  }
  // Stream names compare case-insensitively in MS-CFB.
  const upper = new Set([...names].map((name) => name.toUpperCase()));
  if (upper.has('WORDDOCUMENT')) return known('doc');
  if (upper.has('WORKBOOK') || upper.has('BOOK')) return known('xls');
  return { mime: CFB_MIME };
}

/** file-type's verdict, or undefined when it has none or gives up on malformed content. */
async function fileTypeMime(reader: RangeReader): Promise<string | undefined> {
  try {
    return (await fileTypeFromBlob(lazyBlob(reader)))?.mime;
  } catch (error) {
    if (error instanceof SourceReadError) throw error;
    return undefined;
  }
}

function known(id: FileTypeId): DetectedType {
  return { fileType: id, mime: FILE_TYPES[id].mime };
}

/**
 * file-type reads a Blob through `size` and `slice(start, end).arrayBuffer()` only (strtok3's
 * BlobTokenizer, with random access), so this stand-in lets it walk ZIP headers with ranged
 * reads and skip entry data without fetching it, and still get strtok3's own end-of-file
 * errors, which it treats as "not this format".
 */
function lazyBlob(reader: RangeReader): Blob {
  const blob = {
    size: reader.size,
    type: '',
    slice: (start = 0, end = reader.size) => ({
      arrayBuffer: async () => (await reader.bytes(start, end - start)).buffer,
    }),
  };
  return blob as unknown as Blob;
}

export interface RangeReader {
  readonly size: number;
  /** Bytes fetched from `read` so far. */
  readonly fetched: number;
  /** `length` bytes at `offset`; rejects outside the file or beyond the read budget. */
  bytes(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * Serves reads from cached 64 KiB blocks (encrypted or remote storage makes each fetch costly)
 * and refuses to fetch more than `budget` bytes in total, which also bounds the cache.
 */
export function createRangeReader(
  read: ReadRange,
  size: number,
  budget = MAX_DETECT_READ_BYTES,
): RangeReader {
  const blocks = new Map<number, Uint8Array>();
  let fetched = 0;

  const load = async (first: number, last: number) => {
    for (let from = first; from <= last; from++) {
      if (blocks.has(from)) continue;
      let to = from;
      while (to < last && !blocks.has(to + 1)) to++;
      const start = from * BLOCK_BYTES;
      const end = Math.min(size, (to + 1) * BLOCK_BYTES) - 1;
      fetched += end - start + 1;
      if (fetched > budget) throw new ReadBudgetError(`Type detection read over ${budget} bytes`);
      let data: Uint8Array;
      try {
        data = await read(start, end);
      } catch (error) {
        throw new SourceReadError('Reading the stored file failed', { cause: error });
      }
      if (data.length !== end - start + 1) throw new RangeError(`Short read at ${start}`);
      for (let block = from; block <= to; block++) {
        const at = (block - from) * BLOCK_BYTES;
        blocks.set(block, data.subarray(at, at + BLOCK_BYTES));
      }
      from = to;
    }
  };

  const bytes = async (offset: number, length: number): Promise<Uint8Array> => {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0) {
      throw new RangeError(`Bad range ${offset}+${length}`);
    }
    if (length < 0 || offset + length > size) throw new RangeError(`Range past end: ${offset}`);
    const out = new Uint8Array(length);
    if (length === 0) return out;
    const first = Math.floor(offset / BLOCK_BYTES);
    const last = Math.floor((offset + length - 1) / BLOCK_BYTES);
    await load(first, last);
    for (let block = first; block <= last; block++) {
      const data = blocks.get(block) ?? new Uint8Array();
      const blockStart = block * BLOCK_BYTES;
      const from = Math.max(offset, blockStart);
      const to = Math.min(offset + length, blockStart + data.length);
      out.set(data.subarray(from - blockStart, to - blockStart), from - offset);
    }
    return out;
  };

  return {
    size,
    get fetched() {
      return fetched;
    },
    bytes,
  };
}
