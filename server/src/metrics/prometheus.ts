/**
 * Prometheus text exposition format (version 0.0.4), parsed strictly: `# HELP` / `# TYPE` lines, other comments,
 * blank lines and samples `name{label="value",…} value [timestamp]`. Label values unescape `\\`, `\"` and `\n`;
 * values may be `NaN`, `+Inf` and `-Inf`. A malformed line throws PrometheusParseError naming its line number, so a
 * misread exposition never turns into made-up numbers.
 */

/** PrometheusSample is one sample line. */
export interface PrometheusSample {
  /** name is the metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`). */
  name: string;
  /** labels are the sample's labels (names `[a-zA-Z_][a-zA-Z0-9_]*`, each at most once). */
  labels: Record<string, string>;
  /** value is the sample value (may be NaN or ±Infinity). */
  value: number;
  /** timestampMs is the optional timestamp in milliseconds since the epoch. */
  timestampMs?: number;
}

/** PrometheusParseError is a malformed exposition; `line` is 1-based. */
export class PrometheusParseError extends Error {
  /** line is the 1-based line number of the malformed line. */
  readonly line: number;
  constructor(line: number, message: string) {
    super(`line ${line}: ${message}`);
    this.name = 'PrometheusParseError';
    this.line = line;
  }
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;
const LABEL_NAME_AT = /[a-zA-Z_][a-zA-Z0-9_]*/y;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!FLOAT.test(s)) throw new PrometheusParseError(line, `${JSON.stringify(s.slice(0, 40))} is not a number`);
  return Number(s);
}

/** unescapeLabel turns `\\`, `\"` and `\n` into their characters; any other escape is an error. */
function unescapeLabel(raw: string, name: string, line: number): string {
  return raw.replace(/\\(.?)/g, (_, e: string) => {
    if (e === '\\') return '\\';
    if (e === '"') return '"';
    if (e === 'n') return '\n';
    throw new PrometheusParseError(line, `bad escape in the value of label ${name}`);
  });
}

/** parseLabels reads `{…}` starting at text[start] === '{'; returns the labels and the index after '}'. */
function parseLabels(text: string, start: number, line: number): { labels: Record<string, string>; end: number } {
  const labels: Record<string, string> = {};
  let i = start + 1;
  const skipSpaces = (): void => { while (text[i] === ' ' || text[i] === '\t') i++; };
  for (;;) {
    skipSpaces();
    if (text[i] === '}') return { labels, end: i + 1 };
    LABEL_NAME_AT.lastIndex = i;
    const name = LABEL_NAME_AT.exec(text)?.[0];
    if (!name) throw new PrometheusParseError(line, 'expected a label name or }');
    if (Object.hasOwn(labels, name)) throw new PrometheusParseError(line, `label ${name} repeated`);
    i += name.length;
    skipSpaces();
    if (text[i] !== '=') throw new PrometheusParseError(line, `expected = after label ${name}`);
    i++;
    skipSpaces();
    if (text[i] !== '"') throw new PrometheusParseError(line, `expected " to open the value of label ${name}`);
    const open = i + 1;
    let close = open;
    let escaped = false;
    for (;;) {
      close = text.indexOf('"', close);
      if (close < 0) throw new PrometheusParseError(line, `unterminated value of label ${name}`);
      let backslashes = 0;
      while (text[close - 1 - backslashes] === '\\' && close - 1 - backslashes >= open) backslashes++;
      if (backslashes > 0) escaped = true;
      if (backslashes % 2 === 0) break;
      close++;
    }
    const raw = text.slice(open, close);
    labels[name] = escaped || raw.includes('\\') ? unescapeLabel(raw, name, line) : raw;
    i = close + 1;
    skipSpaces();
    if (text[i] === ',') { i++; continue; }
    if (text[i] === '}') return { labels, end: i + 1 };
    throw new PrometheusParseError(line, `expected , or } after label ${name}`);
  }
}

/** startsWithOneOf tells whether the line starts with one of the names, followed by `{`, a space or a tab. */
function startsWithOneOf(line: string, names: ReadonlySet<string>): boolean {
  for (const n of names) {
    if (!line.startsWith(n)) continue;
    const c = line[n.length];
    if (c === '{' || c === ' ' || c === '\t') return true;
  }
  return false;
}

/**
 * parsePrometheusText parses a whole exposition into its samples (comments and metadata dropped); throws
 * PrometheusParseError. With `only`, lines of other metrics are skipped unread (a line that does not start with one of
 * the names and `{`, a space or a tab: neither its labels nor its value are parsed or checked), which keeps a scrape that needs two counters cheap.
 */
export function parsePrometheusText(text: string, options: { only?: ReadonlySet<string> } = {}): PrometheusSample[] {
  const only = options.only;
  const out: PrometheusSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    let line = lines[n] ?? '';
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line[0] === ' ' || line[0] === '\t') line = line.replace(/^[ \t]+/, '');
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      if (!METRIC_NAME.test(m[2] ?? '') || METRIC_NAME.exec(m[2] ?? '')?.[0] !== m[2]) throw new PrometheusParseError(lineNo, `bad metric name in # ${m[1]}`);
      if (m[1] === 'TYPE' && !TYPES.has((m[3] ?? '').trim())) throw new PrometheusParseError(lineNo, `unknown metric type ${JSON.stringify(m[3] ?? '')}`);
      continue;
    }
    if (only && !startsWithOneOf(line, only)) continue;
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) throw new PrometheusParseError(lineNo, 'expected a metric name');
    if (only && !only.has(name)) continue;
    let at = name.length;
    while (line[at] === ' ' || line[at] === '\t') at++;
    let labels: Record<string, string> = {};
    if (line[at] === '{') ({ labels, end: at } = parseLabels(line, at, lineNo));
    const rest = line.slice(at);
    const fields = rest.trim().split(/[ \t]+/).filter((f) => f !== '');
    if (fields.length < 1 || fields.length > 2) throw new PrometheusParseError(lineNo, 'expected a value and an optional timestamp');
    const sample: PrometheusSample = { name, labels, value: parseValue(fields[0] ?? '', lineNo) };
    if (fields[1] !== undefined) {
      if (!/^-?\d+$/.test(fields[1])) throw new PrometheusParseError(lineNo, 'the timestamp must be an integer (ms)');
      sample.timestampMs = Number(fields[1]);
    }
    out.push(sample);
  }
  return out;
}
