import type { ReactiveController, ReactiveControllerHost } from 'lit';

/**
 * Text for a polite live region. Screen readers read every change, so progress is throttled to
 * one message per interval (the latest wins); other news is said at once.
 */
export class LiveAnnouncer implements ReactiveController {
  /** What the live region shows now. */
  message = '';
  #lastAt = -Infinity;
  #pending?: string;
  #timer?: ReturnType<typeof setTimeout>;

  constructor(
    private readonly host: ReactiveControllerHost,
    readonly intervalMs = 3000,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Says `text` now. */
  say(text: string): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#pending = undefined;
    this.#lastAt = performance.now();
    this.message = text;
    this.host.requestUpdate();
  }

  /** Says `text` unless something was said within the interval; then says the latest later. */
  progress(text: string): void {
    const wait = this.#lastAt + this.intervalMs - performance.now();
    if (wait <= 0) return this.say(text);
    this.#pending = text;
    this.#timer ??= setTimeout(() => {
      this.#timer = undefined;
      if (this.#pending !== undefined) this.say(this.#pending);
    }, wait);
  }
}
