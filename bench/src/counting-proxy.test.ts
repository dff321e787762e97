import { strict as assert } from 'node:assert';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, test } from 'node:test';
import { startCountingProxy } from './counting-proxy.js';

/** A server that holds chunk requests until told to answer. */
async function holdingServer() {
  const held: Array<() => void> = [];
  let received = 0;
  const server = http.createServer((req, res) => {
    req.on('data', (data: Buffer) => (received += data.length));
    req.on('end', () => {
      if (req.url?.endsWith('/chunk')) held.push(() => res.end('{}'));
      else res.end('{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => server.close());
  return {
    port: (server.address() as AddressInfo).port,
    held,
    received: () => received,
  };
}

const post = (url: string, body: Buffer, agent: http.Agent) =>
  new Promise<void>((resolve, reject) => {
    const req = http.request(url, { method: 'POST', agent }, (res) => {
      res.resume();
      res.on('end', () => resolve());
    });
    req.on('error', reject);
    req.end(body);
  });

const waitFor = async (check: () => boolean) => {
  while (!check()) await new Promise((resolve) => setTimeout(resolve, 5));
};

test('counts the bytes that reach the server and the chunk requests in flight', async () => {
  const server = await holdingServer();
  const proxy = await startCountingProxy(server.port);
  after(() => proxy.close());
  const agent = new http.Agent({ keepAlive: true });
  after(() => agent.destroy());

  await post(`${proxy.url}/api/v1/upload/session`, Buffer.alloc(10), agent);
  const first = post(`${proxy.url}/api/v1/upload/chunk`, Buffer.alloc(3000), agent);
  await waitFor(() => server.held.length === 1);

  const inFlight = proxy.watchInFlight(); // the held chunk is on the wire now
  const second = post(`${proxy.url}/api/v1/upload/chunk`, Buffer.alloc(5000), agent);
  await waitFor(() => server.held.length === 2);
  assert.equal(inFlight(), 8000, 'both chunk bodies: the one in flight and the one started after');

  const later = proxy.watchInFlight();
  server.held.forEach((answer) => answer());
  await Promise.all([first, second]);
  assert.equal(later(), 8000, 'answered after the watch began: they were in flight at its start');
  assert.equal(proxy.watchInFlight()(), 0, 'nothing in flight once answered');
  assert.equal(proxy.chunkRequests, 2);
  assert.equal(server.received(), 8010);
  assert.ok(proxy.upstreamBytes > 8010, 'heads count too');
  assert.ok(proxy.upstreamBytes < 8010 + 3 * 400, 'and nothing else');
});

test('a refused connection costs nothing', async () => {
  const server = await holdingServer();
  const proxy = await startCountingProxy(server.port);
  after(() => proxy.close());
  // Point a second proxy at a port nobody listens on.
  const dead = await startCountingProxy(1);
  after(() => dead.close());
  const agent = new http.Agent();
  await assert.rejects(post(`${dead.url}/api/v1/upload/chunk`, Buffer.alloc(1000), agent));
  assert.equal(dead.upstreamBytes, 0);
  assert.equal(dead.chunkRequests, 0);
});
