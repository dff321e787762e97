import { AsyncLocalStorage } from 'node:async_hooks';
import { pino, type Logger } from 'pino';

/** What every log line written while serving a request carries. */
export interface RequestContext {
  requestId: string;
}

/** The request being served, across every await, so deep code logs with its request id. */
export const requestContext = new AsyncLocalStorage<RequestContext>();

/** The server's logger: JSON lines, each tagged with the current request id when there is one. */
export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'file-uploader' },
    mixin: () => requestContext.getStore() ?? {},
  });
}
