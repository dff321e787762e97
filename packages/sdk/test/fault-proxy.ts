/**
 * A fault-injecting HTTP proxy for SDK tests: it sits on 127.0.0.1 in front of the real
 * reference server, streams every request and response through (never holding more than what
 * the sockets hand it), records each request, and lets a test decide per request what goes
 * wrong: an error status without forwarding, a dropped connection mid-body, a response lost
 * after the server acted on the request, a truncated response, a stall, or a delay.
 */
import { EventEmitter } from 'node:events';
import http from 'node:http';
import type net from 'node:net';
import { API_PREFIX, HEADERS, parseContentRange, type ErrorCode } from '@file-uploader/protocol';

/** Which protocol route a request is for. */
export type Route = 'initiate' | 'session' | 'events' | 'chunk' | 'status' | 'remove' | 'other';

/** What the proxy does with one request. */
export type Fault =
  /** Pass it through untouched. */
  | { type: 'forward' }
  /** Read the body, then answer `status` (with a protocol error body) without forwarding. */
  | { type: 'respond'; status: number; retryAfter?: number | string; code?: ErrorCode }
  /** Forward it, let the server answer, then destroy the client's socket instead of answering. */
  | { type: 'lose-response' }
  /** Forward `afterBytes` of the body (default: half), then drop both connections. */
  | { type: 'drop-mid-body'; afterBytes?: number }
  /** Forward it, then send the status line, headers and half the body, and drop the socket. */
  | { type: 'truncate-response' }
  /** Read the body and never answer, until the client gives up. */
  | { type: 'stall' }
  /**
   * Forward `afterBytes` of the body, then stop reading it for `holdMs`; after that, read and
   * discard the rest (a socket that is not read cannot tell that its client left) and never answer.
   */
  | { type: 'stall-mid-body'; afterBytes: number; holdMs: number }
  /** Forward it, reading the body at most `bytesPerTick` every `tickMs` (its first `untilBytes`). */
  | { type: 'throttle'; bytesPerTick: number; tickMs: number; untilBytes?: number }
  /** Forward it after `ms`. */
  | { type: 'delay'; ms: number }
  /** Forward it and pass on the answer's status and headers, but never its body (a buffering proxy). */
  | { type: 'withhold-body' };

/** Shorthands for faults. */
export const faults = {
  forward: { type: 'forward' } as Fault,
  status: (
    status: number,
    opts: { retryAfter?: number | string; code?: ErrorCode } = {},
  ): Fault => ({
    type: 'respond',
    status,
    ...opts,
  }),
  loseResponse: { type: 'lose-response' } as Fault,
  dropMidBody: (afterBytes?: number): Fault => ({
    type: 'drop-mid-body',
    ...(afterBytes !== undefined ? { afterBytes } : {}),
  }),
  truncateResponse: { type: 'truncate-response' } as Fault,
  stall: { type: 'stall' } as Fault,
  stallMidBody: (afterBytes: number, holdMs: number): Fault => ({
    type: 'stall-mid-body',
    afterBytes,
    holdMs,
  }),
  throttle: (bytesPerTick: number, tickMs: number, untilBytes?: number): Fault => ({
    type: 'throttle',
    bytesPerTick,
    tickMs,
    ...(untilBytes !== undefined ? { untilBytes } : {}),
  }),
  delay: (ms: number): Fault => ({ type: 'delay', ms }),
  withholdBody: { type: 'withhold-body' } as Fault,
};

/** What a policy sees of a request. */
export interface ProxiedRequest {
  /** 1-based number of this request among all the proxy saw. */
  readonly seq: number;
  readonly method: string;
  /** Path and query, as sent. */
  readonly url: string;
  readonly route: Route;
  /** `Content-Range` start of a chunk. */
  readonly start?: number;
  /**
   * 1-based: how many requests for the same thing (a chunk: same file and start; otherwise the
   * same method and path) the proxy has seen, this one included.
   */
  readonly attempt: number;
  readonly headers: http.IncomingHttpHeaders;
}

