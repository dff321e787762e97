import { expect } from '@open-wc/testing';
import { formatBytes, formatDuration, formatPercent, formatSpeed } from '../src/format.js';
import { describe, it } from './mocha-globals.browser.js';

/** Intl puts no-break spaces between number and unit; the tests read them as plain spaces. */
const plain = (text: string) => text.replace(/[\u00a0\u202f]/g, ' ');

describe('formatBytes', () => {
  const cases: Array<[number, string, string]> = [
    [0, '0 bytes', '0 Byte'],
    [1, '1 byte', '1 Byte'],
    [999, '999 bytes', '999 Byte'],
    [1000, '1 kB', '1 kB'],
    [1500, '1.5 kB', '1,5 kB'],
    [12_345, '12 kB', '12 kB'],
    [999_499, '999 kB', '999 kB'],
    [999_999, '1 MB', '1 MB'],
    [1_500_000, '1.5 MB', '1,5 MB'],
    [104_857_600, '105 MB', '105 MB'],
    [1.5 * 2 ** 30, '1.6 GB', '1,6 GB'],
    [2.5e12, '2.5 TB', '2,5 TB'],
  ];
  for (const [bytes, english, german] of cases) {
    it(`${bytes} -> "${english}" / "${german}"`, () => {
      expect(plain(formatBytes(bytes, 'en'))).to.equal(english);
      expect(plain(formatBytes(bytes, 'de'))).to.equal(german);
    });
  }

  it('refuses numbers that are not finite', () => {
    expect(() => formatBytes(Number.NaN, 'en')).to.throw(RangeError);
  });
});

describe('formatSpeed', () => {
  it('uses decimal units per second', () => {
    expect(plain(formatSpeed(2_500_000, 'en'))).to.equal('2.5 MB/s');
    expect(plain(formatSpeed(2_500_000, 'de'))).to.equal('2,5 MB/s');
    expect(plain(formatSpeed(340_000, 'en'))).to.equal('340 kB/s');
    expect(plain(formatSpeed(12, 'en'))).to.equal('12 bytes per second');
    expect(plain(formatSpeed(12, 'de'))).to.equal('12 Byte pro Sekunde');
  });
});

describe('formatDuration', () => {
  const cases: Array<[number, string, string]> = [
    [0, '0 sec', '0 Sek.'],
    [0.2, '1 sec', '1 Sek.'],
    [45, '45 sec', '45 Sek.'],
    [60, '1 min', '1 Min.'],
    [200, '3 min 20 sec', '3 Min., 20 Sek.'],
    [599.5, '10 min', '10 Min.'],
    [1490, '25 min', '25 Min.'],
    [3599, '1 hr', '1 Std.'],
    [3900, '1 hr 5 min', '1 Std., 5 Min.'],
  ];
  for (const [seconds, english, german] of cases) {
    it(`${seconds} s -> "${english}" / "${german}"`, () => {
      expect(plain(formatDuration(seconds, 'en'))).to.equal(english);
      expect(plain(formatDuration(seconds, 'de'))).to.equal(german);
    });
  }

  it('refuses an unknown time', () => {
    expect(() => formatDuration(Number.POSITIVE_INFINITY, 'en')).to.throw(RangeError);
  });
});

describe('formatPercent', () => {
  it('rounds down to whole percent, in the locale', () => {
    expect(formatPercent(0.42, 'en')).to.equal('42%');
    expect(plain(formatPercent(0.42, 'de'))).to.equal('42 %');
    expect(formatPercent(0.29, 'en')).to.equal('29%');
    expect(formatPercent(0.999, 'en')).to.equal('99%');
    expect(formatPercent(1, 'en')).to.equal('100%');
  });

  it('clamps to 0..100 %', () => {
    expect(formatPercent(-0.5, 'en')).to.equal('0%');
    expect(formatPercent(1.7, 'en')).to.equal('100%');
  });
});
