import { webcrypto } from 'node:crypto';
import type { Middleware } from 'koa';
import {
  createRemoteJWKSet,
  errors as joseErrors,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
} from 'jose';
import { HttpError } from '../http-error.js';
import type { Config } from '../config.js';

/** The authenticated caller. */
export interface User {
  id: string;
}

/** Verifies bearer tokens; the JWT's `sub` is the user. */
export type TokenVerifier = (token: string) => Promise<User>;

const ASYMMETRIC = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'EdDSA',
];

/** HS256 with `JWT_SECRET`, or the keys published at `JWKS_URL`. `alg: none` never verifies. */
export function createTokenVerifier(jwt: Config['jwt']): TokenVerifier {
  const options: JWTVerifyOptions = {
    issuer: jwt.issuer,
    audience: jwt.audience,
    requiredClaims: ['sub', 'exp'],
  };
  let key: Promise<webcrypto.CryptoKey> | JWTVerifyGetKey;
  if (jwt.secret) {
    // Imported once: handing jose the raw secret would import it again on every request.
    key = webcrypto.subtle.importKey(
      'raw',
      new Uint8Array(jwt.secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['verify'],
    );
    key.catch(() => {}); // reported by the first verification that awaits it
    options.algorithms = ['HS256'];
  } else if (jwt.jwksUrl) {
    key = createRemoteJWKSet(new URL(jwt.jwksUrl));
    options.algorithms = ASYMMETRIC;
  } else {
    throw new Error('No JWT verification key configured');
  }
  return async (token) => {
    try {
      const { payload } =
        typeof key === 'function'
          ? await jwtVerify(token, key, options)
          : await jwtVerify(token, await key, options);
      if (typeof payload.sub !== 'string' || payload.sub.length === 0 || payload.sub.length > 256) {
        throw new HttpError('unauthenticated', 'The token has no valid subject.');
      }
      return { id: payload.sub };
    } catch (err) {
      if (err instanceof HttpError) throw err;
      if (err instanceof joseErrors.JWTExpired) {
        throw new HttpError('unauthenticated', 'The token has expired.');
      }
      if (err instanceof joseErrors.JOSEError && err.code === 'ERR_JWKS_TIMEOUT') {
        throw new HttpError('unavailable', 'The key set could not be fetched.', undefined, {
          cause: err,
          retryAfter: 5,
        });
      }
      throw new HttpError('unauthenticated', 'The token is not valid.', undefined, { cause: err });
    }
  };
}

/** Requires `Authorization: Bearer <JWT>` and puts the caller in `ctx.state.user`. */
export function authenticate(verify: TokenVerifier): Middleware {
  return async (ctx, next) => {
    const match = /^Bearer ([A-Za-z0-9._~+/=-]+)$/.exec(ctx.get('Authorization'));
    if (!match?.[1]) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new HttpError('unauthenticated');
    }
    try {
      ctx.state.user = await verify(match[1]);
    } catch (err) {
      if (err instanceof HttpError && err.code === 'unauthenticated') {
        ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      }
      throw err;
    }
    await next();
  };
}
