/**
 * An in-process Google Cloud Storage emulator for tests: the part of the JSON API that the
 * GCS BlobStore and `@google-cloud/storage` use, over real HTTP on 127.0.0.1.
 *
 *   const gcs = await startGcsEmulator();
 *   const storage = gcs.storage(); // the real client, pointed at the emulator
 *   ...
 *   await gcs.stop();
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Storage, type StorageOptions } from '@google-cloud/storage';
import type { Context } from './http.js';
import { GcsState } from './model.js';
import { route } from './router.js';

/** A service-account key in the shape the client takes as `credentials`. */
export interface ServiceAccountCredentials {
  client_email: string;
  private_key: string;
}

/** One answered request, for tests that assert on the traffic. */
export interface RequestRecord {
  method: string;
  /** Path and query as sent. */
  url: string;
  status: number;
  contentRange?: string;
}

const LOG_LIMIT = 10_000;

export interface GcsEmulator {
  /** `http://127.0.0.1:<port>`: pass as `apiEndpoint` or `STORAGE_EMULATOR_HOST`. */
  url: string;
  port: number;
  projectId: string;
  /** A key generated for this run; the emulator verifies signed URLs with its public half. */
  credentials: ServiceAccountCredentials;
  /**
   * The same key as a service-account key file's JSON: write it to a file and point
   * `GOOGLE_APPLICATION_CREDENTIALS` (or `keyFilename`) at it to give a child process the key.
   */
  serviceAccountKey: ServiceAccountCredentials & { type: 'service_account'; project_id: string };
  /** The in-memory buckets and objects, for assertions. */
  state: GcsState;
  /** The latest requests (up to 10,000), oldest first. */
  requests: RequestRecord[];
  /**
   * The next request for which `match` is true has its connection cut without an answer, as a
   * client sees it when a front end or the network drops it: on arrival, or once its body has
   * arrived (`when: 'body'`).
   */
  cutNext(
    match: (request: { method: string; url: string }) => boolean,
    when?: 'arrival' | 'body',
  ): void;
  /** Moves the emulator's clock forward (signed-URL expiry is judged by it). */
  advanceClock(ms: number): void;
  /** A client for this emulator; `options` are merged over the defaults. */
  storage(options?: StorageOptions): Storage;
  stop(): Promise<void>;
}

export interface GcsEmulatorOptions {
  projectId?: string;
}

export async function startGcsEmulator(options: GcsEmulatorOptions = {}): Promise<GcsEmulator> {
  const projectId = options.projectId ?? 'emulated-project';
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const credentials: ServiceAccountCredentials = {
    client_email: `uploader@${projectId}.iam.gserviceaccount.com`,
    private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  const signers = new Map<string, KeyObject>([[credentials.client_email, publicKey]]);
  const state = new GcsState();
  const requests: RequestRecord[] = [];
  const cuts: Array<{
    match: (request: { method: string; url: string }) => boolean;
    when: 'arrival' | 'body';
  }> = [];
  const server = createServer((req, res) => {
    const at = cuts.findIndex(({ match }) =>
      match({ method: req.method ?? '', url: req.url ?? '' }),
    );
    if (at >= 0) {
      const [cut] = cuts.splice(at, 1);
      if (cut?.when === 'body') req.once('end', () => req.socket.destroy()).resume();
      else req.socket.destroy();
      return;
    }
    res.on('finish', () => {
      if (requests.length >= LOG_LIMIT) requests.shift();
      const contentRange = req.headers['content-range'];
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        status: res.statusCode,
        ...(contentRange ? { contentRange } : {}),
      });
    });
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`);
    const ctx: Context = {
      req,
      res,
      url,
      query: url.searchParams,
      origin: `http://${req.headers.host ?? '127.0.0.1'}`,
      state,
      signers,
    };
    void route(ctx);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    projectId,
    credentials,
    serviceAccountKey: { type: 'service_account', project_id: projectId, ...credentials },
    state,
    requests,
    cutNext: (match, when = 'arrival') => void cuts.push({ match, when }),
    advanceClock: (ms) => state.advanceClock(ms),
    storage: (overrides = {}) =>
      new Storage({ apiEndpoint: url, projectId, credentials, ...overrides }),
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}

export { GcsState } from './model.js';
export type { ObjectVersion, BucketState } from './model.js';
