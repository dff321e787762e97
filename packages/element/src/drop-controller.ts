import type { ReactiveController, ReactiveControllerHost } from 'lit';
import { filesFromDataTransfer } from './drop-entries.js';
import { dragVerdict, type ValidationRules } from './validation.js';

/** What the drop zone shows. */
export const DropState = {
  idle: 'idle',
  /** Files are dragged over and their types are allowed. */
  accept: 'accept',
  /** Files are dragged over whose types the browser hides until the drop (folders, some OSes). */
  unknown: 'unknown',
  /** Everything dragged over would be refused. */
  reject: 'reject',
} as const;

export type DropState = (typeof DropState)[keyof typeof DropState];

export interface DropOptions {
  rules(): ValidationRules;
  disabled(): boolean;
  /** Receives the dropped files, folders already walked. */
  dropped(files: File[]): void;
  /** Reading a dropped folder failed. */
  failed(error: unknown): void;
}

/**
 * Drag and drop on the drop zone. dragenter/dragleave fire for every child crossed, so a depth
 * count decides when the drag really left.
 */
export class DropController implements ReactiveController {
  state: DropState = DropState.idle;
  /** A drop is being read (folders take a moment). */
  reading = false;
  #depth = 0;

  constructor(
    private readonly host: ReactiveControllerHost,
    private readonly options: DropOptions,
  ) {
    host.addController(this);
  }

  hostDisconnected(): void {
    this.#set(DropState.idle);
  }

  #set(state: DropState): void {
    if (state === DropState.idle) this.#depth = 0;
    if (this.state === state) return;
    this.state = state;
    this.host.requestUpdate();
  }

  #judge(event: DragEvent): DropState {
    const items = event.dataTransfer?.items;
    if (!items) return DropState.accept;
    return DropState[dragVerdict(items, this.options.rules())];
  }

  readonly dragenter = (event: DragEvent): void => {
    event.preventDefault();
    if (this.options.disabled()) return;
    this.#depth++;
    this.#set(this.#judge(event));
  };

  readonly dragover = (event: DragEvent): void => {
    // Cancelling dragover is what makes the zone a drop target.
    event.preventDefault();
    if (!event.dataTransfer) return;
    const refused = this.options.disabled() || this.state === DropState.reject;
    event.dataTransfer.dropEffect = refused ? 'none' : 'copy';
  };

  readonly dragleave = (): void => {
    if (--this.#depth <= 0) this.#set(DropState.idle);
  };

  readonly drop = (event: DragEvent): void => {
    event.preventDefault();
    this.#set(DropState.idle);
    const dt = event.dataTransfer;
    if (this.options.disabled() || !dt) return;
    this.reading = true;
    this.host.requestUpdate();
    // Refused files are still taken: validation explains each one instead of a silent no.
    filesFromDataTransfer(dt)
      .then(
        (files) => this.options.dropped(files),
        (error: unknown) => this.options.failed(error),
      )
      .finally(() => {
        this.reading = false;
        this.host.requestUpdate();
      });
  };
}
