import { createReadStream } from 'node:fs';
import { Upload } from 'tus-js-client';

/**
 * tus-js-client as its documentation shows it for Node: a file read stream (read again by path
 * per chunk). `chunkSize: Infinity` sends the file in one PATCH. Resolves with the upload id (the
 * name @tus/file-store gives the file on disk).
 */
export function tusUpload(file: string, endpoint: string, chunkSize: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload = new Upload(createReadStream(file), {
      endpoint,
      chunkSize,
      retryDelays: [],
      metadata: { filename: 'payload.pdf', filetype: 'application/pdf' },
      removeFingerprintOnSuccess: true,
      onError: reject,
      onSuccess: () => {
        const id = upload.url?.split('/').pop();
        if (id) resolve(id);
        else reject(new Error('tus upload has no URL'));
      },
    });
    upload.start();
  });
}
