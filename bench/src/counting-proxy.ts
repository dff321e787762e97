/**
 * A TCP proxy on 127.0.0.1 that counts what clients hand to the server, whatever HTTP client
 * they use: all bytes, and the chunk requests (POST …/chunk) on the wire at any moment. Only
 * bytes that reached the server's socket count: a refused connection costs nothing.
 */
import net from 'node:net';

/** One request as seen on a connection. */
interface SeenRequest {
  isChunk: boolean;
  /** Its declared Content-Length. */
  bodyBytes: number;
}

export interface CountingProxy {
  readonly url: string;
  /** Bytes forwarded from clients to the server so far (heads and bodies). */
  readonly upstreamBytes: number;
  /** Chunk requests that reached the server so far. */
  readonly chunkRequests: number;
  /**
   * Starts collecting the chunk requests on the wire now and those that start later; the
   * returned function stops and gives the sum of their body sizes.
   */
  watchInFlight(): () => number;
  close(): Promise<void>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/** Follows the requests on one connection: heads, then Content-Length bytes of body. */
class RequestTracker {
  #head = Buffer.alloc(0);
  #bodyLeft = 0;
  /** The request whose response has not started yet. */
  current: SeenRequest | undefined;

  constructor(private readonly onRequest: (r: SeenRequest) => void) {}

  fromClient(data: Buffer): void {
    let rest = data;
    while (rest.length > 0) {
      if (this.#bodyLeft > 0) {
        const take = Math.min(this.#bodyLeft, rest.length);
        this.#bodyLeft -= take;
        rest = rest.subarray(take);
        continue;
      }
      this.#head = Buffer.concat([this.#head, rest]);
      const end = this.#head.indexOf(HEAD_END);
      if (end < 0) return;
      const head = this.#head.subarray(0, end).toString('latin1');
      rest = this.#head.subarray(end + HEAD_END.length);
      this.#head = Buffer.alloc(0);
      const [method = '', target = ''] = head.split(' ', 2);
      const length = Number(/\r\ncontent-length:\s*(\d+)/i.exec(head)?.[1] ?? 0);
      this.#bodyLeft = length;
      this.current = {
        isChunk: method === 'POST' && target.split('?')[0]?.endsWith('/chunk') === true,
        bodyBytes: length,
      };
      this.onRequest(this.current);
    }
  }

  /** The server answered: the request is no longer in flight. */
  fromServer(): void {
    this.current = undefined;
  }
}

export async function startCountingProxy(targetPort: number): Promise<CountingProxy> {
  let upstreamBytes = 0;
  let chunkRequests = 0;
  const trackers = new Set<RequestTracker>();
  const watchers = new Set<Set<SeenRequest>>();
  const sockets = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, '127.0.0.1');
    const tracker = new RequestTracker((request) => {
      if (!request.isChunk) return;
      chunkRequests++;
      for (const watcher of watchers) watcher.add(request);
    });
    sockets.add(client).add(upstream);
    const end = () => {
      trackers.delete(tracker);
      client.destroy();
      upstream.destroy();
      sockets.delete(client);
      sockets.delete(upstream);
    };
    client.pause(); // nothing is read (or counted) before the server takes the connection
    upstream.once('connect', () => {
      trackers.add(tracker);
      client.on('data', (data: Buffer) => {
        upstreamBytes += data.length;
        tracker.fromClient(data);
        if (!upstream.write(data)) client.pause();
      });
      upstream.on('drain', () => client.resume());
      upstream.on('data', (data: Buffer) => {
        tracker.fromServer();
        if (!client.write(data)) upstream.pause();
      });
      client.on('drain', () => upstream.resume());
      client.resume();
    });
    for (const socket of [client, upstream]) {
      socket.once('error', end);
      socket.once('close', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get upstreamBytes() {
      return upstreamBytes;
    },
    get chunkRequests() {
      return chunkRequests;
    },
    watchInFlight() {
      const seen = new Set<SeenRequest>();
      for (const tracker of trackers) if (tracker.current?.isChunk) seen.add(tracker.current);
      watchers.add(seen);
      return () => {
        watchers.delete(seen);
        return [...seen].reduce((sum, r) => sum + r.bodyBytes, 0);
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
