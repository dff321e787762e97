/**
 * Fail closed: every way clamd can fail to give a verdict ends in a ScanError with a clear kind,
 * never in "clean". A real clamd is stopped, frozen (SIGSTOP), crashed and restarted, and its
 * limits are set low enough to hit.
 */
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { SIGNATURES, eicar, startClamd, type TestClamd } from '../../../test/harness/clamd.js';
import { randomBytes } from '../../test/fixtures.js';
import { ClamdScanner, type ClamdScannerOptions } from './clamd-scanner.js';
import { ScanError, ScanErrorKind, ScanVerdict, type ScanResult } from './scanner.js';

const MIB = 1024 * 1024;

/** Asserts that `promise` rejects with a ScanError of one of `kinds` (and never resolves). */
async function assertScanError(
  promise: Promise<unknown>,
  ...kinds: ScanErrorKind[]
): Promise<ScanError> {
  let caught: unknown;
  try {
    const result = await promise;
    assert.fail(`expected a ScanError (${kinds.join(' or ')}), got ${JSON.stringify(result)}`);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ScanError, `not a ScanError: ${String(caught)}`);
  assert.ok(kinds.includes(caught.kind), `kind ${caught.kind}: ${caught.message}`);
  return caught;
}

/** A stream that counts the bytes pulled from it and announces when `mark` bytes were pulled. */
function countingStream(total: number, mark = Number.POSITIVE_INFINITY) {
  let pulled = 0;
  let reached!: () => void;
  const markReached = new Promise<void>((resolve) => (reached = resolve));
  const stream = new Readable({
    highWaterMark: 64 * 1024,
    read() {
      if (pulled >= total) {
        this.push(null);
        return;
      }
      const size = Math.min(64 * 1024, total - pulled);
      pulled += size;
      if (pulled >= mark) reached();
      this.push(Buffer.alloc(size, pulled % 251));
    },
  });
  return { stream, markReached, pulled: () => pulled };
}

const clean: ScanResult = { verdict: ScanVerdict.clean };
const infected: ScanResult = { verdict: ScanVerdict.infected, signature: SIGNATURES.eicar };

describe('clamd refusing files over its limits', () => {
  let clamd: TestClamd;
  before(async () => {
    clamd = await startClamd({
      streamMaxLength: '2M',
      config: { MaxFileSize: '1M', MaxScanSize: '1M' },
    });
  });
  after(() => clamd.stop());

  it('over MaxFileSize is an error (AlertExceedsMax), neither clean nor a virus', async () => {
    const scanner = new ClamdScanner({ url: clamd.url });
    const error = await assertScanError(
      scanner.scan(Readable.from([randomBytes(1.5 * MIB)])),
      ScanErrorKind.limits_exceeded,
    );
    assert.equal(error.retryable, false);
    assert.match(error.message, /Heuristics\.Limits\.Exceeded\.MaxFileSize/);
  });

  for (const transport of ['TCP', 'unix socket'] as const) {
    it(`a file over StreamMaxLength is never clean (${transport})`, async () => {
      const scanner = new ClamdScanner({ url: transport === 'TCP' ? clamd.url : clamd.socketUrl });
      // clamd answers "INSTREAM size limit exceeded" and closes; when that close resets a write
      // still in flight, the answer is lost and the failure is a dropped connection instead.
      for (let round = 0; round < 5; round++) {
        await assertScanError(
          scanner.scan(countingStream(3 * MIB).stream),
          ScanErrorKind.stream_too_large,
          ScanErrorKind.connection_lost,
        );
      }
      assert.match(await clamd.log(), /INSTREAM: Size limit reached/);
    });
  }

  it('with streamMaxLength set, the refusal is always stream_too_large', async () => {
    const scanner = new ClamdScanner({ url: clamd.url, streamMaxLength: 2 * MIB });
    for (let round = 0; round < 5; round++) {
      const error = await assertScanError(
        scanner.scan(countingStream(3 * MIB).stream),
        ScanErrorKind.stream_too_large,
      );
      assert.equal(error.retryable, false);
    }
    assert.deepEqual(await scanner.scan(Readable.from([eicar()])), infected);
  });
});

