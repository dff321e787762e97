/**
 * Reads one top-level stream of an OLE2 / Compound File Binary file (MS-CFB), in regular
 * sectors or in the mini stream where small streams such as `\x05SummaryInformation` live.
 * Every chain walk is bounded and cycle-checked; reads go through the bounded reader.
 * (services/cfb-directory.ts lists root stream names for type detection; this module also
 * needs sector chains, mini sectors and stream sizes.)
 */
import type { BoundedReader } from './bounded-reader.js';
import { limit, malformed } from './metadata-error.js';

const HEADER_BYTES = 512;
const ENTRY_BYTES = 128;
const HEADER_DIFAT_ENTRIES = 109;
const MAX_SECTOR_ID = 0xfffffffa;
const END_OF_CHAIN = 0xfffffffe;
const NO_STREAM = 0xffffffff;
const [STREAM, ROOT] = [2, 5];
const MAX_CHAIN_SECTORS = 1 << 16;
const MAX_ROOT_CHILDREN = 4096;
const SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];

interface Entry {
  name: string;
  type: number;
  left: number;
  right: number;
  child: number;
  start: number;
  size: number;
}

/** The content of root stream `name` (compared case-insensitively), or undefined if absent. */
export async function readCfbRootStream(
  reader: BoundedReader,
  name: string,
  maxBytes: number,
): Promise<Uint8Array | undefined> {
  const header = view(await reader.bytes(0, HEADER_BYTES));
  if (!SIGNATURE.every((byte, i) => header.getUint8(i) === byte)) malformed('no OLE2 signature');
  const sectorShift = header.getUint16(0x1e, true);
  if (sectorShift !== 9 && sectorShift !== 12) malformed(`OLE2 sector shift ${sectorShift}`);
  const sectorSize = 1 << sectorShift;
  const idsPerSector = sectorSize / 4;
  const miniSectorSize = 1 << header.getUint16(0x20, true);
  if (miniSectorSize !== 64) malformed(`OLE2 mini sector size ${miniSectorSize}`);
  const miniCutoff = header.getUint32(0x38, true);
  const fatSectorCount = header.getUint32(0x2c, true);

  const u32 = async (offset: number) => view(await reader.bytes(offset, 4)).getUint32(0, true);
  const sectorOffset = (id: number) => {
    if (id > MAX_SECTOR_ID) malformed(`OLE2 sector id ${id}`);
    return (id + 1) * sectorSize;
  };
  const difat = await chain(header.getUint32(0x44, true), (id) =>
    u32(sectorOffset(id) + sectorSize - 4),
  );
  const fatSectorId = async (index: number) => {
    if (index >= fatSectorCount) malformed(`OLE2 FAT sector ${index} of ${fatSectorCount}`);
    if (index < HEADER_DIFAT_ENTRIES) return header.getUint32(0x4c + index * 4, true);
    const rest = index - HEADER_DIFAT_ENTRIES;
    const sector = difat[Math.floor(rest / (idsPerSector - 1))];
    if (sector === undefined) malformed('OLE2 DIFAT chain too short');
    return u32(sectorOffset(sector) + (rest % (idsPerSector - 1)) * 4);
  };
  const nextSector = async (id: number) =>
    u32(sectorOffset(await fatSectorId(Math.floor(id / idsPerSector))) + (id % idsPerSector) * 4);

  const directory = await chain(header.getUint32(0x30, true), nextSector);
  const perSector = sectorSize / ENTRY_BYTES;
  const entry = async (id: number): Promise<Entry> => {
    const sector = directory[Math.floor(id / perSector)];
    if (sector === undefined) malformed(`OLE2 directory entry ${id} past the end`);
    return parseEntry(
      await reader.bytes(sectorOffset(sector) + (id % perSector) * ENTRY_BYTES, ENTRY_BYTES),
    );
  };

  const root = await entry(0);
  if (root.type !== ROOT) malformed('OLE2 file has no root entry');
  const wanted = name.toUpperCase();
  let found: Entry | undefined;
  const visited = new Set<number>();
  const pending = [root.child];
  for (let id = pending.pop(); id !== undefined && !found; id = pending.pop()) {
    if (id === NO_STREAM || visited.has(id)) continue;
    if (visited.size >= MAX_ROOT_CHILDREN) limit('too many OLE2 root entries');
    visited.add(id);
    const child = await entry(id);
    if (child.type === STREAM && child.name.toUpperCase() === wanted) found = child;
    pending.push(child.left, child.right);
  }
  if (!found) return undefined;
  if (found.size > maxBytes) limit(`OLE2 stream ${name} is over ${maxBytes} bytes`);

  const out = new Uint8Array(found.size);
  if (found.size >= miniCutoff) {
    const sectors = await chain(found.start, nextSector, Math.ceil(found.size / sectorSize));
    for (let i = 0, at = 0; at < found.size; i++, at += sectorSize) {
      const sector = sectors[i];
      if (sector === undefined) malformed(`OLE2 stream ${name} is shorter than its size`);
      out.set(await reader.bytes(sectorOffset(sector), Math.min(sectorSize, found.size - at)), at);
    }
    return out;
  }
  // Small streams live in 64-byte mini sectors inside the root entry's stream ("mini stream"),
  // chained by the mini FAT, itself a regular chain starting at header 0x3C.
  const miniFat = await chain(header.getUint32(0x3c, true), nextSector);
  const container = await chain(root.start, nextSector, Math.ceil(root.size / sectorSize));
  const miniIdsPerSector = sectorSize / 4;
  const nextMini = async (id: number) => {
    const fatSector = miniFat[Math.floor(id / miniIdsPerSector)];
    if (fatSector === undefined) malformed(`OLE2 mini sector ${id} has no mini FAT entry`);
    return u32(sectorOffset(fatSector) + (id % miniIdsPerSector) * 4);
  };
  const minis = await chain(found.start, nextMini, Math.ceil(found.size / miniSectorSize));
  for (let i = 0, at = 0; at < found.size; i++, at += miniSectorSize) {
    const mini = minis[i];
    if (mini === undefined) malformed(`OLE2 stream ${name} is shorter than its size`);
    const inContainer = mini * miniSectorSize;
    const sector = container[Math.floor(inContainer / sectorSize)];
    if (sector === undefined) malformed(`OLE2 mini sector ${mini} outside the mini stream`);
    const length = Math.min(miniSectorSize, found.size - at);
    out.set(await reader.bytes(sectorOffset(sector) + (inContainer % sectorSize), length), at);
  }
  return out;
}

