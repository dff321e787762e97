/**
 * scanWithRetry with a real clamd: it retries while clamd is down and recovers when it returns,
 * fails closed with the last error once the deadline passes, and stops at once on errors that
 * would only repeat.
 */
import { strict as assert } from 'node:assert';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { SIGNATURES, eicar, startClamd, type TestClamd } from '../../../test/harness/clamd.js';
import { pdf } from '../../test/fixtures.js';
import { ClamdScanner } from './clamd-scanner.js';
import { scanWithRetry, type RetryNotice } from './scan-with-retry.js';
import { ScanErrorKind, ScanVerdict } from './scanner.js';

let clamd: TestClamd;
before(async () => {
  clamd = await startClamd();
});
after(() => clamd.stop());

/** Opens `data` as a fresh stream per attempt and keeps every stream it opened. */
function opener(data: Buffer) {
  const opened: Readable[] = [];
  return {
    opened,
    open: () => {
      const stream = Readable.from([data]);
      opened.push(stream);
      return stream;
    },
  };
}

describe('scanWithRetry', () => {
  it('returns the verdict of the first attempt when clamd answers', async () => {
    const file = opener(eicar());
    const outcome = await scanWithRetry(new ClamdScanner({ url: clamd.url }), {
      open: file.open,
      deadline: Date.now() + 60_000,
    });
    assert.deepEqual(outcome, {
      ok: true,
      result: { verdict: ScanVerdict.infected, signature: SIGNATURES.eicar },
      attempts: 1,
    });
  });

  it('retries while clamd is down and scans once it is back', async () => {
    await clamd.stop();
    const file = opener(pdf());
    const notices: RetryNotice[] = [];
    const outcome = await scanWithRetry(new ClamdScanner({ url: clamd.socketUrl }), {
      open: file.open,
      deadline: Date.now() + 120_000,
      initialDelayMs: 10,
      onRetry: async (notice) => {
        notices.push(notice);
        if (notice.attempt === 2) await clamd.restart();
      },
    });
    assert.deepEqual(outcome, { ok: true, result: { verdict: ScanVerdict.clean }, attempts: 3 });
    assert.deepEqual(
      notices.map((notice) => [notice.attempt, notice.error.kind]),
      [
        [1, ScanErrorKind.unavailable],
        [2, ScanErrorKind.unavailable],
      ],
    );
    assert.equal(file.opened.length, 3, 'each attempt reads the file afresh');
    assert.ok(file.opened.every((stream) => stream.destroyed));
  });

  it('fails closed with the last error when clamd stays down past the deadline', async () => {
    await clamd.stop();
    try {
      const file = opener(eicar());
      const delays: number[] = [];
      const outcome = await scanWithRetry(new ClamdScanner({ url: clamd.url }), {
        open: file.open,
        deadline: Date.now() + 500,
        initialDelayMs: 20,
        maxDelayMs: 80,
        onRetry: ({ delayMs }) => void delays.push(delayMs),
      });
      assert.equal(outcome.ok, false);
      assert.ok(!outcome.ok && outcome.error.kind === ScanErrorKind.unavailable);
      assert.ok(outcome.attempts >= 2, `${outcome.attempts} attempts`);
      assert.equal(file.opened.length, outcome.attempts);
      // The backoff is capped at maxDelayMs (plus up to 20 % jitter).
      assert.ok(
        delays.every((delay) => delay <= 80 * 1.2),
        delays.join(','),
      );
    } finally {
      await clamd.restart();
    }
  });

  it('does not retry an error that would repeat', async () => {
    const file = opener(Buffer.alloc(4096, 1));
    let retries = 0;
    const outcome = await scanWithRetry(
      new ClamdScanner({ url: clamd.url, streamMaxLength: 1024 }),
      {
        open: file.open,
        deadline: Date.now() + 60_000,
        initialDelayMs: 10,
        onRetry: () => void (retries += 1),
      },
    );
    assert.ok(!outcome.ok && outcome.error.kind === ScanErrorKind.stream_too_large);
    assert.equal(outcome.attempts, 1);
    assert.equal(retries, 0);
  });

  it('retries when the file cannot be opened, then scans it', async () => {
    let calls = 0;
    const outcome = await scanWithRetry(new ClamdScanner({ url: clamd.url }), {
      open: () => {
        calls += 1;
        if (calls === 1) throw new Error('EIO: storage hiccup');
        return Readable.from([eicar()]);
      },
      deadline: Date.now() + 60_000,
      initialDelayMs: 10,
    });
    assert.deepEqual(outcome, {
      ok: true,
      result: { verdict: ScanVerdict.infected, signature: SIGNATURES.eicar },
      attempts: 2,
    });
  });

  it('ends with kind "aborted" when the signal fires during the wait', async () => {
    await clamd.stop();
    try {
      const controller = new AbortController();
      const outcome = await scanWithRetry(new ClamdScanner({ url: clamd.url }), {
        open: opener(pdf()).open,
        deadline: Date.now() + 600_000,
        initialDelayMs: 60_000,
        signal: controller.signal,
        onRetry: () => controller.abort(),
      });
      assert.ok(!outcome.ok && outcome.error.kind === ScanErrorKind.aborted);
      assert.equal(outcome.attempts, 1);
    } finally {
      await clamd.restart();
    }
  });
});
