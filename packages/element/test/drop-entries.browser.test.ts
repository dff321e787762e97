import { expect } from '@open-wc/testing';
import {
  filesFromDataTransfer,
  filesFromEntries,
  type DirectoryEntryLike,
  type EntryLike,
  type FileEntryLike,
} from '../src/drop-entries.js';
import { describe, it } from './mocha-globals.browser.js';

/** Chromium's readEntries returns at most 100 entries per call. */
const BATCH = 100;

function fileEntry(name: string, content = name): FileEntryLike {
  const file = new File([content], name, { type: 'text/plain' });
  return {
    isFile: true,
    isDirectory: false,
    name,
    file: (success) => setTimeout(success, 0, file),
  };
}

/** A folder whose reader hands out its entries in batches, then one empty batch, like Chromium. */
function directory(name: string, entries: readonly EntryLike[], reads: number[] = []) {
  const entry: DirectoryEntryLike = {
    isFile: false,
    isDirectory: true,
    name,
    createReader() {
      let at = 0;
      return {
        readEntries(success) {
          const batch = entries.slice(at, at + BATCH);
          at += batch.length;
          reads.push(batch.length);
          setTimeout(success, 0, batch);
        },
      };
    },
  };
  return entry;
}

const names = (files: readonly File[]) => files.map((file) => file.name);

describe('filesFromEntries', () => {
  it('reads a folder of 250 files in batches until an empty batch', async () => {
    const reads: number[] = [];
    const many = Array.from({ length: 250 }, (_, i) => fileEntry(`f${i}.txt`));
    const files = await filesFromEntries([directory('many', many, reads)]);
    expect(files).to.have.length(250);
    expect(names(files)).to.deep.equal(many.map((entry) => entry.name));
    expect(reads).to.deep.equal([100, 100, 50, 0]);
  });

  it('walks nested folders depth first and keeps the file contents', async () => {
    const tree = [
      fileEntry('top.txt', 'top'),
      directory('a', [
        fileEntry('a1.txt', 'one'),
        directory('b', [fileEntry('b1.txt', 'deep')]),
        directory('empty', []),
        fileEntry('a2.txt', 'two'),
      ]),
      fileEntry('last.txt', 'last'),
    ];
    const files = await filesFromEntries(tree);
    expect(names(files)).to.deep.equal(['top.txt', 'a1.txt', 'b1.txt', 'a2.txt', 'last.txt']);
    expect(await Promise.all(files.map((file) => file.text()))).to.deep.equal([
      'top',
      'one',
      'deep',
      'two',
      'last',
    ]);
  });

  it('rejects with the error of an unreadable entry', async () => {
    const broken: FileEntryLike = {
      isFile: true,
      isDirectory: false,
      name: 'gone.txt',
      file: (_success, failure) => failure?.(new DOMException('gone', 'NotFoundError')),
    };
    let error: unknown;
    try {
      await filesFromEntries([directory('d', [fileEntry('ok.txt'), broken])]);
    } catch (caught) {
      error = caught;
    }
    expect((error as DOMException).name).to.equal('NotFoundError');
  });
});

describe('filesFromDataTransfer', () => {
  it('returns the plain files of a DataTransfer and skips string items', async () => {
    const dt = new DataTransfer();
    const a = new File(['alpha'], 'a.pdf', { type: 'application/pdf' });
    const b = new File(['beta'], 'b.png', { type: 'image/png' });
    dt.items.add(a);
    dt.items.add('https://example.com/', 'text/uri-list');
    dt.items.add(b);
    const files = await filesFromDataTransfer(dt);
    expect(names(files)).to.deep.equal(['a.pdf', 'b.png']);
    expect(await files[0]?.text()).to.equal('alpha');
    expect(await files[1]?.text()).to.equal('beta');
  });

  it('gives no files for a drag of text only', async () => {
    const dt = new DataTransfer();
    dt.setData('text/plain', 'hello');
    expect(await filesFromDataTransfer(dt)).to.deep.equal([]);
  });
});
