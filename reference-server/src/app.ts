import Koa from 'koa';
import cors from '@koa/cors';
import compress from 'koa-compress';
import helmet from 'koa-helmet';
import serve from 'koa-static';
import { HEADERS } from '@file-uploader/protocol';
import type { ServerDeps } from './deps.js';
import { HttpError } from './http-error.js';
import { errorHandler } from './middleware/error-handler.js';
import { limitByIp } from './middleware/rate-limit.js';
import { requestId } from './middleware/request-id.js';
import { apiRouter } from './routes/api-router.js';
import { EventStreams } from './routes/event-stream.js';
import { healthRouter, publicRouter } from './routes/public-router.js';
import { createScanner } from './scan/create-scanner.js';
import { Assembler } from './services/assembler.js';
import { ScanRunner } from './services/scan-runner.js';

/** A built app and the pieces the server process drives. */
export interface AppHandle {
  app: Koa;
  assembler: Assembler;
  /** Readiness: false once shutdown begins. */
  state: { ready: boolean };
  /** Open Server-Sent Event streams, ended at shutdown. */
  streams: EventStreams;
  /** Virus scans of assembled files; absent when scanning is off or runs in workers. */
  scans?: ScanRunner;
}

const CORS_HEADERS = [
  HEADERS.authorization,
  'Content-Type',
  HEADERS.contentRange,
  HEADERS.contentDigest,
  HEADERS.contentHash,
  HEADERS.session,
  HEADERS.file,
  HEADERS.confirm,
  HEADERS.requestId,
];

/** Wrong methods answer in the protocol's error format, like every other error. */
const allowedMethodsOptions = {
  throw: true,
  methodNotAllowed: () => new HttpError('method_not_allowed'),
  notImplemented: () => new HttpError('method_not_allowed'),
};

/** Builds the Koa app from its dependencies; only the server process listens. */
export function createApp(deps: ServerDeps): AppHandle {
  const { config, log } = deps;
  const app = new Koa({ proxy: config.trustProxy });
  const state = { ready: true };
  const scanner = deps.scanner ?? createScanner(config);
  // PROCESSING=worker: files still wait in `scanning`, but worker processes scan them.
  const scans =
    scanner && config.scan && config.processing === 'inline'
      ? new ScanRunner({
          sessions: deps.sessions,
          blobs: deps.blobs,
          scanner,
          locker: deps.locker,
          log,
          deadlineMs: config.scan.deadlineMs,
          concurrency: config.scan.concurrency,
        })
      : undefined;
  const assembler = new Assembler({
    sessions: deps.sessions,
    blobs: deps.blobs,
    locker: deps.locker,
    log,
    allowedTypes: config.allowedTypes,
    keepGps: config.metadataKeepGps,
    ...(scanner && config.scan ? { scanning: scans ? { runner: scans } : {} } : {}),
  });

  app.on('error', (err: unknown) => {
    const code = (err as { code?: string })?.code;
    // A client that hangs up mid-response is not a server fault.
    const gone = code === 'ERR_STREAM_PREMATURE_CLOSE' || code === 'ECONNRESET' || code === 'EPIPE';
    log[gone ? 'debug' : 'error']({ err }, gone ? 'client went away' : 'request failed');
  });

  app.use(requestId(log));
  app.use(errorHandler());
  app.use(
    helmet({
      contentSecurityPolicy: {
        directives: {
          'script-src': ["'self'"],
          'connect-src': ["'self'"],
          // <file-uploader> shows image previews as blob: URLs.
          'img-src': ["'self'", 'data:', 'blob:'],
        },
      },
      crossOriginResourcePolicy: {
        policy: config.corsOrigins.length > 0 ? 'cross-origin' : 'same-origin',
      },
    }),
  );
  app.use(
    cors({
      origin: (ctx) => {
        const origin = ctx.get('Origin');
        if (config.corsOrigins.includes('*')) return '*';
        return config.corsOrigins.includes(origin) ? origin : '';
      },
      allowMethods: ['GET', 'POST', 'DELETE', 'OPTIONS'],
      allowHeaders: CORS_HEADERS,
      exposeHeaders: [HEADERS.requestId, HEADERS.retryAfter, 'Content-Disposition'],
      maxAge: 600,
    }),
  );
  app.use(compress({ filter: (type) => /json/i.test(type), threshold: 1024 }));
  const health = healthRouter(deps, state);
  app.use(health.routes());
  app.use(limitByIp(deps.rateLimiters));
  const pub = publicRouter(deps);
  app.use(pub.routes()).use(pub.allowedMethods(allowedMethodsOptions));
  const streams = new EventStreams(deps.sessions, log);
  const api = apiRouter(deps, assembler, streams);
  app.use(api.routes()).use(api.allowedMethods(allowedMethodsOptions));
  if (config.staticDir) app.use(serve(config.staticDir, { index: 'index.html' }));

  return { app, assembler, state, streams, ...(scans ? { scans } : {}) };
}
