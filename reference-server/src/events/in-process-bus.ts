import type { UploadEvent } from '@file-uploader/protocol';
import type { EventBus } from './event-bus.js';

/** Receives events in order; a rejection makes the relay deliver the batch again. */
export type EventListener = (event: UploadEvent) => void | Promise<void>;

/**
 * Events for code running in the server's own process (an app that embeds the server with
 * `startServer`): every outbox event, in order, at least once, after its change is stored.
 * The embedded default; the other buses carry events to other services.
 */
export class InProcessEventBus implements EventBus {
  readonly #listeners = new Set<EventListener>();
  #closed = false;

  /** Adds a listener; returns a function that removes it. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async publish(events: readonly UploadEvent[], signal?: AbortSignal): Promise<void> {
    if (this.#closed) throw new Error('The in-process event bus is closed.');
    for (const event of events) {
      signal?.throwIfAborted();
      for (const listener of [...this.#listeners]) await listener(event);
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#listeners.clear();
  }
}
