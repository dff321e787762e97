/**
 * Reads the names of the streams at the top level of an OLE2 / Compound File Binary file
 * (MS-CFB), with small ranged reads only. Word stores its text in a root stream named
 * `WordDocument` and Excel its sheets in `Workbook` (or `Book` before Excel 97); the same names
 * deeper in the tree belong to embedded objects and say nothing about the file itself.
 *
 * The input is untrusted: every chain walk is bounded and cycle-checked, and any inconsistency
 * throws {@link MalformedCfbError}.
 */

/** Reads `length` bytes at `offset`; rejects when the range lies outside the file. */
export type ReadBytes = (offset: number, length: number) => Promise<Uint8Array>;

export class MalformedCfbError extends Error {}

const HEADER_BYTES = 512;
const ENTRY_BYTES = 128;
const HEADER_DIFAT_ENTRIES = 109;
/** Sector ids above this are markers (ENDOFCHAIN, FREESECT, ...), never real sectors. */
const MAX_SECTOR_ID = 0xfffffffa;
const END_OF_CHAIN = 0xfffffffe;
const NO_STREAM = 0xffffffff;
const STREAM = 2;
const ROOT_STORAGE = 5;
/** Real directories span a few sectors; these bound what a hostile file can make us walk. */
const MAX_DIRECTORY_SECTORS = 4096;
const MAX_DIFAT_SECTORS = 4096;
const MAX_ROOT_CHILDREN = 4096;

const SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

export async function cfbRootStreamNames(read: ReadBytes): Promise<Set<string>> {
  const header = view(await read(0, HEADER_BYTES));
  if (!SIGNATURE.every((byte, i) => header.getUint8(i) === byte)) fail('signature');
  if (header.getUint16(0x1c, true) !== 0xfffe) fail('byte order');
  const sectorShift = header.getUint16(0x1e, true);
  if (sectorShift !== 9 && sectorShift !== 12) fail(`sector shift ${sectorShift}`);

  const sectorSize = 1 << sectorShift;
  const idsPerSector = sectorSize / 4;
  const fatSectorCount = header.getUint32(0x2c, true);
  const u32 = async (offset: number) => view(await read(offset, 4)).getUint32(0, true);
  const sectorOffset = (id: number) => {
    if (id > MAX_SECTOR_ID) fail(`sector id ${id}`);
    return (id + 1) * sectorSize;
  };

  // DIFAT sectors hold FAT sector ids beyond the header's 109; each ends with the next one's id.
  const difatChain = chainWalker(header.getUint32(0x44, true), MAX_DIFAT_SECTORS, (id) =>
    u32(sectorOffset(id) + sectorSize - 4),
  );
  const fatSectorId = async (index: number): Promise<number> => {
    if (index >= fatSectorCount) fail(`FAT sector ${index} of ${fatSectorCount}`);
    if (index < HEADER_DIFAT_ENTRIES) return header.getUint32(0x4c + index * 4, true);
    const rest = index - HEADER_DIFAT_ENTRIES;
    const difatSector = await difatChain(Math.floor(rest / (idsPerSector - 1)));
    if (difatSector === undefined) fail('DIFAT chain too short');
    return u32(sectorOffset(difatSector) + (rest % (idsPerSector - 1)) * 4);
  };
  const nextSector = async (id: number) => {
    const fatSector = await fatSectorId(Math.floor(id / idsPerSector));
    return u32(sectorOffset(fatSector) + (id % idsPerSector) * 4);
  };

  const directoryChain = chainWalker(
    header.getUint32(0x30, true),
    MAX_DIRECTORY_SECTORS,
    nextSector,
  );
  const entriesPerSector = sectorSize / ENTRY_BYTES;
  const entry = async (id: number) => {
    const sector = await directoryChain(Math.floor(id / entriesPerSector));
    if (sector === undefined) fail(`directory entry ${id} past the end`);
    const offset = sectorOffset(sector) + (id % entriesPerSector) * ENTRY_BYTES;
    return parseEntry(await read(offset, ENTRY_BYTES));
  };

  const root = await entry(0);
  if (root.type !== ROOT_STORAGE) fail('no root entry');
  // The root's children form a binary tree linked through left and right siblings.
  const names = new Set<string>();
  const visited = new Set<number>();
  const pending = [root.child];
  for (let id = pending.pop(); id !== undefined; id = pending.pop()) {
    if (id === NO_STREAM || visited.has(id)) continue;
    if (visited.size >= MAX_ROOT_CHILDREN) fail('too many root children');
    visited.add(id);
    const child = await entry(id);
    if (child.type === STREAM) names.add(child.name);
    pending.push(child.left, child.right);
  }
  return names;
}

/**
 * Follows a sector chain lazily: `at(n)` is the n-th sector of the chain, or undefined when the
 * chain ends before it. Throws on a cycle, an invalid id or a chain longer than `limit`.
 */
function chainWalker(
  start: number,
  limit: number,
  next: (id: number) => Promise<number>,
): (n: number) => Promise<number | undefined> {
  const chain: number[] = [];
  const seen = new Set<number>();
  let ended = start === END_OF_CHAIN;
  return async (n) => {
    while (chain.length <= n && !ended) {
      const last = chain.at(-1);
      const id = last === undefined ? start : await next(last);
      if (id === END_OF_CHAIN) {
        ended = true;
        break;
      }
      if (id > MAX_SECTOR_ID || seen.has(id)) fail(`bad or repeated sector ${id} in chain`);
      if (chain.length >= limit) fail(`chain longer than ${limit} sectors`);
      seen.add(id);
      chain.push(id);
    }
    return chain[n];
  };
}

function parseEntry(bytes: Uint8Array) {
  const entry = view(bytes);
  const nameBytes = entry.getUint16(0x40, true);
  // The length counts the terminating NUL; anything else is not a usable name.
  const valid = nameBytes >= 2 && nameBytes <= 64 && nameBytes % 2 === 0;
  const name = valid ? Buffer.from(bytes.subarray(0, nameBytes - 2)).toString('utf16le') : '';
  return {
    name,
    type: entry.getUint8(0x42),
    left: entry.getUint32(0x44, true),
    right: entry.getUint32(0x48, true),
    child: entry.getUint32(0x4c, true),
  };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function fail(reason: string): never {
  throw new MalformedCfbError(`Malformed compound file: ${reason}`);
}