/** How a request ended, as far as the client is concerned. */
export type Outcome =
  | 'pending'
  /** The server's response reached the client. */
  | 'answered'
  /** The proxy answered with an injected status. */
  | 'injected'
  /** The server answered; the client's connection was destroyed instead. */
  | 'lost'
  /** The connection was dropped while the body was on its way. */
  | 'dropped'
  /** The server answered; the client got the head and part of the body. */
  | 'truncated'
  /** The proxy never answered; the client went away. */
  | 'stalled'
  /** The server could not be reached or went away: 502, or a dropped connection. */
  | 'upstream-error'
  /** The client went away before an answer. */
  | 'client-gone';

export interface RequestRecord extends ProxiedRequest {
  fault: Fault['type'];
  outcome: Outcome;
  /** performance.now() when the request arrived and when the proxy was done with it. */
  readonly startedAt: number;
  settledAt?: number;
  /** Status the client received (complete or truncated), if any. */
  status?: number;
  /** Status the server answered, when forwarded and answered. */
  upstreamStatus?: number;
  /** Body bytes received from the client. */
  bytesIn: number;
  /** Body bytes passed on to the server. */
  bytesForwarded: number;
  /** For event streams: the response text relayed to the client so far. */
  relayed?: string;
}

/** Everything the proxy saw, with a few views on it. */
export class ProxyStats {
  readonly records: RequestRecord[] = [];

  /** Requests in the proxy's hands (not settled yet). */
  get open(): number {
    return this.records.filter((r) => r.settledAt === undefined).length;
  }

  /** Requests that got an injected fault (anything but forward and delay). */
  get faults(): number {
    return this.records.filter(
      (r) => r.fault !== 'forward' && r.fault !== 'delay' && r.fault !== 'throttle',
    ).length;
  }

  count(filter: (r: RequestRecord) => boolean = () => true): number {
    return this.records.filter(filter).length;
  }

  /** Requests per route. */
  byRoute(): Record<Route, number> {
    const counts: Record<Route, number> = {
      initiate: 0,
      session: 0,
      events: 0,
      chunk: 0,
      status: 0,
      remove: 0,
      other: 0,
    };
    for (const r of this.records) counts[r.route]++;
    return counts;
  }

  /** Chunk requests per `Content-Range` start (optionally only those `filter` keeps). */
  chunkRequests(filter: (r: RequestRecord) => boolean = () => true): Map<number, number> {
    return this.#perStart(filter, () => 1);
  }

  /** Chunk body bytes received per `Content-Range` start. */
  chunkBytes(filter: (r: RequestRecord) => boolean = () => true): Map<number, number> {
    return this.#perStart(filter, (r) => r.bytesIn);
  }

  /** Chunk confirmations (200s that reached the client) per `Content-Range` start. */
  confirmedChunks(filter: (r: RequestRecord) => boolean = () => true): Map<number, number> {
    return this.#perStart(
      (r) => r.outcome === 'answered' && r.status === 200 && filter(r),
      () => 1,
    );
  }

  #perStart(
    filter: (r: RequestRecord) => boolean,
    value: (r: RequestRecord) => number,
  ): Map<number, number> {
    const out = new Map<number, number>();
    for (const r of this.records) {
      if (r.route !== 'chunk' || r.start === undefined || !filter(r)) continue;
      out.set(r.start, (out.get(r.start) ?? 0) + value(r));
    }
    return out;
  }

  reset(): void {
    this.records.length = 0;
  }
}

/** Decides the fault of each request; undefined forwards it. */
export type Policy = (request: ProxiedRequest) => Fault | undefined | Promise<Fault | undefined>;

export interface FaultProxy {
  /** e.g. http://127.0.0.1:40123 */
  readonly url: string;
  readonly stats: ProxyStats;
  /** `request` (a record, when a request arrives) and `settled` (a record, when it ends). */
  readonly events: EventEmitter<{ request: [RequestRecord]; settled: [RequestRecord] }>;
  setPolicy(policy: Policy): void;
  /** Drops the client connections of every open request on `route` (an event stream mid-wait). */
  cut(route: Route): number;
  /** Forgets every record, the request numbers and attempt counts, and sets the policy back. */
  reset(): void;
  /** Resolves once no request is in the proxy's hands. */
  idle(): Promise<void>;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const out: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  }
  return out;
}

