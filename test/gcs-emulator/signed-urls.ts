/**
 * V4 signed URLs (path style, `/bucket/object?X-Goog-Algorithm=GOOG4-RSA-SHA256&...`), checked as
 * GCS does: the canonical request is rebuilt from what arrived, hashed, and the signature
 * verified with the public key of the service account named in the credential. GCS sees the
 * `host` header without a port, so the port is dropped here too. Errors are XML, as in GCS.
 */
import { createHash, verify } from 'node:crypto';
import { customerKeyFrom } from './content.js';
import { GcsError } from './errors.js';
import type { Context } from './http.js';
import { serveMedia } from './objects.js';

const MAX_EXPIRES = 7 * 24 * 60 * 60;

/** Encodes everything but `A-Z a-z 0-9 - . _ ~`, as the V4 canonical forms require. */
function strictEncode(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function xmlError(ctx: Context, status: number, code: string, message: string, details = ''): void {
  const body =
    `<?xml version='1.0' encoding='UTF-8'?><Error><Code>${code}</Code>` +
    `<Message>${message}</Message>${details ? `<Details>${details}</Details>` : ''}</Error>`;
  ctx.res.writeHead(status, {
    'content-type': 'application/xml; charset=UTF-8',
    'content-length': Buffer.byteLength(body),
  });
  ctx.res.end(body);
}

/** `20261129T131127Z` as a Date. */
function parseDate(value: string): Date | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (!m) return undefined;
  return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
}

/** True when the request carries V4 signing parameters (and so is a signed-URL request). */
export function isSignedUrl(url: URL): boolean {
  return url.searchParams.has('X-Goog-Algorithm') || url.searchParams.has('X-Goog-Signature');
}

export async function serveSignedUrl(ctx: Context): Promise<void> {
  const q = ctx.url.searchParams;
  const [algorithm, credential, date, expires, signedHeaders, signature] = [
    'X-Goog-Algorithm',
    'X-Goog-Credential',
    'X-Goog-Date',
    'X-Goog-Expires',
    'X-Goog-SignedHeaders',
    'X-Goog-Signature',
  ].map((name) => q.get(name) ?? '');
  if (algorithm !== 'GOOG4-RSA-SHA256') {
    return xmlError(
      ctx,
      400,
      'InvalidArgument',
      'Invalid argument.',
      'Unsupported X-Goog-Algorithm',
    );
  }
  const signedAt = parseDate(date!);
  const lifetime = Number(expires);
  const [email, ...scopeParts] = credential!.split('/');
  if (!signedAt || !/^\d+$/.test(expires!) || !signature || !signedHeaders || !email) {
    return xmlError(ctx, 400, 'InvalidArgument', 'Invalid argument.', 'Malformed signed URL');
  }
  if (lifetime > MAX_EXPIRES) {
    return xmlError(ctx, 400, 'InvalidArgument', 'Invalid argument.', 'X-Goog-Expires too large');
  }
  const publicKey = ctx.signers.get(email);
  if (!publicKey) {
    return xmlError(ctx, 403, 'AccessDenied', 'Access denied.', `Unknown signer ${email}`);
  }
  const segments = ctx.url.pathname.split('/').slice(1).map(decodeURIComponent);
  const path = `/${segments.map(strictEncode).join('/')}`;
  const query = [...q.entries()]
    .filter(([name]) => name !== 'X-Goog-Signature')
    .map(([name, value]) => [strictEncode(name), strictEncode(value)] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const names = signedHeaders!.split(';');
  const headers = names
    .map((name) => {
      let value = ctx.req.headers[name];
      if (name === 'host') value = new URL(`http://${ctx.req.headers.host}`).hostname;
      const text = Array.isArray(value) ? value.join(',') : (value ?? '');
      return `${name}:${text.trim().replace(/\s{2,}/g, ' ')}\n`;
    })
    .join('');
  const method = ctx.req.method === 'HEAD' ? 'GET' : ctx.req.method!;
  const canonical = [method, path, query, headers, signedHeaders, 'UNSIGNED-PAYLOAD'].join('\n');
  const toSign = [
    'GOOG4-RSA-SHA256',
    date,
    scopeParts.join('/'),
    createHash('sha256').update(canonical).digest('hex'),
  ].join('\n');
  const valid =
    /^[0-9a-f]+$/i.test(signature!) &&
    verify('sha256', Buffer.from(toSign), publicKey, Buffer.from(signature!, 'hex'));
  if (!valid) {
    return xmlError(
      ctx,
      403,
      'SignatureDoesNotMatch',
      'Access denied.',
      'The request signature we calculated does not match the signature you provided.',
    );
  }
  const now = ctx.state.now().getTime();
  if (now > signedAt.getTime() + lifetime * 1000) {
    return xmlError(ctx, 400, 'ExpiredToken', 'Invalid argument.', 'Request has expired');
  }
  if (ctx.req.method !== 'GET' && ctx.req.method !== 'HEAD') {
    return xmlError(ctx, 405, 'MethodNotAllowed', 'Only GET and HEAD are supported.');
  }
  const [bucket, ...rest] = segments;
  try {
    const version = ctx.state.getObject(bucket ?? '', rest.join('/'));
    const overrides: Record<string, string> = {};
    const disposition = q.get('response-content-disposition');
    const type = q.get('response-content-type');
    if (disposition) overrides['content-disposition'] = disposition;
    if (type) overrides['content-type'] = type;
    await serveMedia(ctx, version, customerKeyFrom(ctx.req.headers), overrides);
  } catch (error) {
    if (!(error instanceof GcsError) || ctx.res.headersSent) throw error;
    const code = error.status === 404 ? 'NoSuchKey' : error.reason;
    xmlError(ctx, error.status, code, error.message);
  }
}
