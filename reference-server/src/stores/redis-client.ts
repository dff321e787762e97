import { createClient, ErrorReply, type RedisClientType } from 'redis';
import type { Logger } from 'pino';
import { StoreUnavailableError } from './store-unavailable-error.js';

/** The node-redis client the Redis backends share. */
export type RedisClient = RedisClientType;

export interface RedisClientOptions {
  /** `redis[s]://[[user][:password]@]host[:port][/db]` */
  url: string;
  /** Bound on connecting and on a command waiting to be sent. */
  commandTimeoutMs: number;
  /** Connection errors are logged here, at most once per interval. */
  log?: Logger;
}

/** Error replies that mean "not now" rather than "wrong request". */
const TRANSIENT_REPLY =
  /^(LOADING|BUSY|READONLY|MASTERDOWN|OOM|TRYAGAIN|CLUSTERDOWN|NOREPLICAS|MISCONF)\b/;
/** node-redis's errors for a connection that is gone, closed, or too slow. */
const CONNECTION_ERRORS = new Set([
  'TimeoutError',
  'ConnectionTimeoutError',
  'SocketTimeoutError',
  'ClientOfflineError',
  'ClientClosedError',
  'SocketClosedUnexpectedlyError',
  'ReconnectStrategyError',
  'DisconnectsClientError',
]);
const SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** Whether `err` says Redis cannot serve right now (as opposed to a bad command or a bug). */
export function isRedisUnavailable(err: unknown): boolean {
  if (err instanceof ErrorReply) return TRANSIENT_REPLY.test(err.message);
  if (!(err instanceof Error)) return false;
  return (
    CONNECTION_ERRORS.has(err.constructor.name) ||
    SOCKET_CODES.has((err as NodeJS.ErrnoException).code ?? '') ||
    // rate-limiter-flexible's refusal when the client is not connected
    err.message === 'Redis connection is not ready'
  );
}

/** Default bound on one Redis call. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 5_000;

/**
 * Runs a Redis call with a time bound; an outage (no connection, an error reply that means
 * "not now", no answer in time) becomes a {@link StoreUnavailableError}, anything else passes.
 * The bound is kept here because node-redis times out only commands still waiting to be sent:
 * a command already sent to a Redis that stopped answering would otherwise wait forever.
 */
export async function redisCall<T>(
  what: string,
  call: () => Promise<T>,
  timeoutMs = DEFAULT_COMMAND_TIMEOUT_MS,
): Promise<T> {
  const unavailable = (cause: unknown) =>
    new StoreUnavailableError(`${what} is unavailable; try again shortly.`, { cause });
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(unavailable(new Error(`No answer from Redis within ${timeoutMs} ms`))),
      timeoutMs,
    );
  });
  try {
    // A call that settles after the timeout is still handled by race(): nothing goes unhandled.
    return await Promise.race([call(), timeout]);
  } catch (err) {
    if (err instanceof StoreUnavailableError) throw err;
    if (isRedisUnavailable(err)) throw unavailable(err);
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Creates (does not connect) a client that fails fast while Redis is unreachable: commands are
 * not queued while disconnected, each command has a timeout, and reconnection goes on in the
 * background with a capped backoff. Requests then get a prompt 503 instead of hanging, and work
 * again as soon as Redis is back.
 */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const client = createClient({
    url: options.url,
    disableOfflineQueue: true,
    commandOptions: { timeout: options.commandTimeoutMs },
    socket: {
      connectTimeout: options.commandTimeoutMs,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
    },
  }) as unknown as RedisClient;
  // Without a listener an 'error' event would crash the process; every reconnect attempt emits
  // one, so they are logged at most once every 10 s.
  let lastLogged = 0;
  client.on('error', (err: unknown) => {
    const now = Date.now();
    if (now - lastLogged < 10_000) return;
    lastLogged = now;
    options.log?.warn({ err }, 'redis connection error');
  });
  client.on('ready', () => {
    if (lastLogged !== 0) options.log?.info('redis connection ready');
  });
  return client;
}

/**
 * Connects `client`, waiting at most `waitMs` for the first connection. When Redis is not
 * reachable yet the client keeps trying in the background; until then calls fail with
 * {@link StoreUnavailableError} and readiness reports 503.
 */
export async function connectRedis(client: RedisClient, waitMs: number): Promise<boolean> {
  const connecting = client.connect().then(
    () => true,
    () => false,
  );
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), waitMs);
    timer.unref();
  });
  const connected = await Promise.race([connecting, timeout]);
  clearTimeout(timer);
  return connected;
}
