import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { z } from 'zod';
import {
  CHUNK_SIZE_UNIT,
  DEFAULT_ALLOWED_TYPES,
  DEFAULT_CHUNK_SIZE,
  DEFAULT_MAX_FILES,
  DEFAULT_MAX_SESSION_BYTES,
  SESSION_TTL_MS,
  resolveFileType,
  type FileTypeId,
} from '@file-uploader/protocol';
import { base64Key, bool, duration, int, size } from './config-values.js';
import { parseClamdUrl } from './scan/clamd-address.js';

export { parseDuration, parseSize } from './config-values.js';

/** Everything the server is configured with; built from environment variables only. */
export interface Config {
  host: string;
  port: number;
  /** Base URL of signed download URLs; unset: the origin the client called. */
  publicUrl?: string;
  dataDir: string;
  devMode: boolean;
  /** Folder served at `/` (the demo page); only when set. */
  staticDir?: string;
  jwt: { secret?: Uint8Array; jwksUrl?: string; issuer?: string; audience?: string };
  chunkSize: number;
  maxFileBytes: number;
  maxSessionBytes: number;
  maxFiles: number;
  allowedTypes: FileTypeId[];
  sessionTtlMs: number;
  sessionStore: 'embedded' | 'memory';
  /** Where bytes live: under DATA_DIR (default) or in a Google Cloud Storage bucket. */
  storage: { kind: 'disk' } | GcsStorageConfig;
  encryptionKey?: Buffer;
  downloadSecret: Uint8Array;
  downloadTtlSeconds: number;
  corsOrigins: string[];
  rateLimit: { userPoints: number; ipPoints: number; durationSeconds: number };
  /** Bound on waiting for in-flight requests at shutdown. */
  shutdownTimeoutMs: number;
  cleanupIntervalMs: number;
  /** Period of the pass that takes over assemblies and scans a dead process left half-done. */
  recoveryIntervalMs: number;
  /** A chunk body that sends nothing for this long is dropped. */
  bodyTimeoutMs: number;
  trustProxy: boolean;
  logLevel: string;
  /** Virus scanning with clamd; unset: scanning is skipped (and files say so). */
  scan?: {
    clamdUrl: string;
    /** clamd's StreamMaxLength, so a file over it is refused without sending it. */
    streamMaxLength?: number;
    /** One scan attempt: longest silence from clamd. */
    timeoutMs: number;
    /** A file still unscanned this long after assembly ends `failed` (`scan_failed`). */
    deadlineMs: number;
    /** Files scanned at once by this process. */
    concurrency: number;
  };
  /**
   * Where assembled files are scanned: in the server process (`inline`), or only in worker
   * processes (`file-uploader-server worker`) that follow the outbox (`worker`).
   */
  processing: 'inline' | 'worker';
  /** How often a worker lists the files waiting for a scan (besides following the outbox). */
  workerPollIntervalMs: number;
  /** Events older than this are pruned from the outbox. */
  eventRetentionMs: number;
  /** Report GPS positions found in images' EXIF (removed from metadata by default). */
  metadataKeepGps: boolean;
  /** Where events go besides the server's own event streams. */
  events: {
    /** Each gets every event, HMAC-signed with its secret (Standard Webhooks). */
    webhooks: { url: string; secret: string }[];
    webhookTimeoutMs: number;
    webhookGiveUpAfterMs: number;
    rabbitmq?: { url: string; exchange: string };
    /** Publish every event to a Redis stream (needs REDIS_URL) for consumer groups to read. */
    redisStream: boolean;
  };
  /**
   * Shared state in Redis (sessions, files, events, locks, rate limits), so several instances
   * can serve the same uploads; unset: the embedded store of `sessionStore`.
   */
  redis?: {
    url: string;
    /** Prepended to every key. */
    keyPrefix: string;
    /** Bound on one Redis call; past it the request answers 503. */
    commandTimeoutMs: number;
  };
}

