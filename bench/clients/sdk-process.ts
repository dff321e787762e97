/**
 * The Node SDK uploading one file in a process of its own, so its memory can be measured apart
 * from the benchmark's: `node sdk-client.mjs <endpoint> <token> <file>`. Prints one line of JSON:
 * the file's ids and this process's peak resident memory (VmHWM) in bytes.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createUploader, fileFromPath } from '@file-uploader/sdk/node';

const [endpoint, token, file] = process.argv.slice(2);
if (!endpoint || !token || !file) {
  console.error('usage: sdk-client.mjs <endpoint> <token> <file>');
  process.exit(2);
}
const uploader = createUploader({ endpoint, getToken: () => token });
const upload = uploader.add(await fileFromPath(file, { name: path.basename(file) }));
await upload.done;
const status = await readFile('/proc/self/status', 'utf8');
const peakKib = Number(/^VmHWM:\s+(\d+) kB/m.exec(status)?.[1]);
console.log(
  JSON.stringify({ sessionId: upload.sessionId, fileId: upload.fileId, peakBytes: peakKib * 1024 }),
);
