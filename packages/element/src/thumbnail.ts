import { sniffContainer, SNIFF_BYTES } from '@file-uploader/protocol';

/**
 * A preview of an image file: decoded off the main thread by `createImageBitmap`, scaled to fit
 * a `maxSize` square (never enlarged, aspect ratio kept), drawn on an `OffscreenCanvas` and
 * encoded as WebP (PNG where the browser cannot encode WebP). Resolves to an object URL the
 * caller must revoke, or undefined for files that are not images or cannot be decoded.
 * Rejects with `signal.reason` when aborted. Decoding holds one full-size bitmap for a moment,
 * so callers make thumbnails one at a time.
 */
export async function makeThumbnail(
  file: Blob,
  maxSize: number,
  signal?: AbortSignal,
): Promise<string | undefined> {
  if (!Number.isInteger(maxSize) || maxSize < 1) {
    throw new RangeError(`maxSize must be a positive integer: ${maxSize}`);
  }
  signal?.throwIfAborted();
  if (typeof createImageBitmap !== 'function' || typeof OffscreenCanvas !== 'function') {
    return undefined;
  }
  if (!(await looksLikeImage(file))) return undefined;
  signal?.throwIfAborted();

  let source: ImageBitmap;
  try {
    source = await createImageBitmap(file);
  } catch {
    return undefined; // corrupt or unsupported image data
  }
  let scaled: ImageBitmap | undefined;
  try {
    signal?.throwIfAborted();
    const scale = Math.min(1, maxSize / Math.max(source.width, source.height));
    const width = Math.max(1, Math.round(source.width * scale));
    const height = Math.max(1, Math.round(source.height * scale));
    scaled = await createImageBitmap(source, {
      resizeWidth: width,
      resizeHeight: height,
      resizeQuality: 'medium',
    });
    signal?.throwIfAborted();
    const canvas = new OffscreenCanvas(width, height);
    const context = canvas.getContext('2d');
    if (!context) return undefined;
    context.drawImage(scaled, 0, 0);
    const blob = await canvas.convertToBlob({ type: 'image/webp', quality: 0.85 });
    signal?.throwIfAborted();
    return URL.createObjectURL(blob);
  } finally {
    source.close();
    scaled?.close();
  }
}

/**
 * PNG and JPEG are recognised by their first bytes (a dropped file may carry no MIME type);
 * other images by their MIME type. Everything else is not decoded at all.
 */
async function looksLikeImage(file: Blob): Promise<boolean> {
  if (file.type.startsWith('image/')) return true;
  const head = new Uint8Array(await file.slice(0, SNIFF_BYTES).arrayBuffer());
  const container = sniffContainer(head);
  return container === 'png' || container === 'jpeg';
}