/** The sector ids of a chain, at most `max` of them; throws on a cycle or an invalid id. */
async function chain(
  start: number,
  next: (id: number) => Promise<number>,
  max = MAX_CHAIN_SECTORS,
): Promise<number[]> {
  const ids: number[] = [];
  // Some writers mark an absent DIFAT or mini FAT with FREESECT instead of ENDOFCHAIN.
  if (start === NO_STREAM) return ids;
  const seen = new Set<number>();
  for (let id = start; id !== END_OF_CHAIN && ids.length < max; id = await next(id)) {
    if (id > MAX_SECTOR_ID || seen.has(id)) malformed(`bad or repeated OLE2 sector ${id}`);
    if (ids.length >= MAX_CHAIN_SECTORS) limit(`OLE2 chain longer than ${MAX_CHAIN_SECTORS}`);
    seen.add(id);
    ids.push(id);
  }
  return ids;
}

function parseEntry(bytes: Uint8Array): Entry {
  const entry = view(bytes);
  const nameBytes = entry.getUint16(0x40, true);
  const valid = nameBytes >= 2 && nameBytes <= 64 && nameBytes % 2 === 0;
  return {
    name: valid ? Buffer.from(bytes.subarray(0, nameBytes - 2)).toString('utf16le') : '',
    type: entry.getUint8(0x42),
    left: entry.getUint32(0x44, true),
    right: entry.getUint32(0x48, true),
    child: entry.getUint32(0x4c, true),
    start: entry.getUint32(0x74, true),
    // Version 3 files keep only the low 32 bits; the high half may hold garbage.
    size: entry.getUint32(0x78, true),
  };
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
