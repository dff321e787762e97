/**
 * What the browser tests need beside the SDK: typed access to the mocha globals that
 * @web/test-runner provides, a few assertions, and helpers for files, hashes and waiting.
 */

interface MochaContext {
  timeout(ms: number): void;
}
type Body = (this: MochaContext) => void | Promise<void>;
interface MochaGlobals {
  describe(name: string, body: () => void): void;
  it(name: string, body: Body): void;
  before(body: Body): void;
  after(body: Body): void;
  beforeEach(body: Body): void;
  afterEach(body: Body): void;
}

const mocha = globalThis as unknown as MochaGlobals;
export const describe: MochaGlobals['describe'] = (name, body) => mocha.describe(name, body);
export const it: MochaGlobals['it'] = (name, body) => mocha.it(name, body);
export const before: MochaGlobals['before'] = (body) => mocha.before(body);
export const after: MochaGlobals['after'] = (body) => mocha.after(body);
export const beforeEach: MochaGlobals['beforeEach'] = (body) => mocha.beforeEach(body);
export const afterEach: MochaGlobals['afterEach'] = (body) => mocha.afterEach(body);

export class AssertionError extends Error {
  override name = 'AssertionError';
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

export function ok(value: unknown, message = 'expected a truthy value'): asserts value {
  if (!value) throw new AssertionError(message);
}

export function equal<T>(actual: T, expected: T, message?: string): void {
  if (!Object.is(actual, expected)) {
    throw new AssertionError(
      `${message ? `${message}: ` : ''}expected ${show(expected)}, got ${show(actual)}`,
    );
  }
}

/** Deep equality of JSON-shaped values. */
export function deepEqual(actual: unknown, expected: unknown, message?: string): void {
  const [a, e] = [show(actual), show(expected)];
  if (a !== e) throw new AssertionError(`${message ? `${message}: ` : ''}expected ${e}, got ${a}`);
}

/** Asserts that `promise` rejects with an error carrying `code`; returns that error. */
export async function rejectsWithCode(
  promise: Promise<unknown>,
  code: string,
): Promise<Error & { code: string }> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  if (!error) throw new AssertionError(`expected a rejection with code ${code}, got success`);
  const got = (error as { code?: unknown }).code;
  if (got !== code) {
    throw new AssertionError(`expected code ${code}, got ${show(got)}: ${String(error)}`);
  }
  return error as Error & { code: string };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `predicate` until it holds; fails after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  what: string | (() => string),
  timeoutMs = 5000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) {
      throw new AssertionError(`timed out waiting for ${typeof what === 'string' ? what : what()}`);
    }
    await sleep(10);
  }
}

/** A promise the test opens by hand. */
export function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  return { wait, open };
}

/** A File of random bytes (the first byte is a `%PDF-` header so it looks like a PDF). */
export function randomFile(size: number, name = 'file.pdf', type = 'application/pdf'): File {
  const bytes = new Uint8Array(size);
  for (let at = 0; at < size; at += 65_536) {
    crypto.getRandomValues(bytes.subarray(at, Math.min(at + 65_536, size)));
  }
  bytes.set(new TextEncoder().encode('%PDF-1.7\n').subarray(0, size));
  return new File([bytes], name, { type, lastModified: 1_700_000_000_000 + size });
}

export async function sha256Hex(data: Blob | Uint8Array): Promise<string> {
  const bytes = data instanceof Blob ? await data.arrayBuffer() : data;
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes as ArrayBuffer));
  return Array.from(digest, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Resolves once no Web Lock is held for an upload key (its run loop has really stopped). */
export async function lockReleased(key: string): Promise<void> {
  await waitFor(async () => {
    const { held = [] } = await navigator.locks.query();
    return !held.some((lock) => lock.name === `file-uploader:${key}`);
  }, `the lock of ${key} to be released`);
}
