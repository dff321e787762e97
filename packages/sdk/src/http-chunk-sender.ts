/**
 * Chunk requests on `node:http`/`node:https`, for Node only (reached from
 * `@file-uploader/sdk/node`, never from the browser entry). Node 20's fetch reports no upload
 * progress, so a stall timer there can only bound a whole request; here the body is written in
 * pieces, each flushed piece counts as progress, and the stall timer restarts whenever bytes move.
 */
import http from 'node:http';
import https from 'node:https';
import {
  abortedError,
  networkError,
  parseBody,
  stalledError,
  type ChunkRequest,
  type ChunkSender,
  type RawResponse,
} from './chunk-sender.js';

export interface HttpChunkSenderOptions {
  /** Bytes written to the socket at a time (default 256 KiB). */
  pieceSize?: number;
  /** Connection pools to use; default: keep-alive agents of this sender. */
  agents?: { http?: http.Agent; https?: https.Agent };
}

const DEFAULT_PIECE_SIZE = 256 * 1024;

// An idle socket is closed before Node servers' 5 s keep-alive timeout would close it under us.
const AGENT_OPTIONS = { keepAlive: true, scheduling: 'lifo', timeout: 4_000 } as const;

/** A chunk sender on node:http(s) with keep-alive connections, upload progress and stall checks. */
export function httpChunkSender(options: HttpChunkSenderOptions = {}): ChunkSender {
  const pieceSize = Math.max(1, options.pieceSize ?? DEFAULT_PIECE_SIZE);
  let httpAgent = options.agents?.http;
  let httpsAgent = options.agents?.https;
  const agentFor = (protocol: string): http.Agent =>
    protocol === 'https:'
      ? (httpsAgent ??= new https.Agent(AGENT_OPTIONS))
      : (httpAgent ??= new http.Agent(AGENT_OPTIONS));
  return (request) => send(request, pieceSize, agentFor);
}

function send(
  request: ChunkRequest,
  pieceSize: number,
  agentFor: (protocol: string) => http.Agent,
): Promise<RawResponse> {
  const { signal } = request;
  return new Promise<RawResponse>((resolve, reject) => {
    if (signal.aborted) return reject(abortedError(signal));
    let url: URL;
    try {
      url = new URL(request.url);
    } catch (err) {
      return reject(networkError(err));
    }
    const body = Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength);
    const client = url.protocol === 'https:' ? https : http;
    const req = client.request(url, {
      method: 'POST',
      headers: { ...request.headers, 'Content-Length': String(body.length) },
      agent: agentFor(url.protocol),
    });

    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const finish = (error: Error | undefined, response?: RawResponse) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      if (error) {
        req.destroy();
        reject(error);
      } else {
        // An answer before the whole body went (e.g. a refusal) leaves the socket unusable.
        if (!req.writableFinished) req.destroy();
        resolve(response as RawResponse);
      }
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => finish(stalledError()), request.stallTimeoutMs);
    };
    const onAbort = () => finish(abortedError(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    req.on('error', (err) => finish(networkError(err)));

    req.on('response', (res) => {
      arm();
      const parts: Buffer[] = [];
      res.on('data', (part: Buffer) => {
        arm();
        parts.push(part);
      });
      res.on('end', () => {
        const retryAfter = res.headers['retry-after'];
        finish(undefined, {
          status: res.statusCode ?? 0,
          body: parseBody(Buffer.concat(parts).toString('utf8')),
          retryAfter: typeof retryAfter === 'string' ? retryAfter : null,
        });
      });
      // A response cut off on its way fails the request like a missing one does.
      res.on('error', (err) => finish(networkError(err)));
      res.on('close', () => {
        if (!res.complete) finish(networkError(new Error('The response was cut off.')));
      });
    });

    // Write piece by piece, waiting for `drain`: a flushed piece is progress, and a peer that
    // stops reading stops the flushes, which the stall timer notices.
    let loaded = 0;
    let offset = 0;
    const writeMore = () => {
      while (!settled && offset < body.length) {
        const piece = body.subarray(offset, offset + pieceSize);
        offset += piece.length;
        const more = req.write(piece, (err) => {
          if (err || settled) return;
          loaded += piece.length;
          arm();
          request.onProgress?.(loaded);
        });
        if (!more) {
          req.once('drain', writeMore);
          return;
        }
      }
      if (!settled) req.end();
    };
    arm();
    writeMore();
  });
}
