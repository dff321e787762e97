import type { ServerPlace, Upload } from './upload.js';
import { UploadError } from './upload-error.js';

/** Uploads added together are initiated together, in one session. */
export class Batch {
  readonly members = new Set<Upload>();
  readonly #waiting = new Map<
    Upload,
    { resolve: (p: ServerPlace) => void; reject: (e: unknown) => void }
  >();

  /** `initiate` answers each upload with its place, or with the error that refused it alone. */
  constructor(
    private readonly initiate: (uploads: Upload[]) => Promise<Array<ServerPlace | UploadError>>,
  ) {}

  join(upload: Upload): Promise<ServerPlace> {
    return new Promise((resolve, reject) => {
      this.#waiting.set(upload, { resolve, reject });
      this.#flush();
    });
  }

  /** An upload that paused, failed or was cancelled before initiating no longer holds the rest up. */
  leave(upload: Upload): void {
    const waiting = this.#waiting.get(upload);
    this.members.delete(upload);
    this.#waiting.delete(upload);
    // Its run loop is stopping: it must not wait here forever, holding its lock.
    waiting?.reject(new UploadError('aborted', 'The upload left its batch.', false));
    this.#flush();
  }

  #flush(): void {
    if (this.#waiting.size === 0 || [...this.members].some((m) => !this.#waiting.has(m))) return;
    const entries = [...this.#waiting];
    this.#waiting.clear();
    for (const [upload] of entries) this.members.delete(upload);
    this.initiate(entries.map(([upload]) => upload)).then(
      (results) =>
        entries.forEach(([, settle], i) => {
          const result = results[i] as ServerPlace | UploadError;
          if (result instanceof UploadError) settle.reject(result);
          else settle.resolve(result);
        }),
      (err: unknown) => entries.forEach(([, settle]) => settle.reject(err)),
    );
  }
}
