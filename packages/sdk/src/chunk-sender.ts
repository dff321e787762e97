import { UploadError } from './upload-error.js';

/** One chunk request, ready to go out: the transport has set every header. */
export interface ChunkRequest {
  url: string;
  headers: Record<string, string>;
  body: Uint8Array;
  signal: AbortSignal;
  /** Abort with `stalled` when no byte moves (up or down) for this long. */
  stallTimeoutMs: number;
  /** Bytes of the body the network has taken so far. */
  onProgress?: (loaded: number) => void;
}

/** An HTTP answer, its body parsed as JSON when it is JSON. */
export interface RawResponse {
  status: number;
  body: unknown;
  retryAfter: string | null;
}

/**
 * Sends one chunk request. Resolves with any HTTP answer; rejects only with an UploadError
 * (`aborted`, `stalled`, `network`). XHR in browsers, fetch elsewhere; `@file-uploader/sdk/node`
 * brings one on `node:http` that reports upload progress.
 */
export type ChunkSender = (request: ChunkRequest) => Promise<RawResponse>;

/** The error of a request stopped through its signal. */
export function abortedError(signal: AbortSignal): UploadError {
  return new UploadError('aborted', 'The upload was stopped.', false, undefined, {
    cause: signal.reason,
  });
}

/** The error of a request that made no progress for the stall timeout. */
export function stalledError(cause?: unknown): UploadError {
  return new UploadError('stalled', 'The request made no progress.', true, undefined, { cause });
}

/** The error of a request the network failed. */
export function networkError(cause?: unknown): UploadError {
  return new UploadError('network', 'The network request failed.', true, undefined, { cause });
}

/** A response body as JSON; undefined when empty or not JSON. */
export function parseBody(text: string): unknown {
  try {
    return text ? JSON.parse(text) : undefined;
  } catch {
    return undefined;
  }
}
