/**
 * Behaviour every Scanner must have. Each implementation's test file calls `scannerConformance`
 * with a scanner backed by a running engine whose database detects the EICAR test string.
 */
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { Readable } from 'node:stream';
import { doc, docx, jpeg, pdf, png, text, xls, xlsx, zipArchive } from '../../test/fixtures.js';
import { ScanError, ScanErrorKind, ScanVerdict, type Scanner } from './scanner.js';

export interface ScannerConformanceOptions {
  /** A scanner ready to use. */
  scanner: () => Scanner;
  /** The EICAR test file's bytes (built at run time, never stored in the repository). */
  eicar: Buffer;
  /** The signature name the scanner reports for EICAR. */
  eicarSignature: string;
}

/** `data` in pieces of `size` bytes, as storage or a network would deliver it. */
function piecesOf(data: Buffer, size: number): Readable {
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < data.length; offset += size) {
    pieces.push(data.subarray(offset, offset + size));
  }
  return Readable.from(pieces);
}

/** A Word document with `payload` as an embedded object, the way a macro dropper ships one. */
function docxWithEmbedded(payload: Buffer): Buffer {
  const office = 'application/vnd.openxmlformats-officedocument';
  const rels = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  return zipArchive([
    {
      name: '[Content_Types].xml',
      data:
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">' +
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>' +
        '<Default Extension="xml" ContentType="application/xml"/>' +
        `<Default Extension="bin" ContentType="${office}.oleObject"/>` +
        `<Override PartName="/word/document.xml" ContentType="${office}.wordprocessingml.document.main+xml"/></Types>`,
    },
    {
      name: '_rels/.rels',
      data: `<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="${rels}/officeDocument" Target="word/document.xml"/></Relationships>`,
    },
    {
      name: 'word/document.xml',
      data: '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Invoice</w:t></w:r></w:p></w:body></w:document>',
    },
    { name: 'word/embeddings/oleObject1.bin', data: payload },
  ]);
}

export function scannerConformance(name: string, options: ScannerConformanceOptions): void {
  const { eicar, eicarSignature } = options;
  const infected = { verdict: ScanVerdict.infected, signature: eicarSignature };

  describe(`Scanner conformance: ${name}`, () => {
    const cleanFiles: Array<[string, Buffer]> = [
      ['PDF', pdf()],
      ['PNG', png()],
      ['JPEG', jpeg()],
      ['DOCX', docx()],
      ['XLSX', xlsx()],
      ['DOC', doc()],
      ['XLS', xls()],
      ['text', text()],
    ];
    for (const [type, bytes] of cleanFiles) {
      it(`finds a clean ${type} clean`, async () => {
        assert.deepEqual(await options.scanner().scan(Readable.from([bytes])), {
          verdict: ScanVerdict.clean,
        });
      });
    }

    it('finds the EICAR file (uploaded as a .pdf) with its signature name', async () => {
      assert.deepEqual(await options.scanner().scan(Readable.from([eicar])), infected);
    });

    it('finds EICAR inside a DOCX (deflated in the archive)', async () => {
      const file = docxWithEmbedded(eicar);
      assert.equal(file.indexOf(eicar), -1, 'the payload must only exist compressed');
      assert.deepEqual(await options.scanner().scan(Readable.from([file])), infected);
    });

    it('finds EICAR split over many small pieces of the stream', async () => {
      const file = Buffer.concat([pdf(), eicar, Buffer.from('\n%%EOF\n')]);
      assert.deepEqual(await options.scanner().scan(piecesOf(file, 7)), infected);
    });

    it('finds an empty stream clean', async () => {
      assert.deepEqual(await options.scanner().scan(Readable.from([])), {
        verdict: ScanVerdict.clean,
      });
    });

    it('fails (never clean) when the source stream errors, and keeps working after', async () => {
      const scanner = options.scanner();
      const broken = new Readable({
        read() {
          this.push(pdf().subarray(0, 100));
          this.destroy(new Error('disk read failed'));
        },
      });
      await assert.rejects(scanner.scan(broken), (err: unknown) => {
        assert.ok(err instanceof ScanError);
        assert.equal(err.kind, ScanErrorKind.source_error);
        assert.equal(err.retryable, true);
        return true;
      });
      assert.deepEqual(await scanner.scan(Readable.from([eicar])), infected);
    });

    it('rejects with kind "aborted" and destroys the source when the signal fires', async () => {
      const controller = new AbortController();
      let pulled = 0;
      const endless = new Readable({
        read() {
          pulled += 1;
          if (pulled === 3) controller.abort(new Error('shutting down'));
          this.push(Buffer.alloc(1024, pulled));
        },
      });
      await assert.rejects(
        options.scanner().scan(endless, { signal: controller.signal }),
        (err: unknown) => err instanceof ScanError && err.kind === ScanErrorKind.aborted,
      );
      assert.equal(endless.destroyed, true);
    });

    it('rejects at once for a signal that has already fired', async () => {
      const source = Readable.from([eicar]);
      await assert.rejects(
        options.scanner().scan(source, { signal: AbortSignal.abort() }),
        (err: unknown) => err instanceof ScanError && err.kind === ScanErrorKind.aborted,
      );
      assert.equal(source.destroyed, true);
    });

    it('consumes and closes the source', async () => {
      const source = piecesOf(png(), 10);
      await options.scanner().scan(source);
      assert.equal(source.destroyed, true);
      assert.equal(source.readableLength, 0);
    });

    it('answers ping and reports a version', async () => {
      const scanner = options.scanner();
      await scanner.ping();
      assert.match(await scanner.version(), /\S/);
    });
  });
}
