import type { UploadEvent } from '@file-uploader/protocol';

/**
 * A transport that carries outbox events to other services (webhooks, a message broker). The
 * EventRelay feeds it batches in `seq` order and moves its cursor only after `publish` resolved,
 * so delivery is at least once: a batch may be published again after a failure or a crash, and
 * consumers drop repeats by event `id`.
 */
export interface EventBus {
  /**
   * Delivers `events` in order. Resolves once every event was confirmed by the transport (or,
   * where the transport has that notion, handed to the dead-letter handler as undeliverable).
   * Rejects when any event may not have been delivered; the caller then publishes the batch
   * again. When `signal` aborts it stops as soon as it can and rejects.
   */
  publish(events: readonly UploadEvent[], signal?: AbortSignal): Promise<void>;
  /** Releases connections and timers. Publishing after close rejects. */
  close(): Promise<void>;
}

/** An event a transport gave up on, with why. */
export interface DeadLetter {
  event: UploadEvent;
  /** Where it was going (a webhook URL). */
  target: string;
  reason: string;
  /** The HTTP status of the last attempt, when there was an answer. */
  status?: number;
}

/** Receives dead letters (to log them, store them for replay, alert). */
export type DeadLetterHandler = (letter: DeadLetter) => void | Promise<void>;
