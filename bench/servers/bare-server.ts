/**
 * The bare server: the least work a Node server can do to take a file, so it marks the limit.
 * `PUT /files/<name>` streams the body to `<DIR>/<name>`; with `Content-Range: bytes a-b/n` the
 * body is written at offset a (for chunked clients). `OPTIONS` answers CORS for the browser row.
 * Environment: PORT, DIR. Prints nothing; ready when `GET /healthz` answers 200.
 */
import { constants, createWriteStream } from 'node:fs';
import { open } from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

const dir = process.env.DIR ?? '.';
const port = Number(process.env.PORT ?? 0);
const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Methods': 'PUT',
  'Access-Control-Allow-Headers': '*',
  'Access-Control-Max-Age': '600',
};
const NAME = /^\/files\/([A-Za-z0-9._-]{1,200})$/;

async function put(req: http.IncomingMessage, res: http.ServerResponse, name: string) {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(req.headers['content-range'] ?? '');
  const file = path.join(dir, name);
  if (range) {
    // O_CREAT without O_TRUNC: chunks may write into the file in any order.
    const handle = await open(file, constants.O_WRONLY | constants.O_CREAT);
    await pipeline(req, createWriteStream('', { fd: handle, start: Number(range[1]) }));
  } else {
    await pipeline(req, createWriteStream(file));
  }
  res.writeHead(204, CORS).end();
}

const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return void res.end('ok');
  if (req.method === 'OPTIONS') return void res.writeHead(204, CORS).end();
  const match = NAME.exec(req.url ?? '');
  if (req.method !== 'PUT' || !match?.[1]) return void res.writeHead(404, CORS).end();
  put(req, res, match[1]).catch((err: unknown) => {
    if (!res.headersSent) res.writeHead(500, CORS).end(String(err));
    else res.destroy();
  });
});
server.keepAliveTimeout = 60_000;
server.requestTimeout = 0;
server.listen(port, '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
