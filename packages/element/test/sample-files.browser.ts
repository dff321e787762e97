/**
 * Small, real sample files built in the browser, after reference-server/test/fixtures (which
 * need node:zlib and Buffer): a valid PDF, PNG, JPEG and DOCX, plus plain text.
 */

const latin1 = (text: string) => Uint8Array.from(text, (char) => char.charCodeAt(0));
const utf8 = (text: string) => new TextEncoder().encode(text);

function concat(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

const CRC_TABLE = Int32Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c;
});

function crc32(data: Uint8Array): number {
  let crc = -1;
  for (const byte of data) crc = (CRC_TABLE[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

function u32be(value: number): Uint8Array {
  const bytes = new Uint8Array(4);
  new DataView(bytes.buffer).setUint32(0, value);
  return bytes;
}

/** A valid one-page PDF saying "Hello", with an exact cross-reference table. */
export function pdfBytes(): Uint8Array<ArrayBuffer> {
  const header = '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n';
  const content = 'BT /F1 24 Tf 40 90 Td (Hello) Tj ET\n';
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}endstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let body = '';
  const offsets = objects.map((object, i) => {
    const offset = header.length + body.length;
    body += `${i + 1} 0 obj\n${object}\nendobj\n`;
    return offset;
  });
  const xref = header.length + body.length;
  const entries = offsets.map((offset) => `${String(offset).padStart(10, '0')} 00000 n \n`);
  body +=
    `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${entries.join('')}` +
    `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return latin1(header + body);
}

async function zlibDeflate(data: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  // CompressionStream's "deflate" is the zlib format PNG's IDAT expects.
  const stream = new Blob([data]).stream().pipeThrough(new CompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

function pngChunk(type: string, data: Uint8Array): Uint8Array {
  const body = concat([latin1(type), data]);
  return concat([u32be(data.length), body, u32be(crc32(body))]);
}

/** A valid RGB PNG of the given size with a gradient. */
export async function pngBytes(width = 2, height = 2): Promise<Uint8Array<ArrayBuffer>> {
  const header = new Uint8Array(13);
  const view = new DataView(header.buffer);
  view.setUint32(0, width);
  view.setUint32(4, height);
  header.set([8, 2, 0, 0, 0], 8); // 8-bit depth, truecolour, deflate, no filter, no interlace
  const raw = new Uint8Array(height * (1 + width * 3)); // each row: filter 0, then RGB pixels
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const at = y * (1 + width * 3) + 1 + x * 3;
      raw.set([(x * 255) / Math.max(1, width - 1), (y * 255) / Math.max(1, height - 1), 128], at);
    }
  }
  return concat([
    Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a),
    pngChunk('IHDR', header),
    pngChunk('IDAT', await zlibDeflate(raw)),
    pngChunk('IEND', new Uint8Array(0)),
  ]);
}

/**
 * A valid baseline JPEG: one 8×8 block of mid-grey (DC difference 0, no AC coefficients, so
 * one-symbol Huffman tables suffice and the scan is the byte 0x3F).
 */
export function jpegBytes(): Uint8Array<ArrayBuffer> {
  const segment = (marker: number, body: number[]) => [
    0xff,
    marker,
    (body.length + 2) >> 8,
    (body.length + 2) & 0xff,
    ...body,
  ];
  const oneSymbolTable = (tableClass: number) => [tableClass << 4, 1, ...Array(15).fill(0), 0];
  return Uint8Array.from([
    0xff,
    0xd8,
    ...segment(0xe0, [...latin1('JFIF\0'), 1, 1, 0, 0, 1, 0, 1, 0, 0]),
    ...segment(0xdb, [0, ...Array<number>(64).fill(1)]),
    ...segment(0xc0, [8, 0, 8, 0, 8, 1, 1, 0x11, 0]),
    ...segment(0xc4, oneSymbolTable(0)),
    ...segment(0xc4, oneSymbolTable(1)),
    ...segment(0xda, [1, 1, 0x00, 0, 63, 0]),
    0x3f,
    0xff,
    0xd9,
  ]);
}

/** A ZIP archive of stored (uncompressed) entries. */
function zipArchive(
  entries: ReadonlyArray<{ name: string; data: string }>,
): Uint8Array<ArrayBuffer> {
  const locals: Uint8Array[] = [];
  const centrals: Uint8Array[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = utf8(entry.name);
    const data = utf8(entry.data);
    const common = new Uint8Array(26);
    const view = new DataView(common.buffer);
    view.setUint16(0, 20, true); // version needed 2.0
    view.setUint16(2, 1 << 11, true); // UTF-8 names
    view.setUint16(8, (1 << 5) | 1, true); // 1980-01-01
    view.setUint32(10, crc32(data), true);
    view.setUint32(14, data.length, true);
    view.setUint32(18, data.length, true);
    view.setUint16(22, name.length, true);
    locals.push(Uint8Array.of(0x50, 0x4b, 0x03, 0x04), common, name, data);
    const tail = new Uint8Array(14);
    new DataView(tail.buffer).setUint32(10, offset, true);
    centrals.push(Uint8Array.of(0x50, 0x4b, 0x01, 0x02, 20, 0), common, tail, name);
    offset += 4 + common.length + name.length + data.length;
  }
  const directory = concat(centrals);
  const end = new Uint8Array(22);
  const view = new DataView(end.buffer);
  view.setUint32(0, 0x06054b50, true);
  view.setUint16(8, entries.length, true);
  view.setUint16(10, entries.length, true);
  view.setUint32(12, directory.length, true);
  view.setUint32(16, offset, true);
  return concat([...locals, directory, end]);
}

/** A minimal Word document: one paragraph saying "Hello". */
export function docxBytes(): Uint8Array<ArrayBuffer> {
  const xml = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
  const pkg = 'http://schemas.openxmlformats.org/package/2006';
  const rels = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
  const main = 'application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml';
  return zipArchive([
    {
      name: '[Content_Types].xml',
      data: `${xml}<Types xmlns="${pkg}/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="${main}"/></Types>`,
    },
    {
      name: '_rels/.rels',
      data: `${xml}<Relationships xmlns="${pkg}/relationships"><Relationship Id="rId1" Type="${rels}/officeDocument" Target="word/document.xml"/></Relationships>`,
    },
    {
      name: 'word/document.xml',
      data: `${xml}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>Hello</w:t></w:r></w:p></w:body></w:document>`,
    },
  ]);
}

/** Plain UTF-8 text, which has no magic number at all. */
export function textBytes(content = 'Hello, world!\nThis is plain text, not a picture.\n') {
  return utf8(content);
}

/** A File of `bytes` named `name`, with the MIME type a browser would give it. */
export function fileOf(bytes: Uint8Array<ArrayBuffer>, name: string, type = ''): File {
  return new File([bytes], name, { type });
}
