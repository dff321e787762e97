import type { UploadState } from '@file-uploader/sdk';
import { formatBytes } from './format.js';
import { en } from './strings-en.js';
import type { Rejection, RejectionCode } from './validation.js';

export { en };

/**
 * Every text the element shows or announces. `{name}` marks a parameter filled in by {@link t}.
 * Texts that depend on a count come in pairs `xOne` / `xOther` (English and German need no
 * other plural forms) and are picked by {@link tn}.
 */
export interface Strings {
  // Drop zone
  /** Accessible name of the drop zone. */
  dropZoneLabel: string;
  dropIdle: string;
  /** While dragging files the element will take. */
  dropAccept: string;
  /** While dragging files the element will refuse. */
  dropReject: string;
  /** While dragging files whose type the browser does not reveal before the drop. */
  dropUnknown: string;
  dropDisabled: string;
  /** While a dropped folder is being read. */
  dropReading: string;
  browse: string;
  hintTypes: string;
  hintFileSize: string;
  hintTotalSize: string;
  hintCount: string;
  fileListLabel: string;

  // Upload states; "checking" covers the SDK's hashing and initiating.
  stateQueued: string;
  stateChecking: string;
  stateUploading: string;
  statePaused: string;
  stateAssembling: string;
  stateScanning: string;
  stateReady: string;
  stateRejected: string;
  stateFailed: string;
  stateCancelled: string;

  // Files refused before upload, one per RejectionCode.
  rejectType: string;
  rejectContent: string;
  rejectFileSize: string;
  rejectTotalSize: string;
  rejectCount: string;
  rejectEmpty: string;
  /** Shown when the files together reach 90 % of the total limit. */
  nearLimit: string;

  // Why an upload failed or was refused by the server.
  errorNetwork: string;
  errorUnauthenticated: string;
  errorForbidden: string;
  errorSessionExpired: string;
  errorFileChanged: string;
  errorTypeMismatch: string;
  errorTooLarge: string;
  errorTooMany: string;
  errorEmpty: string;
  errorStorage: string;
  errorServer: string;
  errorGeneric: string;

  // Actions; the `*File` forms are the accessible names of per-file buttons.
  pause: string;
  resume: string;
  retry: string;
  remove: string;
  cancel: string;
  dismiss: string;
  pauseFile: string;
  resumeFile: string;
  retryFile: string;
  removeFile: string;
  cancelFile: string;
  pauseAll: string;
  resumeAll: string;
  confirmRemove: string;
  confirmRemoveYes: string;
  confirmRemoveNo: string;

  // Progress
  overallFilesOne: string;
  overallFilesOther: string;
  overallBytes: string;
  fileProgress: string;
  timeLeft: string;
  speed: string;

  // Offer to resume uploads left unfinished in an earlier visit.
  resumeOfferOne: string;
  resumeOfferOther: string;
  resumeOfferResume: string;
  resumeOfferDiscard: string;
  resumePickAgain: string;
  resumePickButton: string;
  resumeMismatch: string;

  // Live-region announcements for screen readers.
  announceAddedOne: string;
  announceAddedOther: string;
  announceStarted: string;
  announcePaused: string;
  announceResumed: string;
  announceReady: string;
  announceFailed: string;
  announceRemoved: string;
  announceCancelled: string;
  announceAllDone: string;

  // The empty list and the form's validation messages.
  /** Shown in the empty-state slot's default content. */
  emptyList: string;
  /** The form's validation message while uploads are unfinished. */
  validityUnfinished: string;
  /** The form's validation message when `required` and no file is uploaded. */
  validityRequired: string;
}

export type StringKey = keyof Strings;

/** Bases `x` for which both `xOne` and `xOther` exist. */
export type PluralKey = {
  [K in StringKey]: K extends `${infer Base}One`
    ? `${Base}Other` extends StringKey
      ? Base
      : never
    : never;
}[StringKey];

/** `strings[key]` with each `{param}` replaced; unknown placeholders stay visible. */
export function t(
  strings: Strings,
  key: StringKey,
  params: Record<string, string | number> = {},
): string {
  return strings[key].replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.hasOwn(params, name) ? String(params[name]) : whole,
  );
}

/** The one/other form of `base` for `count`, with `{count}` and `params` filled in. */
export function tn(
  strings: Strings,
  base: PluralKey,
  count: number,
  params: Record<string, string | number> = {},
): string {
  const key = `${base}${count === 1 ? 'One' : 'Other'}` as StringKey;
  return t(strings, key, { count, ...params });
}

/** The text for each upload state of the SDK. */
export const stateKeys: Readonly<Record<UploadState, StringKey>> = {
  queued: 'stateQueued',
  hashing: 'stateChecking',
  initiating: 'stateChecking',
  uploading: 'stateUploading',
  paused: 'statePaused',
  assembling: 'stateAssembling',
  scanning: 'stateScanning',
  ready: 'stateReady',
  rejected: 'stateRejected',
  failed: 'stateFailed',
  cancelled: 'stateCancelled',
};

/** The text for each rejection code. */
export const rejectionKeys: Readonly<Record<RejectionCode, StringKey>> = {
  type: 'rejectType',
  content: 'rejectContent',
  'file-size': 'rejectFileSize',
  'total-size': 'rejectTotalSize',
  count: 'rejectCount',
  empty: 'rejectEmpty',
};

/** The text for an upload error code (protocol or SDK); unknown codes get `errorGeneric`. */
export function errorKey(code: string): StringKey {
  return ERROR_KEYS[code] ?? 'errorGeneric';
}

const ERROR_KEYS: Readonly<Record<string, StringKey>> = {
  network: 'errorNetwork',
  stalled: 'errorNetwork',
  unauthenticated: 'errorUnauthenticated',
  forbidden: 'errorForbidden',
  session_expired: 'errorSessionExpired',
  file_changed: 'errorFileChanged',
  type_mismatch: 'errorTypeMismatch',
  type_not_allowed: 'errorTypeMismatch',
  file_too_large: 'errorTooLarge',
  session_too_large: 'errorTooLarge',
  too_many_files: 'errorTooMany',
  empty_file: 'errorEmpty',
  quota_exceeded: 'errorStorage',
  internal: 'errorServer',
  unavailable: 'errorServer',
  rate_limited: 'errorServer',
};

const BYTE_PARAMS = new Set(['size', 'max', 'total']);

/** The message for a rejection, its byte values formatted for `locale`. */
export function rejectionMessage(strings: Strings, rejection: Rejection, locale: string): string {
  const params: Record<string, string | number> = {};
  for (const [name, value] of Object.entries(rejection.params)) {
    params[name] =
      BYTE_PARAMS.has(name) && typeof value === 'number' ? formatBytes(value, locale) : value;
  }
  return t(strings, rejectionKeys[rejection.code], params);
}
