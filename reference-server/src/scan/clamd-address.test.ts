import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { formatClamdAddress, parseClamdUrl } from './clamd-address.js';

describe('parseClamdUrl', () => {
  it('reads TCP addresses, with clamd’s default port when none is given', () => {
    assert.deepEqual(parseClamdUrl('tcp://127.0.0.1:3310'), {
      transport: 'tcp',
      host: '127.0.0.1',
      port: 3310,
    });
    assert.deepEqual(parseClamdUrl('tcp://clamav.internal'), {
      transport: 'tcp',
      host: 'clamav.internal',
      port: 3310,
    });
    assert.deepEqual(parseClamdUrl('tcp://[::1]:4000'), {
      transport: 'tcp',
      host: '::1',
      port: 4000,
    });
    assert.deepEqual(parseClamdUrl('tcp://127.0.0.1:3310/'), {
      transport: 'tcp',
      host: '127.0.0.1',
      port: 3310,
    });
  });

  it('reads unix socket paths', () => {
    assert.deepEqual(parseClamdUrl('unix:///run/clamav/clamd.ctl'), {
      transport: 'unix',
      path: '/run/clamav/clamd.ctl',
    });
    assert.deepEqual(parseClamdUrl('unix:///tmp/with%20space/clamd.sock'), {
      transport: 'unix',
      path: '/tmp/with space/clamd.sock',
    });
  });

  it('refuses what it cannot connect to, saying why', () => {
    const cases: Array<[string, RegExp]> = [
      ['127.0.0.1:3310', /must look like/],
      ['clamd:3310', /tcp:\/\/ or unix:\/\//],
      ['tcp://127.0.0.1:99999', /must look like/],
      ['localhost', /must look like/],
      ['http://127.0.0.1:3310', /tcp:\/\/ or unix:\/\//],
      ['tcp://127.0.0.1:3310/scan', /no path/],
      ['tcp://user:secret@127.0.0.1:3310', /no credentials/],
      ['unix://run/clamav/clamd.ctl', /absolute path/],
      ['unix:///run/clamav/', /absolute path/],
      ['', /must look like/],
    ];
    for (const [value, message] of cases) {
      assert.throws(() => parseClamdUrl(value), message, value);
    }
  });

  it('formats an address back into a URL', () => {
    for (const url of ['tcp://127.0.0.1:3310', 'tcp://[::1]:4000', 'unix:///run/clamd.sock']) {
      assert.equal(formatClamdAddress(parseClamdUrl(url)), url);
    }
  });
});
