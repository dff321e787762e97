/** Sizes, speeds, durations and percentages for the reader's locale, all through `Intl`. */

const BYTE_UNITS = ['byte', 'kilobyte', 'megabyte', 'gigabyte', 'terabyte'] as const;
type ByteUnit = (typeof BYTE_UNITS)[number];

// Intl.NumberFormat is costly to build and these run on every progress event.
const formatters = new Map<string, Intl.NumberFormat>();

function formatter(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = formatters.get(key);
  if (!format) {
    format = new Intl.NumberFormat(locale, options);
    formatters.set(key, format);
  }
  return format;
}

/**
 * The decimal unit (1 kB = 1000 bytes) and the rounded amount: one decimal below 10 units, none
 * above, and the next unit when rounding reaches 1000 ("1 MB", not "1000 kB").
 */
function scale(bytes: number): { amount: number; unit: ByteUnit; digits: number } {
  let index = 0;
  let amount = Math.max(0, bytes);
  for (;;) {
    const digits = index === 0 || amount >= 10 ? 0 : 1;
    const rounded = Math.round(amount * 10 ** digits) / 10 ** digits;
    if (rounded < 1000 || index === BYTE_UNITS.length - 1) {
      return { amount: rounded, unit: BYTE_UNITS[index] as ByteUnit, digits };
    }
    amount /= 1000;
    index += 1;
  }
}

const lists = new Map<string, Intl.ListFormat>();

function listFormat(locale: string): Intl.ListFormat {
  let list = lists.get(locale);
  if (!list) {
    list = new Intl.ListFormat(locale, { type: 'unit', style: 'narrow' });
    lists.set(locale, list);
  }
  return list;
}

function assertFinite(value: number, what: string): void {
  if (!Number.isFinite(value)) throw new RangeError(`${what} must be a finite number: ${value}`);
}

/** "1.5 MB" / "1,5 MB"; plain bytes are spelled out ("500 bytes", "500 Byte"). */
export function formatBytes(bytes: number, locale: string): string {
  assertFinite(bytes, 'bytes');
  const { amount, unit, digits } = scale(bytes);
  return formatter(locale, {
    style: 'unit',
    unit,
    // The short form of "byte" is "byte" in English ("500 byte"); the long form reads better.
    unitDisplay: unit === 'byte' ? 'long' : 'short',
    maximumFractionDigits: digits,
  }).format(amount);
}

/** "2.5 MB/s" / "2,5 MB/s". */
export function formatSpeed(bytesPerSecond: number, locale: string): string {
  assertFinite(bytesPerSecond, 'bytesPerSecond');
  const { amount, unit, digits } = scale(bytesPerSecond);
  return formatter(locale, {
    style: 'unit',
    unit: `${unit}-per-second`,
    unitDisplay: unit === 'byte' ? 'long' : 'short',
    maximumFractionDigits: digits,
  }).format(amount);
}

/**
 * A remaining time as people say it: seconds under a minute, minutes and seconds under ten
 * minutes, whole minutes under an hour, then hours and minutes ("3 min 20 sec", "1 Std., 5 Min.").
 * Rounds up, so the last seconds never read "0 sec".
 */
export function formatDuration(seconds: number, locale: string): string {
  assertFinite(seconds, 'seconds');
  const total = Math.max(0, Math.ceil(seconds));
  const part = (value: number, unit: 'hour' | 'minute' | 'second') =>
    formatter(locale, { style: 'unit', unit, unitDisplay: 'short' }).format(value);
  const parts: string[] = [];
  if (total < 60) {
    parts.push(part(total, 'second'));
  } else if (total < 600) {
    parts.push(part(Math.floor(total / 60), 'minute'));
    if (total % 60) parts.push(part(total % 60, 'second'));
  } else {
    const minutes = Math.ceil(total / 60);
    if (minutes < 60) {
      parts.push(part(minutes, 'minute'));
    } else {
      parts.push(part(Math.floor(minutes / 60), 'hour'));
      if (minutes % 60) parts.push(part(minutes % 60, 'minute'));
    }
  }
  return listFormat(locale).format(parts);
}

/**
 * "42%" / "42 %". Rounds down to a whole percent, so an upload reads 100 % only when done; the
 * fraction is clamped to 0..1.
 */
export function formatPercent(fraction: number, locale: string): string {
  assertFinite(fraction, 'fraction');
  const clamped = Math.min(1, Math.max(0, fraction));
  // The epsilon keeps 0.29 (0.28999...) from reading 28 %.
  const whole = Math.floor(clamped * 100 + 1e-9) / 100;
  return formatter(locale, { style: 'percent', maximumFractionDigits: 0 }).format(whole);
}
