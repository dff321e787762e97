/** Where clamd listens: a TCP host and port, or a unix socket path. */
export type ClamdAddress =
  { transport: 'tcp'; host: string; port: number } | { transport: 'unix'; path: string };

/** clamd's default TCP port. */
export const CLAMD_DEFAULT_PORT = 3310;

/**
 * Parses a `CLAMD_URL`: `tcp://HOST[:PORT]` (port 3310 when left out; IPv6 hosts in brackets)
 * or `unix:///absolute/path/to/clamd.sock`. Throws a TypeError that says what is wrong.
 */
export function parseClamdUrl(value: string): ClamdAddress {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new TypeError(
      `CLAMD_URL must look like tcp://127.0.0.1:3310 or unix:///run/clamav/clamd.ctl, ` +
        `got "${value}"`,
    );
  }
  if (url.username || url.password || url.search || url.hash) {
    throw new TypeError(`CLAMD_URL takes no credentials, query or fragment: "${value}"`);
  }
  if (url.protocol === 'tcp:') {
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (!host) throw new TypeError(`CLAMD_URL has no host: "${value}"`);
    if (url.pathname && url.pathname !== '/') {
      throw new TypeError(`A tcp:// CLAMD_URL takes no path: "${value}"`);
    }
    return { transport: 'tcp', host, port: url.port ? Number(url.port) : CLAMD_DEFAULT_PORT };
  }
  if (url.protocol === 'unix:') {
    if (url.host) {
      throw new TypeError(`A unix:// CLAMD_URL needs an absolute path (three slashes): "${value}"`);
    }
    const path = decodeURIComponent(url.pathname);
    if (!path.startsWith('/') || path.endsWith('/')) {
      throw new TypeError(`A unix:// CLAMD_URL needs the socket's absolute path: "${value}"`);
    }
    return { transport: 'unix', path };
  }
  throw new TypeError(`CLAMD_URL must start with tcp:// or unix://, got "${value}"`);
}

/** The address as a URL again, for logs and error messages. */
export function formatClamdAddress(address: ClamdAddress): string {
  if (address.transport === 'unix') return `unix://${address.path}`;
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `tcp://${host}:${address.port}`;
}
