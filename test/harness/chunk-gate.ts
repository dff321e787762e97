/**
 * A gate on a browser context's chunk requests (`POST /chunk`), so a test decides when an upload
 * is "in the middle": while the gate is closed, chunk requests wait in the route handler until
 * the test lets them through, aborts them (a cut network), or the page drops them (pause,
 * reload). Every chunk request is recorded with its byte range, its phase (a label the test
 * sets) and how it ended, which is what "bytes re-sent" assertions read.
 */
import type { BrowserContext, Request, Route } from 'playwright-core';
import { HEADERS, routePath } from '@file-uploader/protocol';

/** One chunk request as the browser sent it. */
export interface ChunkRecord {
  readonly fileId: string;
  /** `start-end` of the Content-Range. */
  readonly range: string;
  /** The test's label when the request went out. */
  readonly phase: string;
  /** The HTTP status once answered. */
  status?: number;
  /** The network error when it failed (aborted, cut, cancelled by the page). */
  failure?: string;
}

interface Held {
  route: Route;
  let: () => void;
}

const CHUNK_PATH = routePath('chunk');

export class ChunkGate {
  /** Every chunk request, in the order the browser sent them. */
  readonly records: ChunkRecord[] = [];
  /** The label recorded with requests from now on. */
  phase = 'start';
  #open = true;
  /** Requests let through while closed, before holding again. */
  #allowance = 0;
  #held: Held[] = [];
  readonly #byRequest = new Map<Request, ChunkRecord>();
  #changed: Array<() => void> = [];

  private constructor() {}

  /** Installs the gate on every page of `context` (it stays across reloads), open. */
  static async install(context: BrowserContext): Promise<ChunkGate> {
    const gate = new ChunkGate();
    await context.route(
      (url) => url.pathname === CHUNK_PATH,
      (route) => gate.#handle(route),
    );
    context.on('requestfinished', (request) => {
      const record = gate.#byRequest.get(request);
      if (!record) return;
      void request.response().then((response) => {
        record.status = response?.status();
        gate.#notify();
      });
    });
    context.on('requestfailed', (request) => {
      const record = gate.#byRequest.get(request);
      if (!record) return;
      record.failure = request.failure()?.errorText ?? 'failed';
      gate.#notify();
    });
    return gate;
  }

  async #handle(route: Route): Promise<void> {
    const request = route.request();
    if (request.method() !== 'POST') return route.continue();
    const headers = await request.allHeaders();
    const record: ChunkRecord = {
      fileId: headers[HEADERS.file.toLowerCase()] ?? '?',
      range:
        /bytes (\d+-\d+)\//.exec(headers[HEADERS.contentRange.toLowerCase()] ?? '')?.[1] ?? '?',
      phase: this.phase,
    };
    this.records.push(record);
    this.#byRequest.set(request, record);
    if (!this.#open && this.#allowance > 0) this.#allowance--;
    else if (!this.#open) {
      await new Promise<void>((resolve) => {
        this.#held.push({ route, let: resolve });
        this.#notify();
      });
    }
    // The page may have dropped the request meanwhile (pause, reload, cut): nothing to continue.
    await route.continue().catch(() => undefined);
  }

  #notify(): void {
    const waiting = this.#changed;
    this.#changed = [];
    for (const wake of waiting) wake();
  }

  /** Resolves once `check()` holds, re-checked whenever a chunk request is held or ends. */
  async until(check: () => boolean, what: string, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!check()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`Timed out waiting for ${what}: ${this.describe()}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#changed.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Requests are held from now on, except the next `allowance` ones. */
  close(allowance = 0): void {
    this.#open = false;
    this.#allowance = allowance;
  }

  /** Lets every held request through and holds no more. */
  open(): void {
    this.#open = true;
    const held = this.#held;
    this.#held = [];
    for (const h of held) h.let();
  }

  /** Requests waiting at the gate. */
  get heldCount(): number {
    return this.#held.length;
  }

  /** Fails every held request as a dropped connection would. */
  async cut(): Promise<void> {
    const held = this.#held;
    this.#held = [];
    await Promise.all(
      held.map(async (h) => {
        await h.route.abort('internetdisconnected').catch(() => undefined);
        h.let(); // Its handler ends; continuing an aborted route is a no-op.
      }),
    );
  }

  /** Ranges of `fileId` the server answered 200 for. */
  confirmedRanges(fileId: string): Set<string> {
    return new Set(
      this.records.filter((r) => r.fileId === fileId && r.status === 200).map((r) => r.range),
    );
  }

  /** The requests of `fileId` made in `phase`. */
  inPhase(fileId: string, phase: string): ChunkRecord[] {
    return this.records.filter((r) => r.fileId === fileId && r.phase === phase);
  }

  /** One line for failure messages. */
  describe(): string {
    const line = (r: ChunkRecord) =>
      `${r.fileId.slice(0, 8)} ${r.range} [${r.phase}] ${r.status ?? r.failure ?? 'open'}`;
    return `${this.heldCount} held; ${this.records.map(line).join(', ')}`;
  }
}
