import { strict as assert } from 'node:assert';
import { randomBytes as cryptoRandomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import amqp from 'amqplib';
import { isUploadEvent, type UploadEvent } from '@file-uploader/protocol';
import { verifyWebhook } from '../src/events/webhook-signature.js';
import { pdf, randomBytes } from './fixtures.js';
import { eventually, startTestServer, uploadFile, type TestServer } from './harness.js';

// The configured destinations get every event of an upload: signed webhooks and RabbitMQ (the
// broker that runs on this machine), published from the outbox by the server's relays.
const USER = 'announced';
const SECRET = cryptoRandomBytes(32).toString('base64url');
const RABBITMQ_URL = 'amqp://guest:guest@127.0.0.1:5672';

let receiver: http.Server;
const received: UploadEvent[] = [];
let server: TestServer;
let token: string;
const exchange = `fu-test-${randomUUID().slice(0, 8)}`;
let connection: amqp.ChannelModel;
let channel: amqp.Channel;
let queue: string;

before(async () => {
  receiver = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      try {
        received.push(verifyWebhook(SECRET, req.headers, Buffer.concat(parts)));
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  const hook = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
  connection = await amqp.connect(RABBITMQ_URL);
  channel = await connection.createChannel();
  await channel.assertExchange(exchange, 'topic', { durable: true });
  ({ queue } = await channel.assertQueue('', { exclusive: true }));
  await channel.bindQueue(queue, exchange, '#');
  server = await startTestServer({
    WEBHOOK_URLS: hook,
    WEBHOOK_SECRETS: SECRET,
    RABBITMQ_URL,
    RABBITMQ_EXCHANGE: exchange,
  });
  token = await server.token(USER);
});

after(async () => {
  await server?.stop();
  await channel?.deleteExchange(exchange).catch(() => undefined);
  await connection?.close().catch(() => undefined);
  await new Promise<void>((resolve) => receiver.close(() => resolve()));
});

function sample(size: number): Buffer {
  const head = pdf();
  return Buffer.concat([head, randomBytes(size - head.length)]);
}

const ORDER = [
  'upload.received',
  'upload.assembled',
  'upload.scanned',
  'upload.ready',
  'session.completed',
];

describe('event delivery', () => {
  test('a signed webhook receives every event of an upload, in order', async () => {
    const up = await uploadFile(server, token, 'hooked.pdf', sample(300 * 1024), 'application/pdf');
    const mine = () => received.filter((e) => e.sessionId === up.sessionId);
    const all = await eventually(async () => mine().length >= ORDER.length, 30_000);
    assert.ok(
      all,
      `events so far: ${mine()
        .map((e) => e.type)
        .join(', ')}`,
    );
    assert.deepEqual(
      mine().map((e) => e.type),
      ORDER,
    );
    assert.ok(mine().every((e) => e.userId === USER));
  });

  test('RabbitMQ receives every event with its type as routing key and id as message id', async () => {
    const up = await uploadFile(server, token, 'queued.pdf', sample(280 * 1024), 'application/pdf');
    const messages: UploadEvent[] = [];
    await channel.consume(queue, (message) => {
      if (!message) return;
      const event: unknown = JSON.parse(message.content.toString('utf8'));
      assert.ok(isUploadEvent(event));
      assert.equal(message.fields.routingKey, event.type);
      assert.equal(message.properties.messageId, event.id);
      if (event.sessionId === up.sessionId) messages.push(event);
      channel.ack(message);
    });
    const all = await eventually(async () => messages.length >= ORDER.length, 30_000);
    assert.ok(all, `messages so far: ${messages.map((e) => e.type).join(', ')}`);
    assert.deepEqual(
      messages.map((e) => e.type),
      ORDER,
    );
  });
});
