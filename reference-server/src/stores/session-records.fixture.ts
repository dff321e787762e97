import { randomUUID } from 'node:crypto';
import type { StoredFile, StoredSession } from './session-store.js';

/** A valid session record for store tests; `overrides` replace any field. */
export function makeSession(overrides: Partial<StoredSession> = {}): StoredSession {
  const now = Date.now();
  return {
    id: randomUUID(),
    userId: 'user-1',
    createdAt: now,
    expiresAt: now + 86_400_000,
    chunkSize: 5 * 1024 * 1024,
    metadata: {},
    ...overrides,
  };
}

export function makeFile(session: StoredSession, overrides: Partial<StoredFile> = {}): StoredFile {
  return {
    id: randomUUID(),
    sessionId: session.id,
    userId: session.userId,
    name: 'report.pdf',
    size: 1234,
    clientType: 'application/pdf',
    claimedType: 'pdf',
    totalChunks: 1,
    status: 'pending',
    createdAt: session.createdAt,
    updatedAt: session.createdAt,
    ...overrides,
  };
}
