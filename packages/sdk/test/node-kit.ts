/** Shared pieces of the SDK's Node tests against the real server behind the fault proxy. */
import { API_PREFIX } from '@file-uploader/protocol';
import { createUploader, type Uploader, type UploaderOptions } from '@file-uploader/sdk/node';
import { pdf, randomBytes } from '../../../reference-server/test/fixtures.js';
import type { TestServer } from '../../../reference-server/test/harness.js';
import type { FaultProxy } from './fault-proxy.js';

/** Backoff short enough for tests, with attempts to spare. */
export const FAST_RETRY = { retries: 20, minTimeoutMs: 5, maxTimeoutMs: 50 };

/** A Blob of Node bytes (Buffer's buffer may be shared, which BlobPart's type refuses). */
export function blobOf(bytes: Uint8Array): Blob {
  return new Blob([bytes as Uint8Array<ArrayBuffer>]);
}

/** A valid PDF of exactly `size` bytes whose content is random (so never deduplicated). */
export function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

/** An uploader for `user` that talks to the server through the proxy (chunks on node:http). */
export function proxiedUploader(
  proxy: FaultProxy,
  server: TestServer,
  user: string,
  options: Partial<UploaderOptions> = {},
): Uploader {
  return createUploader({
    endpoint: `${proxy.url}${API_PREFIX}`,
    getToken: () => server.token(user),
    retry: FAST_RETRY,
    stallTimeoutMs: 10_000,
    progressIntervalMs: 0,
    ...options,
  });
}
