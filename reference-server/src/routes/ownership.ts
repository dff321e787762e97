import type { Context } from 'koa';
import { HttpError } from '../http-error.js';
import type { SessionStore, StoredFile, StoredSession } from '../stores/session-store.js';

const ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Loads a session of the caller: 404 when unknown, 403 when it belongs to someone else. */
export async function ownedSession(
  ctx: Context,
  sessions: SessionStore,
  sessionId: string,
): Promise<StoredSession> {
  const session = ID.test(sessionId) ? await sessions.getSession(sessionId) : undefined;
  if (!session) throw new HttpError('not_found', 'No such upload session.');
  if (session.userId !== ctx.state.user.id) throw new HttpError('forbidden');
  return session;
}

/** Loads a file of the caller with its session: 404 when unknown, 403 when not the caller's. */
export async function ownedFile(
  ctx: Context,
  sessions: SessionStore,
  fileId: string,
): Promise<{ file: StoredFile; session: StoredSession }> {
  const file = ID.test(fileId) ? await sessions.getFile(fileId) : undefined;
  if (!file) throw new HttpError('not_found', 'No such file.');
  if (file.userId !== ctx.state.user.id) throw new HttpError('forbidden');
  const session = await sessions.getSession(file.sessionId);
  if (!session) throw new HttpError('not_found', 'No such upload session.');
  return { file, session };
}

/** Refuses work on a session past its expiry. */
export function assertLive(session: StoredSession, now = Date.now()): void {
  if (session.expiresAt <= now) throw new HttpError('session_expired');
}
