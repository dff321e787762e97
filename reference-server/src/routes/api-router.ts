import Router from '@koa/router';
import { koaBody } from 'koa-body';
import {
  API_PREFIX,
  CONFIRM_DELETE,
  HEADERS,
  ROUTES,
  type DownloadResponse,
} from '@file-uploader/protocol';
import type { ServerDeps } from '../deps.js';
import { HttpError } from '../http-error.js';
import { authenticate } from '../middleware/auth.js';
import { limitByUser } from '../middleware/rate-limit.js';
import type { Assembler } from '../services/assembler.js';
import { ChunkReceiver, planChunk } from '../services/chunk-receiver.js';
import { fileEvent } from '../services/file-events.js';
import { sessionView, statusView } from '../services/file-views.js';
import { Initiator } from '../services/initiator.js';
import { signDownload } from '../services/signed-url.js';
import type { EventStreams } from './event-stream.js';
import { assertLive, ownedFile, ownedSession } from './ownership.js';

/** Lifetime of a delete's file lock; a delete that finds the lock held answers 423 at once. */
const DELETE_LOCK_MS = 60_000;

/** The authenticated protocol routes under {@link API_PREFIX}. */
export function apiRouter(deps: ServerDeps, assembler: Assembler, streams: EventStreams): Router {
  const { config, sessions, blobs, locker } = deps;
  const initiator = new Initiator({ config, sessions, blobs });
  const receiver = new ChunkReceiver({
    sessions,
    blobs,
    assembler,
    bodyTimeoutMs: config.bodyTimeoutMs,
  });
  const router = new Router({ prefix: API_PREFIX });
  router.use(authenticate(deps.verifyToken), limitByUser(deps.rateLimiters));

  router.post(
    ROUTES.initiate,
    koaBody({ json: true, multipart: false, urlencoded: false, text: false, jsonLimit: '256kb' }),
    async (ctx) => {
      if (!ctx.is('application/json')) {
        throw new HttpError('validation_failed', 'The body must be JSON (application/json).');
      }
      ctx.status = 201;
      ctx.body = await initiator.initiate(ctx.state.user.id, ctx.request.body);
    },
  );

  router.get(ROUTES.session, async (ctx) => {
    const session = await ownedSession(ctx, sessions, ctx.params.sessionId ?? '');
    assertLive(session);
    ctx.body = await sessionView(blobs, session, await sessions.listFiles(session.id));
  });

  // Readable after expiry too: a client may follow its files to the end at any time.
  router.get(ROUTES.sessionEvents, async (ctx) => {
    const session = await ownedSession(ctx, sessions, ctx.params.sessionId ?? '');
    streams.serve(ctx, session.id);
  });

  router.post(ROUTES.chunk, async (ctx) => {
    ctx.state.unreadBody = true;
    const sessionId = ctx.get(HEADERS.session);
    const fileId = ctx.get(HEADERS.file);
    if (!sessionId || !fileId) {
      throw new HttpError(
        'validation_failed',
        'Upload-Session and Upload-File headers are required.',
      );
    }
    const session = await ownedSession(ctx, sessions, sessionId);
    const { file } = await ownedFile(ctx, sessions, fileId);
    if (file.sessionId !== session.id)
      throw new HttpError('not_found', 'No such file in this session.');
    assertLive(session);
    const plan = planChunk(session, file, {
      contentLength: ctx.get(HEADERS.contentLength),
      contentRange: ctx.get(HEADERS.contentRange),
      contentDigest: ctx.get(HEADERS.contentDigest),
      contentHash: ctx.get(HEADERS.contentHash),
    });
    ctx.state.unreadBody = false;
    ctx.body = await receiver.receive(session, file, plan, ctx.req);
  });

  router.get(ROUTES.status, async (ctx) => {
    const { file, session } = await ownedFile(ctx, sessions, ctx.params.fileId ?? '');
    ctx.body = await statusView(blobs, session, file);
  });

  router.get(ROUTES.download, async (ctx) => {
    const { file } = await ownedFile(ctx, sessions, ctx.params.fileId ?? '');
    if (file.status !== 'ready' || !file.objectKey) {
      throw new HttpError(
        'conflict',
        `The file is ${file.status}; only ready files can be downloaded.`,
      );
    }
    const direct = await blobs.signedDownloadUrl?.(file.objectKey, {
      filename: file.name,
      expiresInSeconds: config.downloadTtlSeconds,
      ...(file.detectedType ? { contentType: file.detectedType } : {}),
    });
    if (direct) {
      // Straight from storage (GCS v4 signed URL): the bytes never pass through this server.
      const body: DownloadResponse = {
        url: direct,
        expiresAt: new Date(Date.now() + config.downloadTtlSeconds * 1000).toISOString(),
      };
      ctx.body = body;
      return;
    }
    const expires = Math.floor(Date.now() / 1000) + config.downloadTtlSeconds;
    const query = signDownload(config.downloadSecret, {
      fileId: file.id,
      objectKey: file.objectKey,
      expires,
    });
    const path = `${API_PREFIX}${ROUTES.signedFile.replace(':fileId', encodeURIComponent(file.id))}`;
    const body: DownloadResponse = {
      // Koa 3's ctx.origin is the Origin request header; the server's own origin is this.
      url: `${config.publicUrl ?? `${ctx.protocol}://${ctx.host}`}${path}?${query}`,
      expiresAt: new Date(expires * 1000).toISOString(),
    };
    ctx.body = body;
  });

  router.delete(ROUTES.remove, async (ctx) => {
    const { file } = await ownedFile(ctx, sessions, ctx.params.fileId ?? '');
    if (ctx.get(HEADERS.confirm).toLowerCase() !== CONFIRM_DELETE) {
      throw new HttpError(
        'precondition_required',
        `Send "${HEADERS.confirm}: ${CONFIRM_DELETE}" to delete.`,
      );
    }
    const lock = await locker.tryAcquire(`file:${file.id}`, DELETE_LOCK_MS);
    if (!lock) {
      throw new HttpError('locked', 'The file is being assembled; try again shortly.', undefined, {
        retryAfter: 1,
      });
    }
    try {
      // The record goes first: a crash afterwards leaves orphaned bytes for cleanup, never a
      // record that points at nothing.
      const current = await sessions.getFile(file.id);
      await sessions.deleteFile(file.id, current ? [fileEvent('upload.deleted', current)] : []);
      await blobs.deleteChunks(file.sessionId, file.id);
      if (current?.objectKey) await blobs.deleteObject(current.objectKey);
      deps.log.info({ fileId: file.id }, 'file deleted');
    } finally {
      await lock.release();
    }
    ctx.status = 204;
  });

  return router;
}
