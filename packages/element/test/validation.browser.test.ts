import { expect } from '@open-wc/testing';
import {
  RejectionCode,
  dragVerdict,
  nearLimit,
  parseAccept,
  parseSize,
  validateFiles,
  type ValidationRules,
} from '../src/validation.js';
import { describe, it } from './mocha-globals.browser.js';
import {
  docxBytes,
  fileOf,
  jpegBytes,
  pdfBytes,
  pngBytes,
  textBytes,
} from './sample-files.browser.js';

const NONE = { count: 0, totalBytes: 0 };
const ALL: ValidationRules = { accept: [] };

function codes(rejected: ReadonlyArray<{ file: File; code: string }>) {
  return rejected.map(({ file, code }) => `${file.name}:${code}`);
}

describe('parseAccept', () => {
  it('normalises extensions, MIME types, wildcards and bare type names', () => {
    expect(parseAccept(' .PDF, .docx ,image/*,, Application/PDF, jpeg, .pdf, bogus')).to.deep.equal(
      ['.pdf', '.docx', 'image/*', 'application/pdf', '.jpg'],
    );
  });

  it('gives an empty list for a missing or blank attribute', () => {
    expect(parseAccept(null)).to.deep.equal([]);
    expect(parseAccept(undefined)).to.deep.equal([]);
    expect(parseAccept('  ,  ')).to.deep.equal([]);
  });
});

