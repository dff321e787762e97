import { expect } from '@open-wc/testing';
import { makeThumbnail } from '../src/thumbnail.js';
import { afterEach, describe, it } from './mocha-globals.browser.js';
import { fileOf, jpegBytes, pdfBytes, pngBytes, textBytes } from './sample-files.browser.js';

const urls: string[] = [];

/** Loads the thumbnail like the element does and reports its size and MIME type. */
async function inspect(url: string | undefined) {
  if (!url) throw new Error('expected a thumbnail URL');
  urls.push(url);
  const image = new Image();
  image.src = url;
  await image.decode();
  const blob = await (await fetch(url)).blob();
  const canvas = new OffscreenCanvas(image.naturalWidth, image.naturalHeight);
  const context = canvas.getContext('2d', { willReadFrequently: true });
  if (!context) throw new Error('no 2d context');
  context.drawImage(image, 0, 0);
  /** The RGB colour at (x, y). */
  const pixel = (x: number, y: number) => [...context.getImageData(x, y, 1, 1).data.slice(0, 3)];
  return { width: image.naturalWidth, height: image.naturalHeight, type: blob.type, pixel };
}

/** A JPEG of the given size, encoded by the browser from a drawing with distinct halves. */
async function jpegOfSize(width: number, height: number): Promise<Uint8Array<ArrayBuffer>> {
  const canvas = new OffscreenCanvas(width, height);
  const context = canvas.getContext('2d');
  if (!context) throw new Error('no 2d context');
  context.fillStyle = '#c33';
  context.fillRect(0, 0, width / 2, height);
  context.fillStyle = '#33c';
  context.fillRect(width / 2, 0, width / 2, height);
  const blob = await canvas.convertToBlob({ type: 'image/jpeg', quality: 0.9 });
  return new Uint8Array(await blob.arrayBuffer());
}

describe('makeThumbnail', () => {
  afterEach(() => {
    for (const url of urls.splice(0)) URL.revokeObjectURL(url);
  });

  it('scales a wide PNG to fit the box, keeping its aspect ratio', async () => {
    const file = fileOf(await pngBytes(400, 200), 'wide.png', 'image/png');
    const thumb = await inspect(await makeThumbnail(file, 100));
    expect([thumb.width, thumb.height]).to.deep.equal([100, 50]);
    expect(thumb.type).to.match(/^image\/(webp|png)$/);
  });

  it('scales a tall PNG by its height', async () => {
    const file = fileOf(await pngBytes(120, 300), 'tall.png', 'image/png');
    const thumb = await inspect(await makeThumbnail(file, 60));
    expect([thumb.width, thumb.height]).to.deep.equal([24, 60]);
  });

  it('never enlarges a small image', async () => {
    const file = fileOf(await pngBytes(2, 3), 'tiny.png', 'image/png');
    const thumb = await inspect(await makeThumbnail(file, 100));
    expect([thumb.width, thumb.height]).to.deep.equal([2, 3]);
  });

  it('decodes JPEGs: a hand-built baseline one and a browser-encoded one', async () => {
    const small = await inspect(await makeThumbnail(fileOf(jpegBytes(), 'grey.jpg'), 4));
    expect([small.width, small.height]).to.deep.equal([4, 4]);
    const photo = fileOf(await jpegOfSize(640, 480), 'photo.jpg', 'image/jpeg');
    const thumb = await inspect(await makeThumbnail(photo, 160));
    expect([thumb.width, thumb.height]).to.deep.equal([160, 120]);
    // The picture survived the scaling: red on the left, blue on the right.
    const [leftRed = 0, , leftBlue = 0] = thumb.pixel(20, 60);
    const [rightRed = 0, , rightBlue = 0] = thumb.pixel(140, 60);
    expect(leftRed - leftBlue).to.be.greaterThan(100);
    expect(rightBlue - rightRed).to.be.greaterThan(100);
  });

  it('recognises an image without a MIME type by its first bytes', async () => {
    const file = fileOf(await pngBytes(50, 10), 'no-type');
    const thumb = await inspect(await makeThumbnail(file, 25));
    expect([thumb.width, thumb.height]).to.deep.equal([25, 5]);
  });

  it('gives undefined for a PDF and for text', async () => {
    expect(await makeThumbnail(fileOf(pdfBytes(), 'a.pdf', 'application/pdf'), 100)).to.equal(
      undefined,
    );
    expect(await makeThumbnail(fileOf(textBytes(), 'a.txt', 'text/plain'), 100)).to.equal(
      undefined,
    );
  });

  it('gives undefined for corrupt image bytes', async () => {
    const png = await pngBytes(40, 40);
    const corrupt = png.slice();
    corrupt.fill(0x5a, 40); // keep the signature and IHDR, ruin the pixel data and CRCs
    expect(await makeThumbnail(fileOf(corrupt, 'broken.png', 'image/png'), 20)).to.equal(undefined);
    const truncated = jpegBytes().slice(0, 20);
    expect(await makeThumbnail(fileOf(truncated, 'cut.jpg', 'image/jpeg'), 20)).to.equal(undefined);
    expect(await makeThumbnail(fileOf(textBytes(), 'fake.png', 'image/png'), 20)).to.equal(
      undefined,
    );
  });

  it('rejects with the abort reason when aborted', async () => {
    const controller = new AbortController();
    controller.abort(new DOMException('stop', 'AbortError'));
    const file = fileOf(await pngBytes(10, 10), 'a.png', 'image/png');
    let error: unknown;
    try {
      await makeThumbnail(file, 10, controller.signal);
    } catch (caught) {
      error = caught;
    }
    expect((error as DOMException).name).to.equal('AbortError');
  });
});
