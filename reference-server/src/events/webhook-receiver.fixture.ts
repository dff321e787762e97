import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { UploadEvent } from '@file-uploader/protocol';
import { verifyWebhook } from './webhook-signature.js';

/** How the receiver answers one request: a status, a status with headers, or never. */
export type Answer = number | { status: number; headers?: Record<string, string> } | 'hang';

/** One request the receiver got. */
export interface ReceivedRequest {
  /** The verified event; undefined when verification failed. */
  event?: UploadEvent;
  /** Webhook-Id as sent. */
  id: string;
  /** The status answered (undefined while hanging). */
  status?: number;
  error?: string;
}

/**
 * A real webhook receiver on a loopback port: verifies every request with verifyWebhook
 * (answering 401 when that fails), records it, and answers as `answer` decides (204 by default).
 */
export class WebhookReceiver {
  readonly requests: ReceivedRequest[] = [];
  /** Decides the answer; `attempt` counts requests with the same Webhook-Id, from 1. */
  answer: (event: UploadEvent, attempt: number) => Answer = () => 204;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #hanging = new Set<ServerResponse>();
  readonly #secret: string;

  private constructor(secret: string) {
    this.#secret = secret;
    this.#server = createServer((req, res) => void this.#handle(req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Starts listening on 127.0.0.1 (`port` 0: a free one). */
  static async start(secret: string, port = 0): Promise<WebhookReceiver> {
    const receiver = new WebhookReceiver(secret);
    await new Promise<void>((resolve, reject) => {
      receiver.#server.once('error', reject);
      receiver.#server.listen(port, '127.0.0.1', () => resolve());
    });
    return receiver;
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}/hooks`;
  }

  /** Events answered 2xx, in arrival order. */
  get accepted(): UploadEvent[] {
    return this.requests.flatMap((r) => (r.event && r.status && r.status < 300 ? [r.event] : []));
  }

  /** Requests whose signature or body did not verify. */
  get invalid(): ReceivedRequest[] {
    return this.requests.filter((r) => r.error !== undefined);
  }

  /** Requests waiting for an answer that will never come. */
  get hanging(): number {
    return this.#hanging.size;
  }

  /** Stops listening and drops every connection (a receiver going down). */
  async stop(): Promise<void> {
    for (const res of this.#hanging) res.destroy();
    this.#hanging.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const id = String(req.headers['webhook-id'] ?? '');
    const record: ReceivedRequest = { id };
    this.requests.push(record);
    let event: UploadEvent;
    try {
      event = verifyWebhook(this.#secret, req.headers, body);
    } catch (err) {
      record.error = (err as Error).message;
      record.status = 401;
      res.writeHead(401).end();
      return;
    }
    record.event = event;
    const attempt = this.requests.filter((r) => r.id === id).length;
    const answer = this.answer(event, attempt);
    if (answer === 'hang') {
      this.#hanging.add(res);
      res.on('close', () => this.#hanging.delete(res));
      return;
    }
    const { status, headers } = typeof answer === 'number' ? { status: answer } : answer;
    record.status = status;
    res.writeHead(status, headers).end();
  }
}
