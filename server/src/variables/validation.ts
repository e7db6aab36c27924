/**
 * Variable validation, with the scheduler's rules (the ones the manifest validator and compiler apply): keys follow
 * ENV_NAME_PATTERN (`^[A-Za-z_][A-Za-z0-9_]*$`, ≤ 128 characters) and are not names Drover sets (RESERVED_ENV:
 * `PORT`, `NOMAD_*`, `DROVER_*`); values are any text up to 32 KiB (including `${…}`, `{{ }}` and newlines — they
 * are data), and a `${{` must open a well-formed reference `${{ <service-or-database>.<VAR> }}` or
 * `${{ shared.<VAR> }}` (manifest/references.ts). Messages never repeat a value.
 */
import { ENV_NAME_PATTERN } from '@drover/scheduler/compiler/model.ts';
import { RESERVED_ENV } from '@drover/scheduler/compiler/rules.ts';
import { parseValue } from '@drover/scheduler/manifest/references.ts';

/** MAX_KEY_LENGTH is the longest variable name. */
export const MAX_KEY_LENGTH = 128;
/** MAX_VALUE_BYTES is the largest value (32 KiB of UTF-8). */
export const MAX_VALUE_BYTES = 32 * 1024;
/** MAX_BATCH is the most keys one batch may change. */
export const MAX_BATCH = 200;

/** keyProblem says what is wrong with a variable key, or null. */
export function keyProblem(key: string): string | null {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return `must be 1–${MAX_KEY_LENGTH} characters`;
  if (!ENV_NAME_PATTERN.test(key)) return 'must start with a letter or `_` and contain only letters, digits and `_`';
  if (RESERVED_ENV.test(key)) return 'is set by Drover (PORT, NOMAD_*, DROVER_*)';
  return null;
}

/** valueProblem says what is wrong with a value (size, NUL, reference syntax), or null; it never echoes the value. */
export function valueProblem(value: string): string | null {
  if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) return `must be at most ${MAX_VALUE_BYTES} bytes`;
  if (value.includes('\0')) return 'must not contain NUL characters';
  const parts = parseValue(value);
  return typeof parts === 'string' ? parts : null;
}

/** referencesOf lists the distinct `${{ target.NAME }}` references of a valid value, in order of first use. */
export function referencesOf(value: string): { target: string; name: string }[] {
  const parts = parseValue(value);
  if (typeof parts === 'string') return [];
  const seen = new Set<string>();
  const out: { target: string; name: string }[] = [];
  for (const p of parts) {
    if (p.kind !== 'ref' || seen.has(`${p.target}.${p.name}`)) continue;
    seen.add(`${p.target}.${p.name}`);
    out.push({ target: p.target, name: p.name });
  }
  return out;
}