/** `STORAGE=gcs`: a bucket and how to reach it. */
export interface GcsStorageConfig {
  kind: 'gcs';
  bucket: string;
  projectId?: string;
  /** The JSON API's origin, e.g. an emulator's; Google's by default. */
  apiEndpoint?: string;
  /** Service-account key file; else Application Default Credentials. */
  keyFile?: string;
  /** Cloud KMS key for every object written. */
  kmsKeyName?: string;
}

/** Thrown when the environment does not describe a valid configuration. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

const EnvSchema = z.object({
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: int('PORT', 0, 65535).default(8080),
  PUBLIC_URL: z.url('PUBLIC_URL must be an absolute URL').optional(),
  DATA_DIR: z.string().min(1).default('./data'),
  DEV_MODE: bool.default(false),
  STATIC_DIR: z.string().min(1).optional(),
  JWT_SECRET: z.string().min(32, 'JWT_SECRET must be at least 32 characters').optional(),
  JWKS_URL: z.url('JWKS_URL must be an absolute URL').optional(),
  JWT_ISSUER: z.string().min(1).optional(),
  JWT_AUDIENCE: z.string().min(1).optional(),
  CHUNK_SIZE: size('CHUNK_SIZE').default(DEFAULT_CHUNK_SIZE),
  MAX_FILE_BYTES: size('MAX_FILE_BYTES').optional(),
  MAX_SESSION_BYTES: size('MAX_SESSION_BYTES').default(DEFAULT_MAX_SESSION_BYTES),
  MAX_FILES: int('MAX_FILES', 1, 10_000).default(DEFAULT_MAX_FILES),
  ALLOWED_TYPES: z.string().optional(),
  SESSION_TTL: duration('SESSION_TTL').default(SESSION_TTL_MS),
  SESSION_STORE: z.enum(['embedded', 'memory']).default('embedded'),
  ENCRYPTION_KEY: base64Key('ENCRYPTION_KEY').optional(),
  STORAGE: z.enum(['disk', 'gcs']).default('disk'),
  GCS_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/, 'GCS_BUCKET must be a bucket name')
    .optional(),
  GCS_PROJECT_ID: z.string().min(1).optional(),
  GCS_API_ENDPOINT: z.url('GCS_API_ENDPOINT must be an absolute URL').optional(),
  GCS_KEY_FILE: z.string().min(1).optional(),
  GCS_KMS_KEY_NAME: z.string().min(1).optional(),
  DOWNLOAD_SECRET: z.string().min(32, 'DOWNLOAD_SECRET must be at least 32 characters').optional(),
  DOWNLOAD_URL_TTL: duration('DOWNLOAD_URL_TTL').default(300_000),
  CORS_ORIGINS: z.string().default(''),
  RATE_LIMIT_USER: int('RATE_LIMIT_USER', 1, 1_000_000).default(600),
  RATE_LIMIT_IP: int('RATE_LIMIT_IP', 1, 1_000_000).default(1200),
  RATE_LIMIT_WINDOW: duration('RATE_LIMIT_WINDOW').default(60_000),
  SHUTDOWN_TIMEOUT: duration('SHUTDOWN_TIMEOUT').default(10_000),
  CLEANUP_INTERVAL: duration('CLEANUP_INTERVAL').default(600_000),
  RECOVERY_INTERVAL: duration('RECOVERY_INTERVAL').default(15_000),
  BODY_TIMEOUT: duration('BODY_TIMEOUT').default(30_000),
  TRUST_PROXY: bool.default(false),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  CLAMD_URL: z.string().min(1).optional(),
  CLAMD_STREAM_MAX_LENGTH: size('CLAMD_STREAM_MAX_LENGTH').optional(),
  SCAN_TIMEOUT: duration('SCAN_TIMEOUT').default(150_000),
  SCAN_DEADLINE: duration('SCAN_DEADLINE').default(30 * 60_000),
  SCAN_CONCURRENCY: int('SCAN_CONCURRENCY', 1, 64).default(2),
  PROCESSING: z.enum(['inline', 'worker']).default('inline'),
  WORKER_POLL_INTERVAL: duration('WORKER_POLL_INTERVAL').default(30_000),
  EVENT_RETENTION: duration('EVENT_RETENTION').default(7 * 24 * 60 * 60_000),
  METADATA_KEEP_GPS: bool.default(false),
  WEBHOOK_URLS: z.string().optional(),
  WEBHOOK_SECRETS: z.string().optional(),
  WEBHOOK_TIMEOUT: duration('WEBHOOK_TIMEOUT').default(10_000),
  WEBHOOK_GIVE_UP_AFTER: duration('WEBHOOK_GIVE_UP_AFTER').default(24 * 60 * 60_000),
  RABBITMQ_URL: z
    .url('RABBITMQ_URL must be a URL such as amqp://user:password@host:5672')
    .refine((v) => /^amqps?:\/\//i.test(v), 'RABBITMQ_URL must start with amqp:// or amqps://')
    .optional(),
  RABBITMQ_EXCHANGE: z
    .string()
    .regex(/^[A-Za-z0-9._:-]{1,127}$/, 'RABBITMQ_EXCHANGE: 1-127 of A-Z a-z 0-9 . _ : -')
    .default('file-uploader.events'),
  REDIS_STREAM: bool.default(false),
  REDIS_URL: z
    .url('REDIS_URL must be a URL such as redis://host:6379')
    .refine((v) => /^rediss?:\/\//i.test(v), 'REDIS_URL must start with redis:// or rediss://')
    .optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:_.{}-]{1,64}$/, 'REDIS_KEY_PREFIX: 1-64 of A-Z a-z 0-9 : _ . - { }')
    .default('fu:'),
  REDIS_COMMAND_TIMEOUT: duration('REDIS_COMMAND_TIMEOUT').default(5_000),
});

/**
 * Reads and validates the configuration. Throws {@link ConfigError} listing every problem.
 * Empty variables count as unset.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const present = Object.fromEntries(
    Object.entries(env).filter(([key, value]) => key in EnvSchema.shape && value !== ''),
  );
  const parsed = EnvSchema.safeParse(present);
  if (!parsed.success) {
    throw new ConfigError(
      parsed.error.issues.map((issue) => `${issue.path.join('.') || 'env'}: ${issue.message}`),
    );
  }
  const e = parsed.data;
  const problems: string[] = [];

  if (e.CHUNK_SIZE % CHUNK_SIZE_UNIT !== 0) {
    problems.push(`CHUNK_SIZE must be a multiple of ${CHUNK_SIZE_UNIT} bytes (256 KiB)`);
  }
  const allowedTypes: FileTypeId[] = [];
  for (const entry of (e.ALLOWED_TYPES ?? DEFAULT_ALLOWED_TYPES.join(',')).split(',')) {
    if (!entry.trim()) continue;
    const id = resolveFileType(entry);
    if (id) allowedTypes.push(id);
    else
      problems.push(
        `ALLOWED_TYPES: unknown type "${entry.trim()}" (known: pdf, doc, docx, xls, xlsx, png, jpg)`,
      );
  }
  if (allowedTypes.length === 0) problems.push('ALLOWED_TYPES must name at least one type');
  if (e.JWT_SECRET && e.JWKS_URL) problems.push('Set JWT_SECRET or JWKS_URL, not both');
  if (!e.JWT_SECRET && !e.JWKS_URL && !e.DEV_MODE) {
    problems.push('JWT_SECRET (HS256) or JWKS_URL is required unless DEV_MODE=1');
  }
  if (e.DEV_MODE && e.JWKS_URL)
    problems.push('DEV_MODE mints tokens with JWT_SECRET; unset JWKS_URL');
  if (!e.DOWNLOAD_SECRET && !e.DEV_MODE) {
    problems.push('DOWNLOAD_SECRET (at least 32 characters) is required unless DEV_MODE=1');
  }
  const maxFileBytes = e.MAX_FILE_BYTES ?? e.MAX_SESSION_BYTES;
  if (maxFileBytes > e.MAX_SESSION_BYTES) {
    problems.push('MAX_FILE_BYTES must not exceed MAX_SESSION_BYTES');
  }
  const corsOrigins = e.CORS_ORIGINS.split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of corsOrigins) {
    if (origin !== '*' && !/^https?:\/\/[^/]+$/.test(origin)) {
      problems.push(`CORS_ORIGINS: "${origin}" must be an origin such as https://app.example.com`);
    }
  }
  if (e.CLAMD_URL) {
    try {
      parseClamdUrl(e.CLAMD_URL);
    } catch (err) {
      problems.push(`CLAMD_URL: ${(err as Error).message}`);
    }
    if (e.CLAMD_STREAM_MAX_LENGTH !== undefined && e.CLAMD_STREAM_MAX_LENGTH < maxFileBytes) {
      problems.push(
        'CLAMD_STREAM_MAX_LENGTH is below MAX_FILE_BYTES: allowed files could never be scanned',
      );
    }
  }
  if (e.PROCESSING === 'worker' && !e.REDIS_URL && e.SESSION_STORE === 'memory') {
    problems.push(
      'PROCESSING=worker needs a store that worker processes share: SQLite (SESSION_STORE=embedded) or REDIS_URL',
    );
  }
  if (e.REDIS_URL && 'SESSION_STORE' in present) {
    problems.push('SESSION_STORE does not apply when REDIS_URL is set (Redis is the store)');
  }
  if (e.STORAGE === 'gcs' && !e.GCS_BUCKET) problems.push('STORAGE=gcs needs GCS_BUCKET');
  if (e.STORAGE !== 'gcs' && (e.GCS_BUCKET || e.GCS_KMS_KEY_NAME)) {
    problems.push('GCS_* settings apply only with STORAGE=gcs');
  }
  if (e.GCS_KMS_KEY_NAME && e.ENCRYPTION_KEY) {
    problems.push('Set GCS_KMS_KEY_NAME or ENCRYPTION_KEY (a customer-supplied key), not both');
  }
  const webhookUrls = (e.WEBHOOK_URLS ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  const webhookSecrets = (e.WEBHOOK_SECRETS ?? '')
    .split(',')
    .map((v) => v.trim())
    .filter(Boolean);
  if (webhookUrls.length !== webhookSecrets.length) {
    problems.push('WEBHOOK_URLS and WEBHOOK_SECRETS must list as many entries, in the same order');
  }
  for (const url of webhookUrls) {
    if (!/^https?:\/\/[^\s]+$/.test(url))
      problems.push(`WEBHOOK_URLS: "${url}" is not an http(s) URL`);
  }
  for (const secret of webhookSecrets) {
    if (!secret.startsWith('whsec_') && secret.length < 32) {
      problems.push('WEBHOOK_SECRETS: each must be whsec_<base64> or at least 32 characters');
    }
  }
  if (e.REDIS_STREAM && !e.REDIS_URL) problems.push('REDIS_STREAM needs REDIS_URL');
  if (problems.length > 0) throw new ConfigError(problems);

  const encoder = new TextEncoder();
  return {
    host: e.HOST,
    port: e.PORT,
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    dataDir: path.resolve(e.DATA_DIR),
    devMode: e.DEV_MODE,
    staticDir: e.STATIC_DIR ? path.resolve(e.STATIC_DIR) : undefined,
    jwt: {
      // Dev mode without a secret gets a random one per start: tokens then die with the process.
      secret: e.JWT_SECRET
        ? encoder.encode(e.JWT_SECRET)
        : e.DEV_MODE
          ? randomBytes(32)
          : undefined,
      jwksUrl: e.JWKS_URL,
      issuer: e.JWT_ISSUER,
      audience: e.JWT_AUDIENCE,
    },
    chunkSize: e.CHUNK_SIZE,
    maxFileBytes,
    maxSessionBytes: e.MAX_SESSION_BYTES,
    maxFiles: e.MAX_FILES,
    allowedTypes: [...new Set(allowedTypes)],
    sessionTtlMs: e.SESSION_TTL,
    sessionStore: e.SESSION_STORE,
    encryptionKey: e.ENCRYPTION_KEY,
    storage:
      e.STORAGE === 'gcs' && e.GCS_BUCKET
        ? {
            kind: 'gcs',
            bucket: e.GCS_BUCKET,
            ...(e.GCS_PROJECT_ID ? { projectId: e.GCS_PROJECT_ID } : {}),
            ...(e.GCS_API_ENDPOINT ? { apiEndpoint: e.GCS_API_ENDPOINT.replace(/\/+$/, '') } : {}),
            ...(e.GCS_KEY_FILE ? { keyFile: path.resolve(e.GCS_KEY_FILE) } : {}),
            ...(e.GCS_KMS_KEY_NAME ? { kmsKeyName: e.GCS_KMS_KEY_NAME } : {}),
          }
        : { kind: 'disk' },
    downloadSecret: e.DOWNLOAD_SECRET ? encoder.encode(e.DOWNLOAD_SECRET) : randomBytes(32),
    downloadTtlSeconds: Math.max(1, Math.round(e.DOWNLOAD_URL_TTL / 1000)),
    corsOrigins,
    rateLimit: {
      userPoints: e.RATE_LIMIT_USER,
      ipPoints: e.RATE_LIMIT_IP,
      durationSeconds: Math.max(1, Math.round(e.RATE_LIMIT_WINDOW / 1000)),
    },
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT,
    cleanupIntervalMs: e.CLEANUP_INTERVAL,
    recoveryIntervalMs: e.RECOVERY_INTERVAL,
    bodyTimeoutMs: e.BODY_TIMEOUT,
    trustProxy: e.TRUST_PROXY,
    logLevel: e.LOG_LEVEL,
    ...(e.CLAMD_URL
      ? {
          scan: {
            clamdUrl: e.CLAMD_URL,
            ...(e.CLAMD_STREAM_MAX_LENGTH !== undefined
              ? { streamMaxLength: e.CLAMD_STREAM_MAX_LENGTH }
              : {}),
            timeoutMs: e.SCAN_TIMEOUT,
            deadlineMs: e.SCAN_DEADLINE,
            concurrency: e.SCAN_CONCURRENCY,
          },
        }
      : {}),
    processing: e.PROCESSING,
    workerPollIntervalMs: e.WORKER_POLL_INTERVAL,
    eventRetentionMs: e.EVENT_RETENTION,
    metadataKeepGps: e.METADATA_KEEP_GPS,
    events: {
      webhooks: webhookUrls.map((url, i) => ({ url, secret: webhookSecrets[i] as string })),
      webhookTimeoutMs: e.WEBHOOK_TIMEOUT,
      webhookGiveUpAfterMs: e.WEBHOOK_GIVE_UP_AFTER,
      ...(e.RABBITMQ_URL
        ? { rabbitmq: { url: e.RABBITMQ_URL, exchange: e.RABBITMQ_EXCHANGE } }
        : {}),
      redisStream: e.REDIS_STREAM,
    },
    ...(e.REDIS_URL
      ? {
          redis: {
            url: e.REDIS_URL,
            keyPrefix: e.REDIS_KEY_PREFIX,
            commandTimeoutMs: e.REDIS_COMMAND_TIMEOUT,
          },
        }
      : {}),
  };
}
