import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { fileTypeFromBuffer } from 'file-type';
import { FILE_TYPES, typesForHead } from '@file-uploader/protocol';
import type { FileTypeId } from '@file-uploader/protocol';
import { MAX_DETECT_READ_BYTES, detectType } from './detect-type.js';
import {
  cfb,
  doc,
  docx,
  exe,
  jpeg,
  padTo,
  pdf,
  png,
  randomBytes,
  text,
  xls,
  xlsx,
  zip,
} from '../../test/fixtures.js';

const MiB = 1024 * 1024;

/** A stored file whose reads are counted; bytes outside `parts` read as zeros. */
function source(size: number, parts: ReadonlyArray<readonly [number, Uint8Array]> = []) {
  const stats = { calls: 0, bytes: 0 };
  const read = async (start: number, end: number) => {
    assert.ok(start >= 0 && start <= end && end < size, `read ${start}-${end} outside the file`);
    stats.calls++;
    stats.bytes += end - start + 1;
    const out = Buffer.alloc(end - start + 1);
    for (const [offset, bytes] of parts) {
      const from = Math.max(start, offset);
      const to = Math.min(end + 1, offset + bytes.length);
      if (from < to) out.set(bytes.subarray(from - offset, to - offset), from - start);
    }
    return out;
  };
  return { read, stats };
}

function detect(file: Uint8Array) {
  return detectType(source(file.length, [[0, file]]).read, file.length);
}

const allowed: Array<[FileTypeId, () => Buffer]> = [
  ['pdf', pdf],
  ['png', () => png()],
  ['jpg', jpeg],
  ['docx', () => docx()],
  ['xlsx', () => xlsx()],
  ['doc', doc],
  ['xls', xls],
];

test('each sample file is detected as its type, in agreement with the magic-number rules', async () => {
  for (const [id, make] of allowed) {
    const file = make();
    assert.deepEqual(await detect(file), { fileType: id, mime: FILE_TYPES[id].mime }, id);
    assert.ok(typesForHead(file).includes(id), `${id} agrees with typesForHead`);
  }
});

test('OLE2 samples are plain compound files to file-type, told apart only by their directory', async () => {
  assert.equal((await fileTypeFromBuffer(doc()))?.mime, 'application/x-cfb');
  assert.equal((await fileTypeFromBuffer(xls()))?.mime, 'application/x-cfb');
  const book = Buffer.alloc(4096);
  assert.equal((await detect(cfb([{ name: 'Book', data: book }]))).fileType, 'xls');
  assert.equal((await detect(cfb([{ name: 'WORKBOOK', data: book }]))).fileType, 'xls');
});

test('executables, text, archives and garbage are not allowed, whatever they are named', async () => {
  assert.deepEqual(await detect(exe()), { mime: 'application/x-msdownload' });
  assert.deepEqual(await detect(text()), {});
  assert.deepEqual(await detect(zip()), { mime: 'application/zip' });
  assert.equal((await detect(randomBytes(10_000))).fileType, undefined);
  assert.deepEqual(await detectType(source(0).read, 0), {});
  // A compound file that is neither Word nor Excel, e.g. an MSI or an Outlook message.
  assert.deepEqual(await detect(cfb([{ name: 'Contents', data: Buffer.alloc(4096) }])), {
    mime: 'application/x-cfb',
  });
});

test('only top-level streams count: a Workbook embedded in another storage is not an xls', async () => {
  const embedded = cfb([
    { name: 'ObjectPool', children: [{ name: 'Workbook', data: Buffer.alloc(4096) }] },
  ]);
  assert.deepEqual(await detect(embedded), { mime: 'application/x-cfb' });
  const wordWithSheet = cfb([
    { name: 'WordDocument', data: Buffer.alloc(4096) },
    { name: 'ObjectPool', children: [{ name: 'Workbook', data: Buffer.alloc(4096) }] },
  ]);
  assert.equal((await detect(wordWithSheet)).fileType, 'doc');
});

test('truncated or malformed containers are not allowed and do not throw', async () => {
  const word = doc();
  for (const length of [8, 100, 511, 512, 700, 1024, 1100]) {
    assert.equal(
      (await detect(word.subarray(0, length))).fileType,
      undefined,
      `doc cut at ${length}`,
    );
  }
  const badShift = Buffer.from(word);
  badShift.writeUInt16LE(16, 0x1e);
  assert.deepEqual(await detect(badShift), { mime: 'application/x-cfb' });
  assert.deepEqual(await detect(docx().subarray(0, 20)), { mime: 'application/zip' });
  const zipGarbage = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), randomBytes(5000)]);
  assert.equal((await detect(zipGarbage)).fileType, undefined);
});

/** The byte offset of FAT entry `sector` in a file from the cfb() writer (one FAT sector). */
function fatEntryOffset(file: Buffer, sector: number): number {
  return 512 * (1 + file.readUInt32LE(0x4c)) + sector * 4;
}

test('a FAT cycle in the directory chain terminates', async () => {
  const word = doc();
  const directory = word.readUInt32LE(0x30);
  word.writeUInt32LE(directory, fatEntryOffset(word, directory)); // the sector follows itself
  word.writeUInt32LE(9, 512 * (1 + directory) + 0x4c); // root's child is in the chain's 3rd sector
  assert.deepEqual(await detect(word), { mime: 'application/x-cfb' });
});

