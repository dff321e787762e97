import { createHmac, timingSafeEqual } from 'node:crypto';

/** What a signed download URL grants: one object of one file until `expires` (epoch seconds). */
export interface DownloadGrant {
  fileId: string;
  objectKey: string;
  expires: number;
}

function signature(secret: Uint8Array, grant: DownloadGrant): Buffer {
  // The object key binds the URL to this stored object, not to whatever the id names later.
  return createHmac('sha256', secret)
    .update(`${grant.fileId}\n${grant.objectKey}\n${grant.expires}`)
    .digest();
}

/** Query parameters of a signed URL. */
export function signDownload(secret: Uint8Array, grant: DownloadGrant): URLSearchParams {
  return new URLSearchParams({
    expires: String(grant.expires),
    signature: signature(secret, grant).toString('base64url'),
  });
}

/** Checks a signed URL's parameters: 'valid', 'expired' or 'invalid'. */
export function verifyDownload(
  secret: Uint8Array,
  grant: Omit<DownloadGrant, 'expires'>,
  query: { expires?: unknown; signature?: unknown },
  nowSeconds: number,
): 'valid' | 'expired' | 'invalid' {
  if (typeof query.expires !== 'string' || typeof query.signature !== 'string') return 'invalid';
  if (!/^\d{1,12}$/.test(query.expires)) return 'invalid';
  const expires = Number(query.expires);
  const expected = signature(secret, { ...grant, expires });
  const given = Buffer.from(query.signature, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return 'invalid';
  return expires < nowSeconds ? 'expired' : 'valid';
}
