/**
 * Go `time.Duration` helpers: Nomad's API carries durations as integer nanoseconds, and its error messages print
 * them with Go's `Duration.String()` (`5s`, `1m30s`, `10ms`). The ports below reproduce those messages.
 */

/** NS is one nanosecond; SECOND, MINUTE and HOUR are the Go duration constants in nanoseconds. */
export const NS = 1;
/** MS is one millisecond in nanoseconds. */
export const MS = 1_000_000;
/** SECOND is one second in nanoseconds. */
export const SECOND = 1_000_000_000;
/** MINUTE is one minute in nanoseconds. */
export const MINUTE = 60 * SECOND;
/** HOUR is one hour in nanoseconds. */
export const HOUR = 60 * MINUTE;

function trimFraction(v: number, digits: number): string {
  return v.toFixed(digits).replace(/\.?0+$/, '');
}

/** goDuration formats integer nanoseconds the way Go's `time.Duration.String()` does (`0s`, `1.5s`, `2m0s`, `1h0m0s`). */
export function goDuration(ns: number): string {
  if (ns === 0) return '0s';
  const neg = ns < 0;
  let u = Math.abs(ns);
  let out: string;
  if (u < SECOND) {
    if (u < 1000) out = `${u}ns`;
    else if (u < MS) out = `${trimFraction(u / 1000, 3)}µs`;
    else out = `${trimFraction(u / MS, 6)}ms`;
  } else {
    const h = Math.floor(u / HOUR);
    u -= h * HOUR;
    const m = Math.floor(u / MINUTE);
    u -= m * MINUTE;
    const s = `${trimFraction(u / SECOND, 9)}s`;
    out = h > 0 ? `${h}h${m}m${s}` : m > 0 ? `${m}m${s}` : s;
  }
  return neg ? `-${out}` : out;
}
