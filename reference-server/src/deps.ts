import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { BlobStore } from './stores/blob-store.js';
import type { Locker } from './stores/locker.js';
import type { SessionStore } from './stores/session-store.js';
import type { RateLimiters } from './middleware/rate-limit.js';
import type { TokenVerifier } from './middleware/auth.js';
import type { Scanner } from './scan/scanner.js';
import type { CursorStore } from './events/cursor-store.js';
import type { EventBus } from './events/event-bus.js';

/** What the app is built from; tests and backends swap any part. */
export interface ServerDeps {
  config: Config;
  log: Logger;
  sessions: SessionStore;
  blobs: BlobStore;
  locker: Locker;
  rateLimiters: RateLimiters;
  verifyToken: TokenVerifier;
  /** Event destinations the backends provide (the Redis stream), each run by its own relay. */
  eventBuses?: { name: string; bus: EventBus }[];
  /** Where event relays keep their cursors (a file per relay, or Redis when shared). */
  cursors: CursorStore;
  /** Overrides the scanner built from `config.scan` (tests). */
  scanner?: Scanner;
  /**
   * Closes what the parts share (e.g. the Redis connection of the session store, the locker and
   * the rate limiters); called last at shutdown, after the stores are closed.
   */
  closeShared?: () => Promise<void>;
}
