/**
 * A port of the cron grammar Nomad accepts for `periodic` (github.com/hashicorp/cronexpr): 5 fields
 * (minute hour day-of-month month day-of-week), 6 (… year) or 7 (second … year); `*`, `?`, lists, ranges, steps,
 * month and weekday names, `L`, `W`, `LW`, `#`, and the `@yearly/@annually/@monthly/@weekly/@daily/@hourly` macros.
 */

interface FieldSpec {
  name: string;
  min: number;
  max: number;
  names?: Record<string, number>;
}

const MONTHS: Record<string, number> = {
  jan: 1, feb: 2, mar: 3, apr: 4, may: 5, jun: 6, jul: 7, aug: 8, sep: 9, oct: 10, nov: 11, dec: 12,
  january: 1, february: 2, march: 3, april: 4, june: 6, july: 7, august: 8, september: 9, october: 10,
  november: 11, december: 12,
};
const DAYS: Record<string, number> = {
  sun: 0, mon: 1, tue: 2, wed: 3, thu: 4, fri: 5, sat: 6,
  sunday: 0, monday: 1, tuesday: 2, wednesday: 3, thursday: 4, friday: 5, saturday: 6,
};

const SECOND: FieldSpec = { name: 'second', min: 0, max: 59 };
const MINUTE: FieldSpec = { name: 'minute', min: 0, max: 59 };
const HOUR: FieldSpec = { name: 'hour', min: 0, max: 23 };
const DOM: FieldSpec = { name: 'day-of-month', min: 1, max: 31 };
const MONTH: FieldSpec = { name: 'month', min: 1, max: 12, names: MONTHS };
const DOW: FieldSpec = { name: 'day-of-week', min: 0, max: 7, names: DAYS };
const YEAR: FieldSpec = { name: 'year', min: 1970, max: 2099 };

const MACROS: Record<string, string> = {
  '@yearly': '0 0 0 1 1 * *',
  '@annually': '0 0 0 1 1 * *',
  '@monthly': '0 0 0 1 * * *',
  '@weekly': '0 0 0 * * 0 *',
  '@daily': '0 0 0 * * * *',
  '@hourly': '0 0 * * * * *',
};

/** CronExpression is a parsed cron spec: the allowed values of each field (special day forms kept as flags). */
export interface CronExpression {
  seconds: Set<number>;
  minutes: Set<number>;
  hours: Set<number>;
  /** daysOfMonth is empty when the field uses only special forms (`L`, `W`). */
  daysOfMonth: Set<number>;
  months: Set<number>;
  daysOfWeek: Set<number>;
  years: Set<number>;
  /** domAny / dowAny say whether the field was `*` or `?` (Vixie cron semantics: either day field matching suffices). */
  domAny: boolean;
  dowAny: boolean;
  /** special is true when a day field used `L`, `W` or `#`, which `nextCronTime` does not evaluate. */
  special: boolean;
}

function parseNumber(token: string, f: FieldSpec): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const n = f.names?.[token.toLowerCase()];
  return n;
}

function fieldError(f: FieldSpec, raw: string): Error {
  return new Error(`syntax error in ${f.name} field: '${raw}'`);
}