test('a cycle in the sibling tree terminates and the streams before it still count', async () => {
  const word = doc();
  const entries = 512 * (1 + word.readUInt32LE(0x30));
  // doc(): the root's child is 1Table (entry 2), whose right sibling is WordDocument (entry 1).
  word.writeUInt32LE(0, entries + 2 * 128 + 0x44); // 1Table's left: the root entry
  word.writeUInt32LE(2, entries + 1 * 128 + 0x44); // WordDocument's left: back to 1Table
  word.writeUInt32LE(1, entries + 1 * 128 + 0x48); // WordDocument's right: itself
  assert.equal((await detect(word)).fileType, 'doc');
});

test('a DIFAT chain that loops terminates, even in a large sparse file', async () => {
  const header = doc().subarray(0, 512);
  const size = 64 * MiB;
  const directory = 40_000; // its FAT sector is listed past the header's 109 DIFAT entries
  const word = doc();
  const entries = 512 * (1 + word.readUInt32LE(0x30));
  const root = Buffer.from(word.subarray(entries, entries + 128));
  root.writeUInt32LE(4, 0x4c); // the root's child lives in the directory's second sector
  const patched = Buffer.from(header);
  patched.writeUInt32LE(0xffffffff, 0x2c); // claims 2^32 - 1 FAT sectors
  patched.writeUInt32LE(directory, 0x30);
  patched.writeUInt32LE(5, 0x44); // first DIFAT sector
  const difatLoop = Buffer.alloc(4);
  difatLoop.writeUInt32LE(5); // ...whose "next" pointer is itself
  const { read, stats } = source(size, [
    [0, patched],
    [512 * (1 + directory), root],
    [512 * 7 - 4, difatLoop], // the last 4 bytes of sector 5
  ]);
  assert.deepEqual(await detectType(read, size), { mime: 'application/x-cfb' });
  assert.ok(stats.bytes <= MAX_DETECT_READ_BYTES);
});

test('large files cost a few ranged reads: entry data is skipped, not read', async () => {
  const big = docx({ size: 50 * MiB });
  const docxSource = source(big.length, [[0, big]]);
  assert.equal((await detectType(docxSource.read, big.length)).fileType, 'docx');
  assert.ok(docxSource.stats.bytes <= 256 * 1024, `read ${docxSource.stats.bytes} bytes`);

  const bigPdf = pdf({ size: 50 * MiB });
  assert.equal(bigPdf.length, 50 * MiB);
  const pdfSource = source(bigPdf.length, [[0, bigPdf]]);
  assert.equal((await detectType(pdfSource.read, bigPdf.length)).fileType, 'pdf');
  assert.ok(pdfSource.stats.bytes <= 64 * 1024);

  const bigPng = padTo(png(), 50 * MiB);
  const pngSource = source(bigPng.length, [[0, bigPng]]);
  assert.equal((await detectType(pngSource.read, bigPng.length)).fileType, 'png');
  assert.equal(pngSource.stats.calls, 1);
});

test('a hostile ZIP of huge entry names is cut off at the read budget', async () => {
  // 1000 local headers, each with a 65,535-byte name and no data: 64 MiB of headers to walk.
  const header = Buffer.alloc(30);
  header.writeUInt32LE(0x04034b50, 0);
  header.writeUInt16LE(0xffff, 26);
  const entryBytes = header.length + 0xffff;
  const size = 1000 * entryBytes;
  const stats = { bytes: 0 };
  const read = async (start: number, end: number) => {
    stats.bytes += end - start + 1;
    const out = Buffer.alloc(end - start + 1, 'a');
    for (let at = start - (start % entryBytes); at <= end; at += entryBytes) {
      for (let i = 0; i < header.length; i++) {
        if (at + i >= start && at + i <= end) out[at + i - start] = header[i] ?? 0;
      }
    }
    return out;
  };
  const detected = await detectType(read, size);
  assert.equal(detected.fileType, undefined);
  assert.ok(stats.bytes <= MAX_DETECT_READ_BYTES, `read ${stats.bytes} bytes`);
});

test('a failing read rejects (a storage error is not a verdict), a short read does not', async () => {
  const failure = new Error('disk on fire');
  await assert.rejects(
    detectType(async () => Promise.reject(failure), 1000),
    (error) => error === failure,
  );
  const docFile = doc();
  const short = async (start: number, end: number) =>
    start === 0 ? docFile.subarray(0, 512) : docFile.subarray(start, end + 1);
  assert.equal((await detectType(short, docFile.length)).fileType, undefined);
  // A failure after the first block, inside the OLE2 and ZIP walks, also surfaces.
  const farDirectory = padTo(doc(), MiB);
  const directory = 1500;
  doc().copy(farDirectory, 512 * (1 + directory), 512 * (1 + doc().readUInt32LE(0x30)));
  farDirectory.writeUInt32LE(directory, 0x30);
  for (const file of [farDirectory, docx({ size: MiB })]) {
    let calls = 0;
    const failLate = async (start: number, end: number) => {
      if (++calls > 1) throw failure;
      return file.subarray(start, end + 1);
    };
    await assert.rejects(detectType(failLate, file.length), (error) => error === failure);
  }
});