const CODES: Record<number, ErrorCode> = {
  400: 'validation_failed',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  408: 'request_timeout',
  409: 'conflict',
  423: 'locked',
  429: 'rate_limited',
  500: 'internal',
  503: 'unavailable',
};

function onEnd(req: http.IncomingMessage, fn: () => void): void {
  if (req.readableEnded) fn();
  else req.once('end', fn);
}

function routeOf(method: string, pathname: string): Route {
  if (!pathname.startsWith(`${API_PREFIX}/`)) return 'other';
  const rest = pathname.slice(API_PREFIX.length);
  if (method === 'POST' && rest === '/initiate') return 'initiate';
  if (method === 'POST' && rest === '/chunk') return 'chunk';
  if (method === 'GET' && /^\/session\/[^/]+\/events$/.test(rest)) return 'events';
  if (method === 'GET' && rest.startsWith('/session/')) return 'session';
  if (method === 'GET' && rest.startsWith('/status/')) return 'status';
  if (method === 'DELETE' && /^\/[^/]+$/.test(rest)) return 'remove';
  return 'other';
}

/** Starts a proxy on a free port of 127.0.0.1 in front of `upstream` (e.g. the server's url). */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const target = new URL(upstream);
  const stats = new ProxyStats();
  const events = new EventEmitter<{ request: [RequestRecord]; settled: [RequestRecord] }>();
  const attempts = new Map<string, number>();
  const upstreamRequests = new Set<http.ClientRequest>();
  const responses = new Map<RequestRecord, http.ServerResponse>();
  let policy: Policy = () => undefined;
  let seq = 0;

  const settle = (record: RequestRecord, outcome: Outcome) => {
    if (record.settledAt !== undefined) return;
    record.outcome = outcome;
    record.settledAt = performance.now();
    responses.delete(record);
    events.emit('settled', record);
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const route = routeOf(method, new URL(url, 'http://proxy').pathname);
    const range =
      route === 'chunk' ? parseContentRange(String(req.headers['content-range'] ?? '')) : undefined;
    const key =
      route === 'chunk'
        ? `chunk ${String(req.headers[HEADERS.file.toLowerCase()])} ${range?.start}`
        : `${method} ${url}`;
    const attempt = (attempts.get(key) ?? 0) + 1;
    attempts.set(key, attempt);
    const record: RequestRecord = {
      seq: ++seq,
      method,
      url,
      route,
      ...(range ? { start: range.start } : {}),
      attempt,
      headers: req.headers,
      fault: 'forward',
      outcome: 'pending',
      startedAt: performance.now(),
      bytesIn: 0,
      bytesForwarded: 0,
    };
    stats.records.push(record);
    responses.set(record, res);
    events.emit('request', record);
    // Nothing flows until the fault is decided (a request stream starts paused).

    let fault: Fault;
    try {
      fault = (await policy(record)) ?? faults.forward;
    } catch (err) {
      fault = faults.status(500);
      console.error('fault-proxy policy threw', err);
    }
    record.fault = fault.type;
    req.on('data', (part: Buffer) => (record.bytesIn += part.length));
    req.pause(); // Flows again where the fault says so.

    // The client may leave at any time; what then happens upstream depends on the fault.
    let onClientGone = () => settle(record, 'client-gone');
    res.on('close', () => {
      if (!res.writableFinished) onClientGone();
    });

    switch (fault.type) {
      case 'respond': {
        req.resume();
        onEnd(req, () => {
          const code = fault.code ?? CODES[fault.status] ?? 'internal';
          const body = JSON.stringify({ error: { code, message: `Injected ${fault.status}.` } });
          const headers: http.OutgoingHttpHeaders = {
            'Content-Type': 'application/json',
            'Content-Length': Buffer.byteLength(body),
          };
          if (fault.retryAfter !== undefined) headers['Retry-After'] = String(fault.retryAfter);
          record.status = fault.status;
          res.writeHead(fault.status, headers).end(body, () => settle(record, 'injected'));
        });
        return;
      }
      case 'stall': {
        req.resume();
        onClientGone = () => settle(record, 'stalled');
        return;
      }
      case 'delay':
        await new Promise((resolve) => setTimeout(resolve, fault.ms));
        if (res.destroyed) return settle(record, 'client-gone');
        break;
      default:
        break;
    }
    forward(req, res, record, fault, (fn) => (onClientGone = fn));
  };

  const forward = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: RequestRecord,
    fault: Fault,
    whenClientGone: (fn: () => void) => void,
  ) => {
    const upstreamReq = http.request({
      protocol: target.protocol,
      hostname: target.hostname,
      port: target.port,
      method: record.method,
      path: record.url,
      headers: {
        ...endToEnd(req.headers),
        ...(req.headers['transfer-encoding'] ? { 'transfer-encoding': 'chunked' } : {}),
      },
      agent: false, // A fresh connection each time: no stale keep-alive sockets after a kill.
    });
    upstreamRequests.add(upstreamReq);
    let upstreamClosed = false;
    let upstreamRes: http.IncomingMessage | undefined;
    upstreamReq.on('close', () => {
      upstreamClosed = true;
      upstreamRequests.delete(upstreamReq);
    });

    const dropAt =
      fault.type === 'drop-mid-body'
        ? (fault.afterBytes ?? Math.floor(Number(req.headers['content-length'] ?? 0) / 2))
        : Infinity;
    let dropped = false;
    const drop = () => {
      dropped = true;
      req.socket.destroy();
      upstreamReq.destroy();
      settle(record, 'dropped');
    };

    // Reading stops while the server is not taking more, while a throttle waits for its next
    // tick, and for `holdMs` once a `stall-mid-body` has forwarded its share.
    const stallAt = fault.type === 'stall-mid-body' ? fault.afterBytes : Infinity;
    let stalledBody = false;
    let waitingDrain = false;
    let waitingTick = false;
    let tickBytes = 0;
    const flow = () => {
      if (!stalledBody && !waitingDrain && !waitingTick) req.resume();
    };

    req.on('data', (part: Buffer) => {
      if (dropped || stalledBody) return;
      const room = Math.min(dropAt, stallAt) - record.bytesForwarded;
      const piece = room < part.length ? part.subarray(0, Math.max(0, room)) : part;
      if (piece.length > 0) {
        record.bytesForwarded += piece.length;
        if (!upstreamReq.write(piece)) {
          waitingDrain = true;
          req.pause();
          upstreamReq.once('drain', () => {
            waitingDrain = false;
            flow();
          });
        }
      }
      if (record.bytesForwarded >= dropAt) return drop();
      if (record.bytesForwarded >= stallAt && fault.type === 'stall-mid-body') {
        stalledBody = true;
        req.pause();
        upstreamReq.destroy(); // The server sees the request cut short; the client sees nothing.
        setTimeout(() => req.resume(), fault.holdMs);
        return;
      }
      if (
        fault.type === 'throttle' &&
        record.bytesIn < (fault.untilBytes ?? Infinity) &&
        (tickBytes += part.length) >= fault.bytesPerTick
      ) {
        waitingTick = true;
        req.pause();
        setTimeout(() => {
          tickBytes = 0;
          waitingTick = false;
          flow();
        }, fault.tickMs);
      }
    });
    onEnd(req, () => {
      if (!dropped && !stalledBody) upstreamReq.end();
    });
    if (dropAt <= 0) drop();
    else req.resume();

    // The client left: a request whose body went through in full still runs on the server
    // (its answer is read and dropped); one cut short is cut short upstream too.
    whenClientGone(() => {
      if (dropped || record.settledAt !== undefined) return;
      if (stalledBody) return settle(record, 'stalled');
      if (!req.complete || record.route === 'events') {
        // An event stream never ends by itself: the client leaving ends it upstream too.
        upstreamReq.destroy();
        settle(record, 'client-gone');
        return;
      }
      record.outcome = 'client-gone';
      upstreamRes?.resume(); // An answer being relayed is read to its end and dropped.
      if (upstreamClosed) settle(record, 'client-gone');
      else upstreamReq.once('close', () => settle(record, 'client-gone'));
    });

    upstreamReq.on('error', () => {
      if (dropped || stalledBody || record.settledAt !== undefined) return;
      req.resume(); // Drain what is left of the body.
      if (res.headersSent || res.destroyed) {
        res.destroy();
        settle(record, 'upstream-error');
        return;
      }
      record.status = 502;
      res
        .writeHead(502, { 'Content-Type': 'text/plain', Connection: 'close' })
        .end('Bad Gateway', () => settle(record, 'upstream-error'));
    });

    upstreamReq.on('response', (upRes) => {
      upstreamRes = upRes;
      record.upstreamStatus = upRes.statusCode ?? 0;
      if (res.destroyed || record.outcome === 'client-gone') {
        upRes.resume();
        upRes.on('end', () => settle(record, 'client-gone'));
        return;
      }
      if (fault.type === 'lose-response') {
        upRes.resume();
        upRes.on('end', () => {
          res.socket?.destroy();
          settle(record, 'lost');
        });
        return;
      }
      const headers = endToEnd(upRes.headers);
      if (fault.type === 'withhold-body') {
        record.status = upRes.statusCode ?? 0;
        res.writeHead(record.status, headers).flushHeaders();
        upRes.resume(); // read and dropped
        return;
      }
      if (fault.type === 'truncate-response') {
        const parts: Buffer[] = [];
        upRes.on('data', (part: Buffer) => parts.push(part));
        upRes.on('end', () => {
          const body = Buffer.concat(parts);
          headers['content-length'] = body.length;
          record.status = upRes.statusCode ?? 0;
          res.writeHead(record.status, headers);
          res.write(body.subarray(0, Math.floor(body.length / 2)), () => {
            res.socket?.destroy();
            settle(record, 'truncated');
          });
        });
        return;
      }
      record.status = upRes.statusCode ?? 0;
      res.writeHead(record.status, headers);
      if (record.route === 'events') {
        record.relayed = '';
        upRes.on('data', (part: Buffer) => (record.relayed += part.toString('utf8')));
      }
      upRes.pipe(res);
      upRes.on('error', () => res.destroy());
      res.on('finish', () => settle(record, 'answered'));
    });
  };

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      console.error('fault-proxy failed', err);
      res.destroy();
    });
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as net.AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    events,
    setPolicy(next) {
      policy = next;
    },
    cut(route) {
      const cut = [...responses].filter(([record]) => record.route === route);
      for (const [, res] of cut) res.socket?.destroy();
      return cut.length;
    },
    reset() {
      policy = () => undefined;
      stats.reset();
      attempts.clear();
      seq = 0;
    },
    async idle() {
      while (stats.open > 0) {
        await new Promise((resolve) => events.once('settled', resolve));
      }
    },
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of sockets) socket.destroy();
      for (const request of upstreamRequests) request.destroy();
      await closed;
    },
  };
}