describe('parseSize', () => {
  const cases: Array<[string | null | undefined, number | undefined]> = [
    ['100MB', 100_000_000],
    ['100 mb', 100_000_000],
    ['1.5 GiB', 1.5 * 2 ** 30],
    ['1.5GiB', 1_610_612_736],
    ['500kb', 500_000],
    ['500 KB', 500_000],
    ['64KiB', 65_536],
    ['2 MiB', 2_097_152],
    ['1 TB', 1e12],
    ['2G', 2e9],
    ['10k', 10_000],
    ['1024', 1024],
    ['1024 B', 1024],
    [' 7 ', 7],
    ['.5 MB', 500_000],
    ['0', 0],
    ['', undefined],
    [null, undefined],
    [undefined, undefined],
    ['abc', undefined],
    ['-5 MB', undefined],
    ['5 XB', undefined],
    ['10 ib', undefined],
    ['1,5 MB', undefined],
    ['MB', undefined],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} -> ${expected}`, () => {
      expect(parseSize(text)).to.equal(expected);
    });
  }
});

describe('validateFiles: type and content', () => {
  it('accepts real PDF, PNG, JPEG and DOCX files', async () => {
    const files = [
      fileOf(pdfBytes(), 'report.pdf', 'application/pdf'),
      fileOf(await pngBytes(), 'photo.png', 'image/png'),
      fileOf(jpegBytes(), 'photo.JPEG', 'image/jpeg'),
      fileOf(docxBytes(), 'letter.docx'),
    ];
    const { accepted, rejected } = await validateFiles(files, ALL, NONE);
    expect(codes(rejected)).to.deep.equal([]);
    expect(accepted).to.deep.equal(files);
  });

  it('refuses a text file named .png with code "content"', async () => {
    const fake = fileOf(textBytes(), 'cat.png', 'image/png');
    const { accepted, rejected } = await validateFiles([fake], ALL, NONE);
    expect(accepted).to.deep.equal([]);
    expect(rejected).to.have.length(1);
    expect(rejected[0]?.file).to.equal(fake);
    expect(rejected[0]?.code).to.equal(RejectionCode.content);
    expect(rejected[0]?.params).to.deep.equal({ name: 'cat.png', type: 'PNG' });
  });

  it('refuses a PDF named .png and a PNG named .pdf by their content', async () => {
    const files = [fileOf(pdfBytes(), 'a.png'), fileOf(await pngBytes(), 'b.pdf')];
    const { rejected } = await validateFiles(files, ALL, NONE);
    expect(codes(rejected)).to.deep.equal(['a.png:content', 'b.pdf:content']);
  });

  it('claims the type by MIME type when the name has no extension', async () => {
    const files = [fileOf(pdfBytes(), 'scan', 'application/pdf'), fileOf(pdfBytes(), 'notes')];
    const { accepted, rejected } = await validateFiles(files, ALL, NONE);
    expect(accepted.map((f) => f.name)).to.deep.equal(['scan']);
    expect(codes(rejected)).to.deep.equal(['notes:type']);
  });

  it('refuses types the protocol does not know, even if accept lists them', async () => {
    const rules = { accept: parseAccept('.txt,text/plain,.pdf') };
    const { rejected } = await validateFiles(
      [fileOf(textBytes(), 'readme.txt', 'text/plain')],
      rules,
      NONE,
    );
    expect(codes(rejected)).to.deep.equal(['readme.txt:type']);
    expect(rejected[0]?.params).to.deep.equal({ name: 'readme.txt', accept: 'PDF' });
  });

  it('applies accept by extension, MIME type and wildcard', async () => {
    const files = [
      fileOf(pdfBytes(), 'a.pdf', 'application/pdf'),
      fileOf(await pngBytes(), 'b.png', 'image/png'),
      fileOf(jpegBytes(), 'c.jpg'),
      fileOf(docxBytes(), 'd.docx'),
    ];
    const byExtension = await validateFiles(files, { accept: parseAccept('.pdf') }, NONE);
    expect(byExtension.accepted.map((f) => f.name)).to.deep.equal(['a.pdf']);
    expect(codes(byExtension.rejected)).to.deep.equal(['b.png:type', 'c.jpg:type', 'd.docx:type']);

    const byWildcard = await validateFiles(files, { accept: parseAccept('image/*') }, NONE);
    expect(byWildcard.accepted.map((f) => f.name)).to.deep.equal(['b.png', 'c.jpg']);
    expect(byWildcard.rejected[0]?.params.accept).to.equal('PNG, JPG');

    const byMime = await validateFiles(
      files,
      {
        accept: parseAccept(
          'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
        ),
      },
      NONE,
    );
    expect(byMime.accepted.map((f) => f.name)).to.deep.equal(['d.docx']);
  });

  it('refuses empty files before looking at their type', async () => {
    const { rejected } = await validateFiles(
      [fileOf(new Uint8Array(0), 'empty.pdf'), fileOf(new Uint8Array(0), 'empty.txt')],
      ALL,
      NONE,
    );
    expect(codes(rejected)).to.deep.equal(['empty.pdf:empty', 'empty.txt:empty']);
  });

  it('reads only the head of a file', async () => {
    // A 64 MiB blob of a PDF head and zeros: reading it whole would be slow and is not needed.
    const big = new File([pdfBytes(), new Uint8Array(64 * 2 ** 20)], 'big.pdf');
    const sliced: Array<[number | undefined, number | undefined]> = [];
    const slice = big.slice.bind(big);
    big.slice = (start?: number, end?: number, type?: string) => {
      sliced.push([start, end]);
      return slice(start, end, type);
    };
    const { accepted } = await validateFiles([big], ALL, NONE);
    expect(accepted).to.deep.equal([big]);
    expect(sliced).to.deep.equal([[0, 8]]);
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort(new DOMException('gone', 'AbortError'));
    let error: unknown;
    try {
      await validateFiles([fileOf(pdfBytes(), 'a.pdf')], ALL, NONE, controller.signal);
    } catch (caught) {
      error = caught;
    }
    expect((error as DOMException).name).to.equal('AbortError');
  });
});

describe('validateFiles: limits', () => {
  const pdf = (name: string) => fileOf(pdfBytes(), name, 'application/pdf');
  const size = pdfBytes().length;

  it('refuses a file over maxFileSize and keeps one exactly at it', async () => {
    const big = new File([pdfBytes(), new Uint8Array(100)], 'big.pdf');
    const { accepted, rejected } = await validateFiles(
      [pdf('fits.pdf'), big],
      { accept: [], maxFileSize: size },
      NONE,
    );
    expect(accepted.map((f) => f.name)).to.deep.equal(['fits.pdf']);
    expect(rejected.map((r) => [r.code, r.params])).to.deep.equal([
      ['file-size', { name: 'big.pdf', size: size + 100, max: size }],
    ]);
  });

  it('counts the files already listed towards maxFiles', async () => {
    const { accepted, rejected } = await validateFiles(
      [pdf('1.pdf'), pdf('2.pdf'), pdf('3.pdf')],
      { accept: [], maxFiles: 3 },
      { count: 1, totalBytes: size },
    );
    expect(accepted.map((f) => f.name)).to.deep.equal(['1.pdf', '2.pdf']);
    expect(rejected.map((r) => [r.code, r.params])).to.deep.equal([
      ['count', { name: '3.pdf', max: 3 }],
    ]);
  });

  it('counts the bytes already listed towards maxTotalSize; a later smaller file still fits', async () => {
    const big = new File([pdfBytes(), new Uint8Array(1000)], 'big.pdf');
    const max = 1000 + 2 * size;
    const { accepted, rejected } = await validateFiles(
      [pdf('a.pdf'), big, pdf('b.pdf')],
      { accept: [], maxTotalSize: max },
      { count: 2, totalBytes: 1000 },
    );
    expect(accepted.map((f) => f.name)).to.deep.equal(['a.pdf', 'b.pdf']);
    expect(rejected.map((r) => [r.code, r.params])).to.deep.equal([
      ['total-size', { name: 'big.pdf', size: big.size, total: 1000 + size + big.size, max }],
    ]);
  });

  it('does not count refused files towards the limits', async () => {
    const { accepted, rejected } = await validateFiles(
      [fileOf(textBytes(), 'fake.pdf'), pdf('real.pdf')],
      { accept: [], maxFiles: 1, maxTotalSize: size },
      NONE,
    );
    expect(accepted.map((f) => f.name)).to.deep.equal(['real.pdf']);
    expect(codes(rejected)).to.deep.equal(['fake.pdf:content']);
  });
});

describe('nearLimit', () => {
  it('is true from 90 % of the total limit', () => {
    expect(nearLimit(899, 1000)).to.equal(false);
    expect(nearLimit(900, 1000)).to.equal(true);
    expect(nearLimit(1000, 1000)).to.equal(true);
    expect(nearLimit(10 ** 12, undefined)).to.equal(false);
  });
});

describe('dragVerdict', () => {
  function items(...entries: Array<File | string>): DataTransferItemList {
    const dt = new DataTransfer();
    for (const entry of entries) {
      if (typeof entry === 'string') dt.items.add(entry, 'text/plain');
      else dt.items.add(entry);
    }
    return dt.items;
  }
  const file = (type: string) => new File(['x'], 'x', { type });
  const pdfOnly = { accept: parseAccept('.pdf') };

  it('accepts when every file has an allowed MIME type', () => {
    expect(dragVerdict(items(file('application/pdf')), pdfOnly)).to.equal('accept');
    expect(dragVerdict(items(file('image/png'), file('image/jpeg')), ALL)).to.equal('accept');
  });

  it('rejects when every file has a refused MIME type, or nothing is a file', () => {
    expect(dragVerdict(items(file('image/png')), pdfOnly)).to.equal('reject');
    expect(dragVerdict(items(file('text/plain')), ALL)).to.equal('reject');
    expect(dragVerdict(items('just text'), ALL)).to.equal('reject');
  });

  it('is unknown for files without a MIME type and for mixed drags', () => {
    expect(dragVerdict(items(file('')), pdfOnly)).to.equal('unknown');
    expect(dragVerdict(items(file('application/pdf'), file('image/png')), pdfOnly)).to.equal(
      'unknown',
    );
  });
});
