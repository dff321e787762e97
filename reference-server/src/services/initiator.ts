import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import {
  CONTENT_HASH_PATTERN,
  MAX_NAME_LENGTH,
  claimedType,
  totalChunks,
  type FileTypeId,
  type InitiateResponse,
} from '@file-uploader/protocol';
import type { Config } from '../config.js';
import { HttpError } from '../http-error.js';
import type { BlobStore } from '../stores/blob-store.js';
import type { SessionStore, StoredFile, StoredSession } from '../stores/session-store.js';
import { fileEvent } from './file-events.js';
import { copyOfDuplicate } from './duplicates.js';
import { sanitizeName } from './sanitize-name.js';

const InitiateSchema = z.strictObject({
  files: z
    .array(
      z.object({
        name: z.string().min(1).max(MAX_NAME_LENGTH),
        size: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
        type: z.string().max(255).default(''),
        lastModified: z.number().int().nonnegative().optional(),
        contentHash: z.string().regex(CONTENT_HASH_PATTERN, 'lowercase hex SHA-256').optional(),
      }),
    )
    .min(1, 'At least one file is required'),
  metadata: z
    .record(z.string().min(1).max(64), z.string().max(1024))
    .refine((m) => Object.keys(m).length <= 32, 'At most 32 metadata entries')
    .optional(),
});

type FileInput = z.infer<typeof InitiateSchema>['files'][number];

/** Validates an initiate request, applies limits and dedupe, and stores the new session. */
export class Initiator {
  constructor(
    private readonly deps: { config: Config; sessions: SessionStore; blobs: BlobStore },
  ) {}

  async initiate(userId: string, body: unknown): Promise<InitiateResponse> {
    const { config, sessions } = this.deps;
    const parsed = InitiateSchema.safeParse(body);
    if (!parsed.success) {
      throw new HttpError(
        'validation_failed',
        'The initiate request is not valid.',
        parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
      );
    }
    const { files, metadata = {} } = parsed.data;
    const types = this.#checkLimits(files);

    const now = Date.now();
    const session: StoredSession = {
      id: randomUUID(),
      userId,
      createdAt: now,
      expiresAt: now + config.sessionTtlMs,
      chunkSize: config.chunkSize,
      metadata,
    };
    const stored: StoredFile[] = [];
    for (const [i, input] of files.entries()) {
      const file: StoredFile = {
        id: randomUUID(),
        sessionId: session.id,
        userId,
        name: sanitizeName(input.name),
        size: input.size,
        clientType: input.type,
        claimedType: types[i] as FileTypeId,
        totalChunks: totalChunks(input.size, config.chunkSize),
        status: 'pending',
        createdAt: now,
        updatedAt: now,
        ...(input.lastModified !== undefined ? { lastModified: input.lastModified } : {}),
      };
      stored.push((await this.#dedupe(file, input.contentHash, now)) ?? file);
    }
    // Duplicates are ready at once; their events go out with the session.
    const ready = stored.filter((f) => f.status === 'ready');
    await sessions.createSession(
      session,
      stored,
      ready.map((f) => fileEvent('upload.ready', f)),
    );
    return {
      sessionId: session.id,
      expiresAt: new Date(session.expiresAt).toISOString(),
      chunkSize: session.chunkSize,
      files: stored.map((f) => ({
        fileId: f.id,
        name: f.name,
        size: f.size,
        totalChunks: f.totalChunks,
        status: f.status,
        ...(f.duplicateOf ? { duplicateOf: f.duplicateOf } : {}),
      })),
    };
  }

  /** Returns each file's claimed type, or throws the first limit the request breaks. */
  #checkLimits(files: FileInput[]): FileTypeId[] {
    const { config } = this.deps;
    if (files.length > config.maxFiles) {
      throw new HttpError('too_many_files', `At most ${config.maxFiles} files per session.`, {
        maxFiles: config.maxFiles,
      });
    }
    const types = files.map((f) => claimedType(f.name, f.type));
    const refused = files.flatMap((f, index) => {
      const type = types[index];
      return type && config.allowedTypes.includes(type) ? [] : [{ index, name: f.name }];
    });
    if (refused.length > 0) {
      throw new HttpError('type_not_allowed', `Allowed types: ${config.allowedTypes.join(', ')}.`, {
        files: refused,
        allowedTypes: config.allowedTypes,
      });
    }
    const empty = files.flatMap((f, index) => (f.size === 0 ? [{ index, name: f.name }] : []));
    if (empty.length > 0) {
      throw new HttpError('validation_failed', 'Empty files cannot be uploaded.', {
        files: empty,
        reason: 'empty_file',
      });
    }
    const tooLarge = files.flatMap((f, index) =>
      f.size > config.maxFileBytes ? [{ index, name: f.name, size: f.size }] : [],
    );
    if (tooLarge.length > 0) {
      throw new HttpError(
        'file_too_large',
        `Each file may be at most ${config.maxFileBytes} bytes.`,
        {
          files: tooLarge,
          maxFileBytes: config.maxFileBytes,
        },
      );
    }
    const total = files.reduce((sum, f) => sum + f.size, 0);
    if (total > config.maxSessionBytes) {
      throw new HttpError(
        'session_too_large',
        `The files together may be at most ${config.maxSessionBytes} bytes.`,
        { totalBytes: total, maxSessionBytes: config.maxSessionBytes },
      );
    }
    return types as FileTypeId[];
  }

  /** A file the same user already has (same content hash, size, type) completes at once. */
  async #dedupe(file: StoredFile, contentHash: string | undefined, now: number) {
    if (!contentHash) return undefined;
    const patch = await copyOfDuplicate(this.deps, file, contentHash, now);
    return patch ? ({ ...file, ...patch } satisfies StoredFile) : undefined;
  }
}
