/** Where an upload stands. One transition table; every change of state goes through it. */
export type UploadState =
  | 'queued'
  | 'hashing'
  | 'initiating'
  | 'uploading'
  | 'paused'
  | 'assembling'
  | 'scanning'
  | 'ready'
  | 'rejected'
  | 'failed'
  | 'cancelled';

/** Each state and the states it may go to, space-separated (fewer bytes in the bundle). */
export const TRANSITIONS: Record<UploadState, string> = {
  // A resumed or retried upload that knows its server place goes straight to uploading.
  queued: 'hashing uploading paused failed cancelled',
  hashing: 'initiating paused failed cancelled',
  initiating: 'uploading ready rejected paused failed cancelled',
  uploading: 'assembling scanning ready rejected paused failed cancelled',
  paused: 'queued uploading failed cancelled',
  assembling: 'scanning ready rejected failed cancelled',
  scanning: 'ready rejected failed cancelled',
  failed: 'queued cancelled',
  ready: '',
  rejected: '',
  cancelled: '',
};

/** Every state by name: `UploadState.ready === 'ready'`. */
export const UploadState = Object.fromEntries(
  Object.keys(TRANSITIONS).map((state) => [state, state]),
) as { readonly [S in UploadState]: S };

/** States an upload never leaves. */
export const TERMINAL_STATES: readonly UploadState[] = ['ready', 'rejected', 'cancelled'];

/** True when `from -> to` is in the table. */
export function canTransition(from: UploadState, to: UploadState): boolean {
  return TRANSITIONS[from].split(' ').includes(to);
}

/** Throws on a transition outside the table: that is a bug in the SDK, never a user error. */
export function assertTransition(from: UploadState, to: UploadState): void {
  if (!canTransition(from, to)) {
    throw new Error(`Invalid upload transition: ${from} -> ${to}`);
  }
}
