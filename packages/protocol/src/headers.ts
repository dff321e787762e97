/** Header names used by protocol v1 (HTTP header names are case-insensitive). */
export const HEADERS = {
  authorization: 'Authorization',
  session: 'Upload-Session',
  file: 'Upload-File',
  confirm: 'Upload-Confirm',
  contentRange: 'Content-Range',
  contentLength: 'Content-Length',
  contentDigest: 'Content-Digest',
  /** On `POST /chunk`: the file's content hash, sent once the client knows it (dedupe). */
  contentHash: 'Upload-Content-Hash',
  requestId: 'X-Request-Id',
  retryAfter: 'Retry-After',
} as const;

/** The value `Upload-Confirm` must carry on `DELETE /:fileId`. */
export const CONFIRM_DELETE = 'delete';
