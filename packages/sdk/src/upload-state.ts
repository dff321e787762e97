/** Where an upload stands. One transition table; every change of state goes through it. */
export const UploadState = {
  queued: 'queued',
  hashing: 'hashing',
  initiating: 'initiating',
  uploading: 'uploading',
  paused: 'paused',
  assembling: 'assembling',
  scanning: 'scanning',
  ready: 'ready',
  rejected: 'rejected',
  failed: 'failed',
  cancelled: 'cancelled',
} as const;

export type UploadState = (typeof UploadState)[keyof typeof UploadState];

const TRANSITIONS: Record<UploadState, readonly UploadState[]> = {
  // A resumed or retried upload that knows its server place goes straight to uploading.
  queued: ['hashing', 'uploading', 'paused', 'failed', 'cancelled'],
  hashing: ['initiating', 'paused', 'failed', 'cancelled'],
  initiating: ['uploading', 'ready', 'rejected', 'paused', 'failed', 'cancelled'],
  uploading: ['assembling', 'scanning', 'ready', 'rejected', 'paused', 'failed', 'cancelled'],
  paused: ['queued', 'uploading', 'failed', 'cancelled'],
  assembling: ['scanning', 'ready', 'rejected', 'failed', 'cancelled'],
  scanning: ['ready', 'rejected', 'failed', 'cancelled'],
  failed: ['queued', 'cancelled'],
  ready: [],
  rejected: [],
  cancelled: [],
};

/** States an upload never leaves. */
export const TERMINAL_STATES: readonly UploadState[] = ['ready', 'rejected', 'cancelled'];

/** True when `from -> to` is in the table. */
export function canTransition(from: UploadState, to: UploadState): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws on a transition outside the table: that is a bug in the SDK, never a user error. */
export function assertTransition(from: UploadState, to: UploadState): void {
  if (!canTransition(from, to)) {
    throw new Error(`Invalid upload transition: ${from} -> ${to}`);
  }
}
