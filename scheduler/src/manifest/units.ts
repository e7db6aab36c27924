/**
 * Units of the manifest: sizes (KiB/MiB/GiB/TiB) and durations (ms/s/m/h).
 */

const SIZE = /^([1-9][0-9]{0,12})(KiB|MiB|GiB|TiB)$/;
const SIZE_FACTOR: Record<string, number> = { KiB: 1024, MiB: 1024 ** 2, GiB: 1024 ** 3, TiB: 1024 ** 4 };

/** parseSize returns the bytes of a size such as `10GiB`, or undefined when it is not one (or exceeds 2^53). */
export function parseSize(s: string): number | undefined {
  const m = SIZE.exec(s);
  if (!m) return undefined;
  const n = Number(m[1]) * (SIZE_FACTOR[m[2] ?? ''] ?? 0);
  return Number.isSafeInteger(n) ? n : undefined;
}

const DURATION = /^([1-9][0-9]{0,8})(ms|s|m|h)$/;
const DURATION_FACTOR: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** parseDuration returns the milliseconds of a duration such as `10s`, or undefined when it is not one. */
export function parseDuration(s: string): number | undefined {
  const m = DURATION.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * (DURATION_FACTOR[m[2] ?? ''] ?? 0);
}
