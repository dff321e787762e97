import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { CONFIRM_DELETE, HEADERS, routePath } from '@file-uploader/protocol';
import { createUploader, fileFromPath, type UploaderOptions } from '@file-uploader/sdk/node';
// Not part of the package's exports: the function an upload calls for its content hash.
import { hashBlocks } from '../../packages/sdk/src/hashing.js';
import type { ReferenceServer } from '../src/servers.js';

export interface SdkUploadResult {
  sessionId: string;
  fileId: string;
  /** Time spent in each state until `ready` (`hashing`: the content hash, before initiate). */
  stateMs: Record<string, number>;
}

/**
 * Our Node SDK with its defaults (chunks of the server's size, 3 in flight, digests on), uploading
 * one file as `user`. Resolves once the server reports the file ready.
 */
export async function sdkUpload(
  server: ReferenceServer,
  file: string,
  user: string,
  options: Partial<UploaderOptions> = {},
): Promise<SdkUploadResult> {
  const token = server.token(user);
  const uploader = createUploader({ endpoint: server.endpoint, getToken: () => token, ...options });
  const stateMs: Record<string, number> = {};
  let since = performance.now();
  uploader.addEventListener('state', (event) => {
    const now = performance.now();
    const previous = event.previous ?? 'queued';
    stateMs[previous] = (stateMs[previous] ?? 0) + (now - since);
    since = now;
  });
  const upload = uploader.add(await fileFromPath(file, { name: 'payload.pdf' }));
  await upload.done;
  if (!upload.sessionId || !upload.fileId) throw new Error('a ready upload without ids');
  return { sessionId: upload.sessionId, fileId: upload.fileId, stateMs };
}

/** Deletes a stored file through the API, so runs do not fill the disk. */
export async function deleteStored(
  server: ReferenceServer,
  user: string,
  fileId: string,
): Promise<void> {
  const res = await fetch(server.url + routePath('remove', { fileId }), {
    method: 'DELETE',
    headers: {
      [HEADERS.authorization]: `Bearer ${server.token(user)}`,
      [HEADERS.confirm]: CONFIRM_DELETE,
    },
  });
  await res.arrayBuffer();
  if (!res.ok) throw new Error(`DELETE ${fileId}: ${res.status}`);
}

/**
 * Time the SDK takes for the content hash of `file` (SHA-256 of its 4 MiB blocks' digests), read
 * from disk the way an upload reads it. Small files are hashed so before initiate; larger ones
 * while their chunks go out, the blocks' digests doubling as the chunks'.
 */
export async function sdkContentHash(file: string): Promise<number> {
  const { blob } = await fileFromPath(file, { name: 'payload.pdf' });
  const started = performance.now();
  await hashBlocks(blob, new AbortController().signal);
  return performance.now() - started;
}

const run = promisify(execFile);

/**
 * One upload by the Node SDK in a process of its own (bench/clients/sdk-process.ts, built to
 * `program`): its ids and that process's peak resident memory.
 */
export async function sdkProcessUpload(
  program: string,
  server: ReferenceServer,
  file: string,
  user: string,
): Promise<{ sessionId: string; fileId: string; peakBytes: number }> {
  const { stdout } = await run(process.execPath, [
    program,
    server.endpoint,
    server.token(user),
    file,
  ]);
  return JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as {
    sessionId: string;
    fileId: string;
    peakBytes: number;
  };
}

/** Peak resident memory of a `node` process that does nothing: the floor under any client. */
export async function bareNodePeak(): Promise<number> {
  const script =
    "process.stdout.write(/VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1])";
  const { stdout } = await run(process.execPath, ['-e', script]);
  return Number(stdout) * 1024;
}
