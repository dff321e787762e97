/**
 * The anchor: @tus/server with @tus/file-store, as their documentation sets them up.
 * Environment: PORT, DIR. Uploads go to `/files`; ready when `GET /healthz` answers 200.
 */
import http from 'node:http';
import { FileStore } from '@tus/file-store';
import { Server } from '@tus/server';

const tus = new Server({
  path: '/files',
  datastore: new FileStore({ directory: process.env.DIR ?? '.' }),
});
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/healthz') return void res.end('ok');
  void tus.handle(req, res);
});
server.keepAliveTimeout = 60_000;
server.requestTimeout = 0;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
