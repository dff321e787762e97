/**
 * ClamdScanner against a real clamd (test/harness/clamd.ts) over TCP and over its unix socket:
 * the Scanner conformance suite, ClamAV's own archive samples, files streamed from disk, and the
 * mapping of clamd's answers.
 */
import { strict as assert } from 'node:assert';
import { createReadStream } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import {
  CLAMAV_TESTFILES_DIR,
  SIGNATURES,
  eicar,
  startClamd,
  type TestClamd,
} from '../../../test/harness/clamd.js';
import { pdf, randomBytes } from '../../test/fixtures.js';
import { ClamdScanner, parseScanReply } from './clamd-scanner.js';
import { scannerConformance } from './scanner.conformance.js';
import { ScanError, ScanErrorKind, ScanVerdict } from './scanner.js';

let clamd: TestClamd;
before(async () => {
  clamd = await startClamd();
});
after(async () => {
  await clamd?.stop();
});

scannerConformance('ClamdScanner over TCP', {
  scanner: () => new ClamdScanner({ url: clamd.url }),
  eicar: eicar(),
  eicarSignature: SIGNATURES.eicar,
});

scannerConformance('ClamdScanner over a unix socket', {
  scanner: () => new ClamdScanner({ url: clamd.socketUrl }),
  eicar: eicar(),
  eicarSignature: SIGNATURES.eicar,
});

describe('ClamdScanner with clamd', () => {
  // clam.exe is detected by its hash, so a hit proves clamd unpacked the container.
  const samples = ['clam.zip', 'clam.7z', 'clam.tar.gz', 'clam.exe.bz2', 'clam.cab', 'clam.arj'];
  for (const sample of samples) {
    it(`unpacks ${sample} (clamav-testfiles) and finds the program inside`, async () => {
      const scanner = new ClamdScanner({ url: clamd.url });
      const source = createReadStream(path.join(CLAMAV_TESTFILES_DIR, sample));
      assert.deepEqual(await scanner.scan(source), {
        verdict: ScanVerdict.infected,
        signature: SIGNATURES.clamTestExe,
      });
    });
  }

  it('streams a file from disk in chunks smaller than the read size', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'fu-scan-'));
    try {
      const file = path.join(dir, 'report.pdf');
      // 3 MiB of noise with EICAR at the end: every chunk must reach clamd, in order.
      await writeFile(file, Buffer.concat([pdf(), randomBytes(3 * 1024 * 1024), eicar()]));
      const scanner = new ClamdScanner({ url: clamd.socketUrl, chunkSize: 4096 });
      assert.deepEqual(await scanner.scan(createReadStream(file)), {
        verdict: ScanVerdict.infected,
        signature: SIGNATURES.eicar,
      });
      const clean = path.join(dir, 'clean.pdf');
      await writeFile(clean, Buffer.concat([pdf(), randomBytes(3 * 1024 * 1024)]));
      assert.deepEqual(await scanner.scan(createReadStream(clean)), {
        verdict: ScanVerdict.clean,
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a file over streamMaxLength before sending the excess', async () => {
    const scanner = new ClamdScanner({ url: clamd.url, streamMaxLength: 1024 * 1024 });
    let pulled = 0;
    const source = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i++) {
          pulled += 64 * 1024;
          yield Buffer.alloc(64 * 1024, i);
        }
      })(),
    );
    await assert.rejects(scanner.scan(source), (err: unknown) => {
      assert.ok(err instanceof ScanError);
      assert.equal(err.kind, ScanErrorKind.stream_too_large);
      assert.equal(err.retryable, false);
      return true;
    });
    assert.ok(pulled <= 1024 * 1024 + 64 * 1024, `read ${pulled} bytes of a refused file`);
    assert.equal(source.destroyed, true);
    // A file of exactly the limit is scanned.
    const exact = await scanner.scan(Readable.from([Buffer.alloc(1024 * 1024, 1)]));
    assert.deepEqual(exact, { verdict: ScanVerdict.clean });
  });

  it('reports the version with the database', async () => {
    const version = await new ClamdScanner({ url: clamd.socketUrl }).version();
    assert.match(version, /^ClamAV \d+\.\d+\.\d+/);
  });

  it('scans many files at once over separate connections', async () => {
    const scanner = new ClamdScanner({ url: clamd.url });
    const files = Array.from({ length: 12 }, (_, i) =>
      i % 3 === 0 ? Buffer.concat([randomBytes(1000 + i), eicar()]) : randomBytes(50_000 + i),
    );
    const results = await Promise.all(files.map((file) => scanner.scan(Readable.from([file]))));
    results.forEach((result, i) =>
      assert.deepEqual(
        result,
        i % 3 === 0
          ? { verdict: ScanVerdict.infected, signature: SIGNATURES.eicar }
          : { verdict: ScanVerdict.clean },
      ),
    );
  });
});

describe('parseScanReply', () => {
  it('maps clamd answers to verdicts and error kinds', () => {
    assert.deepEqual(parseScanReply('stream: OK'), { verdict: ScanVerdict.clean });
    assert.deepEqual(parseScanReply('stream: Win.Test.EICAR_HDB-1 FOUND'), {
      verdict: ScanVerdict.infected,
      signature: 'Win.Test.EICAR_HDB-1',
    });
    const cases: Array<[string, ScanErrorKind]> = [
      ['stream: Heuristics.Limits.Exceeded.MaxFileSize FOUND', ScanErrorKind.limits_exceeded],
      ['INSTREAM size limit exceeded. ERROR', ScanErrorKind.stream_too_large],
      ["Can't allocate memory ERROR", ScanErrorKind.scanner_error],
      ['UNKNOWN COMMAND', ScanErrorKind.protocol_error],
      ['stream: OK extra', ScanErrorKind.protocol_error],
      ['', ScanErrorKind.protocol_error],
    ];
    for (const [reply, kind] of cases) {
      assert.throws(
        () => parseScanReply(reply),
        (err: unknown) => err instanceof ScanError && err.kind === kind,
        reply,
      );
    }
  });
});

describe('ClamdScanner options', () => {
  it('rejects bad settings with a clear error', () => {
    assert.throws(() => new ClamdScanner({ url: 'http://clamd:3310' }), /tcp:\/\/ or unix:\/\//);
    assert.throws(() => new ClamdScanner({ url: clamd.url, chunkSize: 0 }), /chunkSize/);
    assert.throws(() => new ClamdScanner({ url: clamd.url, idleTimeoutMs: 1.5 }), /idleTimeoutMs/);
    assert.throws(
      () => new ClamdScanner({ url: clamd.url, chunkSize: 64 * 1024 * 1024 }),
      /at most/,
    );
    assert.throws(() => new ClamdScanner({ url: clamd.url, streamMaxLength: -1 }), /streamMax/);
  });
});
