export { createApp } from './app.js';
export type { AppHandle } from './app.js';
export { startServer, embeddedDeps } from './server.js';
export type { RunningServer } from './server.js';
export { loadConfig, ConfigError, parseSize, parseDuration } from './config.js';
export type { Config } from './config.js';
export type { ServerDeps } from './deps.js';
export { HttpError } from './http-error.js';
export type { BlobStore, ChunkRef, StagedChunk, ByteRange } from './stores/blob-store.js';
export { ObjectExistsError } from './stores/blob-store.js';
export type { SessionStore, StoredSession, StoredFile, FilePatch } from './stores/session-store.js';
export type { Locker, Lock } from './stores/locker.js';
export { verifyWebhook, WebhookVerificationError } from './events/webhook-signature.js';
export type { EventBus } from './events/event-bus.js';
export { RedisStreamConsumer } from './events/redis-stream-consumer.js';
export type {
  RedisStreamConsumerOptions,
  StreamDelivery,
  StreamEventHandler,
} from './events/redis-stream-consumer.js';
export { connectRedis, createRedisClient } from './stores/redis-client.js';
export type { RedisClient } from './stores/redis-client.js';
export { startWorker } from './worker.js';
export type { RunningWorker } from './worker.js';
export { InProcessEventBus } from './events/in-process-bus.js';
export type { EventListener } from './events/in-process-bus.js';
