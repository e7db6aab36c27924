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
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*/;
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
const FLOAT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseValue(s: string, line: number): number {
  if (s === 'NaN') return Number.NaN;
  if (s === '+Inf' || s === 'Inf') return Number.POSITIVE_INFINITY;
  if (s === '-Inf') return Number.NEGATIVE_INFINITY;
  if (!FLOAT.test(s)) throw new PrometheusParseError(line, `${JSON.stringify(s.slice(0, 40))} is not a number`);
  return Number(s);
}

/** parseLabels reads `{…}` starting at text[0] === '{'; returns the labels and the rest after '}'. */
function parseLabels(text: string, line: number): { labels: Record<string, string>; rest: string } {
  const labels: Record<string, string> = {};
  let i = 1;
  const skipSpaces = (): void => { while (text[i] === ' ' || text[i] === '\t') i++; };
  for (;;) {
    skipSpaces();
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    const name = LABEL_NAME.exec(text.slice(i))?.[0];
    if (!name) throw new PrometheusParseError(line, 'expected a label name or }');
    if (Object.hasOwn(labels, name)) throw new PrometheusParseError(line, `label ${name} repeated`);
    i += name.length;
    skipSpaces();
    if (text[i] !== '=') throw new PrometheusParseError(line, `expected = after label ${name}`);
    i++;
    skipSpaces();
    if (text[i] !== '"') throw new PrometheusParseError(line, `expected " to open the value of label ${name}`);
    i++;
    let value = '';
    for (;;) {
      const c = text[i];
      if (c === undefined) throw new PrometheusParseError(line, `unterminated value of label ${name}`);
      if (c === '"') break;
      if (c === '\\') {
        const e = text[i + 1];
        if (e === '\\') value += '\\';
        else if (e === '"') value += '"';
        else if (e === 'n') value += '\n';
        else throw new PrometheusParseError(line, `bad escape in the value of label ${name}`);
        i += 2;
      } else {
        value += c;
        i++;
      }
    }
    i++;
    labels[name] = value;
    skipSpaces();
    if (text[i] === ',') { i++; continue; }
    if (text[i] === '}') return { labels, rest: text.slice(i + 1) };
    throw new PrometheusParseError(line, `expected , or } after label ${name}`);
  }
}

/** parsePrometheusText parses a whole exposition into its samples (comments and metadata dropped); throws PrometheusParseError. */
export function parsePrometheusText(text: string): PrometheusSample[] {
  const out: PrometheusSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const lineNo = n + 1;
    const raw = (lines[n] ?? '').replace(/\r$/, '');
    const line = raw.replace(/^[ \t]+/, '');
    if (line === '') continue;
    if (line.startsWith('#')) {
      const m = /^#[ \t]+(HELP|TYPE)[ \t]+(\S+)(?:[ \t]+(.*))?$/.exec(line);
      if (!m) continue; // a plain comment
      if (!METRIC_NAME.test(m[2] ?? '') || METRIC_NAME.exec(m[2] ?? '')?.[0] !== m[2]) throw new PrometheusParseError(lineNo, `bad metric name in # ${m[1]}`);
      if (m[1] === 'TYPE' && !TYPES.has((m[3] ?? '').trim())) throw new PrometheusParseError(lineNo, `unknown metric type ${JSON.stringify(m[3] ?? '')}`);
      continue;
    }
    const name = METRIC_NAME.exec(line)?.[0];
    if (!name) throw new PrometheusParseError(lineNo, 'expected a metric name');
    let rest = line.slice(name.length).replace(/^[ \t]+/, '');
    let labels: Record<string, string> = {};
    if (rest.startsWith('{')) ({ labels, rest } = parseLabels(rest, lineNo));
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