describe('clamd down, frozen, crashed and back', () => {
  let clamd: TestClamd;
  before(async () => {
    clamd = await startClamd();
  });
  after(() => clamd.stop());

  const scannerFor = (transport: 'tcp' | 'unix', options: Partial<ClamdScannerOptions> = {}) =>
    new ClamdScanner({ url: transport === 'tcp' ? clamd.url : clamd.socketUrl, ...options });

  it('stopped: scans and pings fail as unavailable; after a restart they work again', async () => {
    await clamd.stop();
    for (const transport of ['tcp', 'unix'] as const) {
      const scanner = scannerFor(transport);
      const source = Readable.from([eicar()]);
      const error = await assertScanError(scanner.scan(source), ScanErrorKind.unavailable);
      assert.equal(error.retryable, true);
      assert.equal(source.destroyed, true);
      await assertScanError(scanner.ping(), ScanErrorKind.unavailable);
      await assertScanError(scanner.version(), ScanErrorKind.unavailable);
    }
    await clamd.restart();
    for (const transport of ['tcp', 'unix'] as const) {
      const scanner = scannerFor(transport);
      await scanner.ping();
      assert.deepEqual(await scanner.scan(Readable.from([eicar()])), infected);
      assert.deepEqual(await scanner.scan(Readable.from([randomBytes(10_000)])), clean);
    }
  });

  it('frozen: a small file times out waiting for the verdict', async () => {
    clamd.pause();
    try {
      for (const transport of ['tcp', 'unix'] as const) {
        const scanner = scannerFor(transport, { verdictTimeoutMs: 300, idleTimeoutMs: 300 });
        const error = await assertScanError(
          scanner.scan(Readable.from([eicar()])),
          ScanErrorKind.timeout,
        );
        assert.equal(error.retryable, true);
        await assertScanError(scanner.ping(), ScanErrorKind.timeout);
      }
    } finally {
      clamd.resume();
    }
    assert.deepEqual(await scannerFor('tcp').scan(Readable.from([eicar()])), infected);
  });

  it('frozen: a large file times out when clamd stops taking data', async () => {
    clamd.pause();
    try {
      const scanner = scannerFor('tcp', { idleTimeoutMs: 300, verdictTimeoutMs: 60_000 });
      const counted = countingStream(80 * MIB);
      await assertScanError(scanner.scan(counted.stream), ScanErrorKind.timeout);
      // It gave up while sending, not after: the kernel's buffers hold far less than 80 MiB.
      assert.ok(counted.pulled() < 80 * MIB, `pulled ${counted.pulled()} bytes`);
      assert.equal(counted.stream.destroyed, true);
    } finally {
      clamd.resume();
    }
  });

  it('a total timeout bounds a scan however it is going', async () => {
    clamd.pause();
    try {
      const scanner = scannerFor('unix', {
        totalTimeoutMs: 300,
        idleTimeoutMs: 60_000,
        verdictTimeoutMs: 60_000,
      });
      await assertScanError(scanner.scan(Readable.from([eicar()])), ScanErrorKind.timeout);
    } finally {
      clamd.resume();
    }
  });

  it('crashed mid-stream: the scan fails as a dropped connection; a restart recovers', async () => {
    for (const transport of ['tcp', 'unix'] as const) {
      // Freeze clamd so the scan is certainly still sending when it dies.
      clamd.pause();
      const counted = countingStream(200 * MIB, 128 * 1024);
      const failed = assertScanError(
        scannerFor(transport).scan(counted.stream),
        ScanErrorKind.connection_lost,
      );
      await counted.markReached;
      await clamd.kill();
      await failed;
      assert.equal(counted.stream.destroyed, true);
      await clamd.restart();
      assert.deepEqual(await scannerFor(transport).scan(Readable.from([eicar()])), infected);
    }
  });
});
