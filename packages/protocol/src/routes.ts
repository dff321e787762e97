/** Every protocol route lives under this prefix. */
export const API_PREFIX = '/api/v1/upload';

/** Route patterns relative to {@link API_PREFIX}, in @koa/router syntax. */
export const ROUTES = {
  initiate: '/initiate',
  session: '/session/:sessionId',
  /** Server-Sent Events of a session; resumes after the `Last-Event-ID` request header. */
  sessionEvents: '/session/:sessionId/events',
  chunk: '/chunk',
  status: '/status/:fileId',
  remove: '/:fileId',
  download: '/:fileId/download',
  /** Target of signed download URLs; authorized by the URL's signature, not by a bearer token. */
  signedFile: '/files/:fileId',
} as const;

export type RouteName = keyof typeof ROUTES;

/** Routes outside the API prefix. */
export const SERVICE_ROUTES = {
  health: '/healthz',
  ready: '/readyz',
  /** Dev mode only: hands the demo page a token. */
  devToken: '/dev/token',
} as const;

/** Builds the path of a route, with its parameters encoded. */
export function routePath(
  name: RouteName,
  params: Record<string, string> = {},
  prefix: string = API_PREFIX,
): string {
  const pattern: string = ROUTES[name];
  const path = pattern.replace(/:([A-Za-z]+)/g, (_match, key: string) => {
    const value = params[key];
    if (value === undefined) throw new TypeError(`Missing route parameter "${key}" for ${name}`);
    return encodeURIComponent(value);
  });
  return prefix + path;
}
