import {
  HEADERS,
  formatContentRange,
  routePath,
  type ChunkResponse,
  type RouteName,
} from '@file-uploader/protocol';
import {
  abortedError,
  networkError,
  parseBody,
  stalledError,
  type ChunkRequest,
  type ChunkSender,
  type RawResponse,
} from './chunk-sender.js';
import { readSlice } from './hashing.js';
import { errorFromResponse } from './upload-error.js';

/** Provides bearer tokens; `refresh` is true after the server refused the last one (401). */
export type TokenProvider = (refresh: boolean) => string | Promise<string>;

export interface TransportOptions {
  /** Base of the protocol routes, e.g. `/api/v1/upload` or `https://uploads.example/api/v1/upload`. */
  endpoint: string;
  getToken: TokenProvider;
  /** A request that makes no progress for this long is aborted and counts as `stalled`. */
  stallTimeoutMs: number;
  fetch?: typeof fetch;
  /** How chunks go out; default: XHR where it exists, else `fetch`. */
  sendChunk?: ChunkSender;
}

/** One chunk on the wire. */
export interface ChunkSend {
  sessionId: string;
  fileId: string;
  start: number;
  end: number;
  size: number;
  /** The chunk: a slice of the file, sent as is by XHR and fetch. */
  body: Blob;
  /** Its bytes, when they were already read (to hash them); senders that need bytes use them. */
  bytes?: Uint8Array;
  /** `Content-Digest` value, when digests are on. */
  digest?: string;
  /** The file's content hash, announced once it is known after initiate (the server dedupes). */
  contentHash?: string;
  signal: AbortSignal;
  /** Bytes of this chunk the network has taken so far (XHR, or the Node sender). */
  onProgress?: (loaded: number) => void;
}

/** Speaks protocol v1 over HTTP: JSON routes with fetch, chunks with XHR where it exists. */
export class Transport {
  #token: Promise<string> | undefined;

  constructor(private readonly options: TransportOptions) {}

  /** Path of a route under the endpoint. */
  url(route: RouteName, params: Record<string, string> = {}): string {
    return routePath(route, params, this.options.endpoint.replace(/\/+$/, ''));
  }

