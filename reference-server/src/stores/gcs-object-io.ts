/**
 * The three object operations the GCS store builds on, each with the store's rules: uploads and
 * copies never overwrite (`ifGenerationMatch: 0`, a 412 is `'exists'`), and a missing object is
 * an ENOENT error, as the filesystem store reports it.
 */
import { PassThrough, Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { File } from '@google-cloud/storage';
import type { ByteRange } from './blob-store.js';
import { isStatus, notFoundError } from './gcs-errors.js';

/**
 * Uploads `source` to `file` if it does not exist. Multipart (`resumable: false`) is one request,
 * right for chunks; resumable streams objects of any size. The client checks the CRC32C GCS
 * reports against the bytes it sent. A failing source aborts the request, so nothing is created.
 */
export async function uploadNoClobber(
  file: File,
  source: Readable,
  resumable: boolean,
): Promise<{ outcome: 'created' | 'exists'; size: number }> {
  let size = 0;
  const count = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      size += chunk.length;
      done(null, chunk);
    },
  });
  const sink = file.createWriteStream({
    resumable,
    validation: 'crc32c',
    metadata: { contentType: 'application/octet-stream' },
    preconditionOpts: { ifGenerationMatch: 0 },
  });
  try {
    await pipeline(source, count, sink);
  } catch (error) {
    if (isStatus(error, 412)) return { outcome: 'exists', size };
    throw error;
  }
  return { outcome: 'created', size };
}

/** Server-side copy that never overwrites; ENOENT when the source is gone. */
export async function copyNoClobber(from: File, to: File): Promise<'created' | 'exists'> {
  try {
    await from.copy(to, { preconditionOpts: { ifGenerationMatch: 0 } });
    return 'created';
  } catch (error) {
    if (isStatus(error, 412)) return 'exists';
    if (isStatus(error, 404)) throw notFoundError(`No such object: ${from.name}`, error);
    throw error;
  }
}

/**
 * The bytes of `file`, or of an inclusive range. Whole reads are CRC32C-checked by the client
 * (ranges cannot be). The stream errors with code ENOENT when the object does not exist.
 */
export function readObjectStream(file: File, range?: ByteRange): Readable {
  const source = file.createReadStream(
    range ? { start: range.start, end: range.end, validation: false } : { validation: 'crc32c' },
  );
  const out = new PassThrough({ highWaterMark: 1024 * 1024 });
  source.on('error', (error) => {
    out.destroy(
      isStatus(error, 404) ? notFoundError(`No such object: ${file.name}`, error) : error,
    );
  });
  out.on('close', () => source.destroy()); // a consumer that stops early frees the request
  source.pipe(out);
  return out;
}