/** One chunk request as the SDK made it (seen from its `fetch` option). */
export interface ChunkSend {
  readonly fileId: string;
  readonly start: number;
  /** performance.now() when the SDK called fetch, and when the answer was read (or failed). */
  readonly at: number;
  endedAt?: number;
  /** The status, once the whole answer was read; undefined when the request failed. */
  status?: number;
}

/**
 * A fetch for the SDK's `fetch` option that logs each chunk request and whether its answer
 * arrived in full: what the SDK really got, which a proxy cannot tell (an answer the proxy wrote
 * may still be lost when the client aborts at that moment).
 */
export function recordingFetch(base: typeof fetch = fetch): {
  fetch: typeof fetch;
  sends: ChunkSend[];
} {
  const sends: ChunkSend[] = [];
  const recording: typeof fetch = async (input, init) => {
    const headers = new Headers(init?.headers);
    const range = parseContentRange(headers.get('content-range') ?? '');
    if (!range) return base(input, init);
    const send: ChunkSend = {
      fileId: headers.get(HEADERS.file) ?? '',
      start: range.start,
      at: performance.now(),
    };
    sends.push(send);
    try {
      const response = await base(input, init);
      await response.clone().arrayBuffer();
      send.status = response.status;
      return response;
    } finally {
      send.endedAt = performance.now();
    }
  };
  return { fetch: recording, sends };
}
