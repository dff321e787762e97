import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { spawnAnnouncing } from './processes.js';

/** A server on a port of its own choosing that burns some CPU, then announces itself. */
const ANNOUNCER = `
const http = require('node:http');
const server = http.createServer((req, res) => res.end('hi'));
server.listen(0, '127.0.0.1', () => {
  let x = 0;
  for (let i = 0; i < 3e7; i++) x += i % 7;
  const url = 'http://127.0.0.1:' + server.address().port;
  process.stdout.write(JSON.stringify({ url, extra: x > 0 }) + '\\n');
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
`;

test('a server that picks its port is found by its announcement, answers there, and stops', async () => {
  const { server, announced } = await spawnAnnouncing<{ url: string; extra: boolean }>({
    name: 'announcer',
    args: ['-e', ANNOUNCER],
    env: {},
  });
  try {
    assert.equal(announced.extra, true);
    assert.equal(server.url, announced.url);
    assert.equal(server.port, Number(new URL(announced.url).port));
    assert.equal(await (await fetch(server.url)).text(), 'hi');
    assert.ok((await server.cpuSeconds()) > 0, 'the busy loop shows as CPU time');
    assert.ok((await server.cpuTimes()).user > 0, 'the busy loop is user time');
  } finally {
    await server.stop();
  }
});

test('a process that exits before announcing, or announces something else, fails the start', async () => {
  await assert.rejects(
    spawnAnnouncing({ name: 'quitter', args: ['-e', 'process.exit(3)'], env: {} }),
    /quitter exited early \(code 3\)/,
  );
  await assert.rejects(
    spawnAnnouncing({
      name: 'talker',
      args: ['-e', 'console.log("ready!"); setTimeout(() => {}, 60000)'],
      env: {},
    }),
    /talker announced something else: ready!/,
  );
});