  /** A JSON request; resolves with the parsed body of a 2xx, throws UploadError otherwise. */
  async json<T>(
    method: string,
    url: string,
    init: { body?: unknown; headers?: Record<string, string>; signal: AbortSignal },
  ): Promise<T> {
    const response = await this.#authorized(async (token) => {
      const headers: Record<string, string> = {
        ...init.headers,
        [HEADERS.authorization]: `Bearer ${token}`,
      };
      if (init.body !== undefined) headers['Content-Type'] = 'application/json';
      return this.#fetch(url, {
        method,
        headers,
        body: init.body === undefined ? undefined : JSON.stringify(init.body),
        signal: init.signal,
      });
    });
    return response.body as T;
  }

  /**
   * Opens a `text/event-stream` GET; resolves with its body once the headers are in. Error
   * answers fail as on the JSON routes; a 2xx that is no event stream counts as a 404.
   */
  async events(
    url: string,
    headers: Record<string, string>,
    signal: AbortSignal,
  ): Promise<ReadableStream<Uint8Array>> {
    const response = await this.#authorized(async (token) => {
      let res: Response;
      try {
        res = await (this.options.fetch ?? globalThis.fetch)(url, {
          headers: { ...headers, [HEADERS.authorization]: `Bearer ${token}` },
          signal,
        });
      } catch (err) {
        throw signal.aborted ? abortedError(signal) : networkError(err);
      }
      const stream = res.ok && res.headers.get('Content-Type')?.startsWith('text/event-stream');
      if (!stream) await res.body?.cancel().catch(() => undefined);
      return {
        // A 200 of another kind (an HTML fallback page) is as good as no such route.
        status: res.ok && !stream ? 404 : res.status,
        body: res.body,
        retryAfter: res.headers.get(HEADERS.retryAfter),
      };
    });
    return response.body as ReadableStream<Uint8Array>;
  }

  /** Sends one chunk; resolves with the server's confirmation. */
  async chunk(send: ChunkSend): Promise<ChunkResponse> {
    const response = await this.#authorized(async (token) => {
      const headers: Record<string, string> = {
        [HEADERS.authorization]: `Bearer ${token}`,
        [HEADERS.session]: send.sessionId,
        [HEADERS.file]: send.fileId,
        [HEADERS.contentRange]: formatContentRange(send),
        'Content-Type': 'application/octet-stream',
      };
      if (send.digest) headers[HEADERS.contentDigest] = send.digest;
      if (send.contentHash) headers[HEADERS.contentHash] = send.contentHash;
      const request = {
        url: this.url('chunk'),
        headers,
        body: send.body,
        signal: send.signal,
        stallTimeoutMs: this.options.stallTimeoutMs,
        ...(send.onProgress ? { onProgress: send.onProgress } : {}),
      };
      if (this.options.sendChunk) {
        // Custom senders (Node's node:http one) take bytes.
        const bytes = send.bytes ?? (await readSlice(send.body, 0, send.body.size));
        return this.options.sendChunk({ ...request, body: bytes });
      }
      return typeof XMLHttpRequest === 'function'
        ? sendWithXhr(request)
        : this.#fetch(request.url, {
            method: 'POST',
            headers,
            body: send.body,
            signal: send.signal,
          });
    });
    return response.body as ChunkResponse;
  }

  /** Runs a request with the current token; after a 401, once more with a fresh one. */
  async #authorized(run: (token: string) => Promise<RawResponse>): Promise<RawResponse> {
    for (let attempt = 0; ; attempt++) {
      const refresh = attempt > 0;
      if (refresh || !this.#token) {
        this.#token = Promise.resolve(this.options.getToken(refresh));
        this.#token.catch(() => (this.#token = undefined));
      }
      const response = await run(await this.#token);
      if (response.status >= 200 && response.status < 300) return response;
      if (response.status === 401 && attempt === 0) continue;
      throw errorFromResponse(response.status, response.body, response.retryAfter);
    }
  }

  async #fetch(url: string, init: RequestInit & { signal: AbortSignal }): Promise<RawResponse> {
    const doFetch = this.options.fetch ?? globalThis.fetch;
    const stall = AbortSignal.timeout(this.options.stallTimeoutMs);
    let response: Response;
    let text: string;
    try {
      response = await doFetch(url, { ...init, signal: AbortSignal.any([init.signal, stall]) });
      // A body cut off (or stalled) on its way fails the request like a missing response does.
      text = await response.text();
    } catch (err) {
      if (init.signal.aborted) throw abortedError(init.signal);
      if (stall.aborted) throw stalledError(err);
      throw networkError(err);
    }
    return {
      status: response.status,
      body: parseBody(text),
      retryAfter: response.headers.get(HEADERS.retryAfter),
    };
  }
}

/** XHR, for upload progress and a stall timer that restarts whenever bytes move. */
function sendWithXhr(send: Omit<ChunkRequest, 'body'> & { body: Blob }): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const stalled = () => {
      xhr.abort();
      reject(stalledError());
    };
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(stalled, send.stallTimeoutMs);
    };
    const onAbort = () => {
      xhr.abort();
      reject(abortedError(send.signal));
    };
    const done = () => {
      clearTimeout(timer);
      send.signal.removeEventListener('abort', onAbort);
    };
    if (send.signal.aborted) return reject(abortedError(send.signal));
    send.signal.addEventListener('abort', onAbort, { once: true });
    xhr.open('POST', send.url);
    for (const [name, value] of Object.entries(send.headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => {
      arm();
      send.onProgress?.(event.loaded);
    };
    xhr.onload = () => {
      done();
      resolve({
        status: xhr.status,
        body: parseBody(xhr.responseText),
        retryAfter: xhr.getResponseHeader(HEADERS.retryAfter),
      });
    };
    xhr.onerror = () => {
      done();
      reject(networkError());
    };
    arm();
    xhr.send(send.body);
  });
}
