/**
 * Variable validation: keys are environment variable names (`^[A-Za-z_][A-Za-z0-9_]*$`, ≤ 128 characters) that are
 * not reserved by Drover; values are any text up to 32 KiB (including `${…}`, `{{ }}` and newlines — they are data),
 * and any `${{ … }}` in them must be a well-formed reference `${{ <service-or-database>.<VAR> }}` or
 * `${{ shared.<VAR> }}`. Messages never repeat a value.
 */

/** VARIABLE_KEY_RE is the variable name rule. */
export const VARIABLE_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** MAX_KEY_LENGTH is the longest variable name. */
export const MAX_KEY_LENGTH = 128;
/** MAX_VALUE_BYTES is the largest value (32 KiB of UTF-8). */
export const MAX_VALUE_BYTES = 32 * 1024;
/** MAX_BATCH is the most keys one batch may change. */
export const MAX_BATCH = 200;

/** RESERVED_KEYS are names Drover sets itself in every task's environment. */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['PORT', 'PRIVATE_HOST', 'PRIVATE_PORT', 'PRIVATE_URL', 'PUBLIC_URL']);
/** RESERVED_PREFIXES are prefixes of names Nomad, Vault, Consul or Drover set. */
export const RESERVED_PREFIXES: readonly string[] = ['NOMAD_', 'DROVER_', 'VAULT_', 'CONSUL_'];

/** keyProblem says what is wrong with a variable key, or null. */
export function keyProblem(key: string): string | null {
  if (key.length === 0 || key.length > MAX_KEY_LENGTH) return `must be 1–${MAX_KEY_LENGTH} characters`;
  if (!VARIABLE_KEY_RE.test(key)) return 'must start with a letter or `_` and contain only letters, digits and `_`';
  const upper = key.toUpperCase();
  if (RESERVED_KEYS.has(upper) || RESERVED_PREFIXES.some((p) => upper.startsWith(p))) return 'is reserved by Drover';
  return null;
}

const REF_RE = /^\$\{\{\s*([a-z0-9](?:[a-z0-9]|-(?!-))*[a-z0-9]?)\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/;

/** Reference is one `${{ target.VAR }}` found in a value. */
export interface Reference {
  /** target is `shared` or a service/database slug. */
  target: string;
  /** name is the referenced variable. */
  name: string;
}

/** parseReferences finds every `${{ … }}` in a value; it returns the references, or a message for a malformed one. */
export function parseReferences(value: string): { refs: Reference[] } | { message: string } {
  const refs: Reference[] = [];
  let i = value.indexOf('${{');
  while (i >= 0) {
    const m = REF_RE.exec(value.slice(i));
    if (!m || (m[1] as string).endsWith('-')) return { message: 'contains a `${{` that is not a reference of the form ${{ service.VAR }} or ${{ shared.VAR }}' };
    refs.push({ target: m[1] as string, name: m[2] as string });
    i = value.indexOf('${{', i + m[0].length);
  }
  return { refs };
}

/** valueProblem says what is wrong with a value (size, NUL, reference syntax), or null; it never echoes the value. */
export function valueProblem(value: string): string | null {
  if (Buffer.byteLength(value, 'utf8') > MAX_VALUE_BYTES) return `must be at most ${MAX_VALUE_BYTES} bytes`;
  if (value.includes('\0')) return 'must not contain NUL characters';
  const r = parseReferences(value);
  return 'message' in r ? r.message : null;
}
