// Parsers for the value formats of environment variables: sizes, durations, booleans, keys.
import { z } from 'zod';

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  kb: 1000,
  mb: 1000 ** 2,
  gb: 1000 ** 3,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
};

/** Parses `8388608`, `8MiB`, `100MB`, `1.5 GiB`. */
export function parseSize(value: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(value);
  const unit = SIZE_UNITS[match?.[2]?.toLowerCase() ?? 'x'];
  if (!match?.[1] || unit === undefined) return undefined;
  const bytes = Number(match[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** Parses `300`, `300s`, `15m`, `24h`, `500ms` into milliseconds. */
export function parseDuration(value: string): number | undefined {
  const match = /^\s*(\d+)\s*(ms|s|m|h|d)?\s*$/i.exec(value);
  if (!match?.[1]) return undefined;
  const factor = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[
    (match[2] ?? 's').toLowerCase() as 'ms' | 's' | 'm' | 'h' | 'd'
  ];
  return Number(match[1]) * factor;
}

export const bool = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off', ''])
  .transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
export const size = (name: string) =>
  z.string().transform((v, ctx) => {
    const bytes = parseSize(v);
    if (bytes === undefined || bytes <= 0) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a size such as 8MiB or 104857600` });
      return z.NEVER;
    }
    return bytes;
  });
export const duration = (name: string) =>
  z.string().transform((v, ctx) => {
    const ms = parseDuration(v);
    if (ms === undefined || ms <= 0) {
      ctx.addIssue({ code: 'custom', message: `${name} must be a duration such as 300s or 24h` });
      return z.NEVER;
    }
    return ms;
  });
export const int = (name: string, min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, `${name} must be a whole number`)
    .transform(Number)
    .refine((n) => n >= min && n <= max, `${name} must be between ${min} and ${max}`);
export const base64Key = (name: string) =>
  z.string().transform((v, ctx) => {
    const key = Buffer.from(v, 'base64');
    if (key.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message: `${name} must be 32 bytes in base64 (44 characters)`,
      });
      return z.NEVER;
    }
    return key;
  });
