/**
 * The variables editor's raw mode: `.env` text ⇄ a key/value map. Keys are `[A-Za-z_][A-Za-z0-9_]*`; values may be
 * double-quoted (with \n, \" and \\ escapes) or single-quoted (verbatim) or bare (trimmed, no inline comments:
 * a `#` inside a bare value is kept, since secrets may contain it).
 */

/** DotenvLineError names a line of the raw text that is not `KEY=value`. */
export interface DotenvLineError {
  /** line is 1-based. */
  line: number;
  /** message says what is wrong. */
  message: string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** parseDotenv parses `.env` text; it returns the map and the lines it could not read (duplicate keys: last wins). */
export function parseDotenv(text: string): { values: Record<string, string>; errors: DotenvLineError[] } {
  const values: Record<string, string> = {};
  const errors: DotenvLineError[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const body = line.startsWith('export ') ? line.slice(7).trimStart() : line;
    const eq = body.indexOf('=');
    if (eq <= 0) {
      errors.push({ line: i + 1, message: 'Expected KEY=value' });
      return;
    }
    const key = body.slice(0, eq).trim();
    if (!KEY.test(key)) {
      errors.push({ line: i + 1, message: `"${key}" is not a valid name (letters, digits, _; not starting with a digit)` });
      return;
    }
    let value = body.slice(eq + 1).trim();
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
      value = value.slice(1, -1).replace(/\\(n|"|\\)/g, (_m, c: string) => (c === 'n' ? '\n' : c));
    } else if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) {
      value = value.slice(1, -1);
    }
    values[key] = value;
  });
  return { values, errors };
}

/** formatDotenv writes a map as `.env` text, quoting values that need it. */
export function formatDotenv(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([k, v]) => (/^[^\s"'\\#]*$/.test(v) ? `${k}=${v}` : `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`))
    .join('\n');
}
