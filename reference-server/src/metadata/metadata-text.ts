import { MAX_METADATA_TEXT } from '@file-uploader/protocol';

/**
 * A reportable string: control characters removed, whitespace trimmed, cut to the protocol's
 * length; undefined when nothing is left.
 */
export function cleanText(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  // eslint-disable-next-line no-control-regex -- stripping control characters is the point
  const text = value.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '').trim();
  if (!text) return undefined;
  return text.length > MAX_METADATA_TEXT ? text.slice(0, MAX_METADATA_TEXT) : text;
}

/** Copies the defined values of `values` onto `target`, leaving absent fields absent. */
export function assignDefined<T extends object>(target: T, values: Partial<T>): void {
  for (const [key, value] of Object.entries(values)) {
    if (value !== undefined) (target as Record<string, unknown>)[key] = value;
  }
}

/** A positive safe integer, or undefined. */
export function positiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/**
 * An ISO 8601 string from date parts, or undefined when they are not a real date and time.
 * `offsetMinutes` undefined means the source gave no zone: a local time is reported.
 */
export function isoDate(
  parts: {
    year: number;
    month: number;
    day: number;
    hour?: number;
    minute?: number;
    second?: number;
  },
  offsetMinutes?: number,
): string | undefined {
  const { year, month, day, hour = 0, minute = 0, second = 0 } = parts;
  const probe = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  const valid =
    year >= 1 &&
    year <= 9999 &&
    probe.getUTCMonth() === month - 1 &&
    probe.getUTCDate() === day &&
    hour < 24 &&
    minute < 60 &&
    second < 61;
  if (!valid) return undefined;
  const local = `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(minute)}:${pad(Math.min(second, 59))}`;
  if (offsetMinutes === undefined) return local;
  if (offsetMinutes === 0) return `${local}Z`;
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  return `${local}${sign}${pad(Math.floor(abs / 60))}:${pad(abs % 60)}`;
}