function parseField(raw: string, f: FieldSpec, out: Set<number>): { any: boolean; special: boolean } {
  if (raw === '*' || (raw === '?' && (f === DOM || f === DOW))) {
    for (let i = f.min; i <= f.max; i++) out.add(i === 7 && f === DOW ? 0 : i);
    return { any: true, special: false };
  }
  let special = false;
  for (const part of raw.split(',')) {
    if (part === '') throw fieldError(f, raw);
    if (f === DOM && /^(L|LW|\d{1,2}W)$/i.test(part)) {
      const m = /^(\d{1,2})W$/i.exec(part);
      if (m && (Number(m[1]) < 1 || Number(m[1]) > 31)) throw fieldError(f, raw);
      special = true;
      continue;
    }
    if (f === DOW && /^([0-7]|[a-z]{3})(L|#[1-5])$/i.test(part)) {
      const d = parseNumber(part.replace(/(L|#[1-5])$/i, ''), f);
      if (d === undefined) throw fieldError(f, raw);
      special = true;
      continue;
    }
    const [range, stepRaw, extra] = part.split('/');
    if (extra !== undefined || range === undefined || range === '') throw fieldError(f, raw);
    let step = 1;
    if (stepRaw !== undefined) {
      if (!/^\d+$/.test(stepRaw) || Number(stepRaw) < 1) throw fieldError(f, raw);
      step = Number(stepRaw);
    }
    let lo: number;
    let hi: number;
    if (range === '*') {
      lo = f.min;
      hi = f.max;
    } else {
      const [a, b, more] = range.split('-');
      if (more !== undefined || a === undefined) throw fieldError(f, raw);
      const av = parseNumber(a, f);
      if (av === undefined) throw fieldError(f, raw);
      lo = av;
      if (b !== undefined) {
        const bv = parseNumber(b, f);
        if (bv === undefined) throw fieldError(f, raw);
        hi = bv;
      } else hi = stepRaw !== undefined ? f.max : av;
    }
    if (lo < f.min || lo > f.max || hi < f.min || hi > f.max || lo > hi) throw fieldError(f, raw);
    for (let i = lo; i <= hi; i += step) out.add(f === DOW && i === 7 ? 0 : i);
  }
  return { any: false, special };
}

/** parseCron parses a cron spec as Nomad's cronexpr does; it throws an Error with cronexpr-style text when invalid. */
export function parseCron(spec: string): CronExpression {
  let s = spec.trim();
  if (s.startsWith('@')) {
    const m = MACROS[s.toLowerCase()];
    if (!m) throw new Error(`unknown cron macro: '${s}'`);
    s = m;
  }
  const fields = s.split(/\s+/).filter((x) => x !== '');
  let parts: string[];
  if (fields.length === 5) parts = ['0', ...fields, '*'];
  else if (fields.length === 6) parts = ['0', ...fields];
  else if (fields.length === 7) parts = fields;
  else throw new Error(`missing field(s): expected 5 to 7 fields, got ${fields.length}`);
  const e: CronExpression = {
    seconds: new Set(), minutes: new Set(), hours: new Set(), daysOfMonth: new Set(), months: new Set(),
    daysOfWeek: new Set(), years: new Set(), domAny: false, dowAny: false, special: false,
  };
  const [sec, min, hour, dom, mon, dow, year] = parts as [string, string, string, string, string, string, string];
  parseField(sec, SECOND, e.seconds);
  parseField(min, MINUTE, e.minutes);
  parseField(hour, HOUR, e.hours);
  const d1 = parseField(dom, DOM, e.daysOfMonth);
  parseField(mon, MONTH, e.months);
  const d2 = parseField(dow, DOW, e.daysOfWeek);
  parseField(year, YEAR, e.years);
  e.domAny = d1.any;
  e.dowAny = d2.any;
  e.special = d1.special || d2.special;
  return e;
}

/**
 * nextCronTime returns the first instant strictly after `from` (UTC) at which the expression fires, searching at
 * most `horizonDays` days ahead, or undefined. Special day forms (`L`, `W`, `#`) are not evaluated (undefined).
 */
export function nextCronTime(e: CronExpression, from: Date, horizonDays = 366): Date | undefined {
  if (e.special) return undefined;
  const t = new Date(Math.floor(from.getTime() / 1000) * 1000 + 1000);
  const end = from.getTime() + horizonDays * 86_400_000;
  while (t.getTime() <= end) {
    const dayOk = (() => {
      const domOk = e.daysOfMonth.has(t.getUTCDate());
      const dowOk = e.daysOfWeek.has(t.getUTCDay());
      if (e.domAny && e.dowAny) return true;
      if (e.domAny) return dowOk;
      if (e.dowAny) return domOk;
      return domOk || dowOk;
    })();
    if (!e.years.has(t.getUTCFullYear()) || !e.months.has(t.getUTCMonth() + 1) || !dayOk) {
      t.setUTCHours(0, 0, 0, 0);
      t.setUTCDate(t.getUTCDate() + 1);
      continue;
    }
    if (!e.hours.has(t.getUTCHours())) {
      t.setUTCMinutes(0, 0, 0);
      t.setUTCHours(t.getUTCHours() + 1);
      continue;
    }
    if (!e.minutes.has(t.getUTCMinutes())) {
      t.setUTCSeconds(0, 0);
      t.setUTCMinutes(t.getUTCMinutes() + 1);
      continue;
    }
    if (!e.seconds.has(t.getUTCSeconds())) {
      t.setUTCSeconds(t.getUTCSeconds() + 1);
      continue;
    }
    return new Date(t.getTime());
  }
  return undefined;
}

/** validTimeZone says whether Go's `time.LoadLocation` would accept the name (IANA names, `UTC`, `Local`, empty). */
export function validTimeZone(tz: string): boolean {
  if (tz === '' || tz === 'UTC' || tz === 'Local') return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}
