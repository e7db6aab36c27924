/**
 * A subset of go-bexpr, the filter language of Nomad's list endpoints (`?filter=`): selectors (`JobID`,
 * `Meta["drover.team"]`, `Meta.x`), `==`, `!=`, `contains`, `not contains`, `in`, `not in`, `is empty`,
 * `is not empty`, `matches`, `not matches`, `and`, `or`, `not`, parentheses, and quoted or bare values.
 */

type Tok = { k: 'word' | 'str' | 'op' | 'lp' | 'rp' | 'lb' | 'rb' | 'dot'; v: string };

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i] ?? '';
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(') { out.push({ k: 'lp', v: c }); i++; continue; }
    if (c === ')') { out.push({ k: 'rp', v: c }); i++; continue; }
    if (c === '[') { out.push({ k: 'lb', v: c }); i++; continue; }
    if (c === ']') { out.push({ k: 'rb', v: c }); i++; continue; }
    if (c === '.') { out.push({ k: 'dot', v: c }); i++; continue; }
    if (c === '=' && src[i + 1] === '=') { out.push({ k: 'op', v: '==' }); i += 2; continue; }
    if (c === '!' && src[i + 1] === '=') { out.push({ k: 'op', v: '!=' }); i += 2; continue; }
    if (c === '"' || c === '`') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== c) {
        if (src[j] === '\\' && c === '"') { s += src[j + 1] ?? ''; j += 2; continue; }
        s += src[j];
        j++;
      }
      if (j >= src.length) throw new Error(`unterminated string at ${i}`);
      out.push({ k: 'str', v: s });
      i = j + 1;
      continue;
    }
    const m = /^[A-Za-z0-9_\-/:*]+/.exec(src.slice(i));
    if (!m) throw new Error(`unexpected character ${JSON.stringify(c)} at ${i}`);
    out.push({ k: 'word', v: m[0] });
    i += m[0].length;
  }
  return out;
}

/** FilterFn says whether one object matches a compiled filter expression. */
export type FilterFn = (obj: unknown) => boolean;

/** compileFilter parses a go-bexpr expression; it throws an Error (Nomad answers 400) when the syntax is invalid. */
export function compileFilter(expr: string): FilterFn {
  const toks = tokenize(expr);
  let pos = 0;
  const peek = (): Tok | undefined => toks[pos];
  const isWord = (w: string, t = peek()): boolean => t?.k === 'word' && t.v.toLowerCase() === w;
  const next = (): Tok => {
    const t = toks[pos++];
    if (!t) throw new Error('unexpected end of filter expression');
    return t;
  };

  const selector = (): string[] => {
    const path: string[] = [];
    const first = next();
    if (first.k !== 'word') throw new Error(`expected a selector, got ${JSON.stringify(first.v)}`);
    path.push(first.v);
    for (;;) {
      const t = peek();
      if (t?.k === 'dot') { pos++; path.push(next().v); continue; }
      if (t?.k === 'lb') {
        pos++;
        path.push(next().v);
        if (next().k !== 'rb') throw new Error('expected ]');
        continue;
      }
      return path;
    }
  };
  const value = (): string => {
    const t = next();
    if (t.k !== 'str' && t.k !== 'word') throw new Error(`expected a value, got ${JSON.stringify(t.v)}`);
    return t.v;
  };
  const resolve = (obj: unknown, path: string[]): unknown => {
    let cur: unknown = obj;
    for (const p of path) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur;
  };
  const asString = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v));
  const contains = (hay: unknown, needle: string): boolean => {
    if (Array.isArray(hay)) return hay.some((x) => asString(x) === needle);
    if (hay && typeof hay === 'object') return Object.prototype.hasOwnProperty.call(hay, needle);
    return typeof hay === 'string' && hay.includes(needle);
  };
  const empty = (v: unknown): boolean => v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0) || (typeof v === 'object' && Object.keys(v as object).length === 0);

  const primary = (): FilterFn => {
    const t = peek();
    if (t?.k === 'lp') {
      pos++;
      const inner = orExpr();
      if (next().k !== 'rp') throw new Error('expected )');
      return inner;
    }
    if (isWord('not')) {
      pos++;
      const inner = primary();
      return (o) => !inner(o);
    }
    // `<value> in <selector>` / `<value> not in <selector>`
    const save = pos;
    if (t && (t.k === 'str' || t.k === 'word')) {
      const v = next().v;
      if (isWord('in')) { pos++; const s = selector(); return (o) => contains(resolve(o, s), v); }
      if (isWord('not') && isWord('in', toks[pos + 1])) { pos += 2; const s = selector(); return (o) => !contains(resolve(o, s), v); }
      pos = save;
    }
    const sel = selector();
    const op = next();
    if (op.k === 'op' && op.v === '==') { const v = value(); return (o) => asString(resolve(o, sel)) === v; }
    if (op.k === 'op' && op.v === '!=') { const v = value(); return (o) => asString(resolve(o, sel)) !== v; }
    const w = op.v.toLowerCase();
    if (w === 'contains') { const v = value(); return (o) => contains(resolve(o, sel), v); }
    if (w === 'matches') { const re = new RegExp(value()); return (o) => re.test(asString(resolve(o, sel))); }
    if (w === 'is') {
      if (isWord('not')) { pos++; if (!isWord('empty')) throw new Error('expected empty'); pos++; return (o) => !empty(resolve(o, sel)); }
      if (!isWord('empty')) throw new Error('expected empty');
      pos++;
      return (o) => empty(resolve(o, sel));
    }
    if (w === 'not') {
      const w2 = next().v.toLowerCase();
      if (w2 === 'contains') { const v = value(); return (o) => !contains(resolve(o, sel), v); }
      if (w2 === 'matches') { const re = new RegExp(value()); return (o) => !re.test(asString(resolve(o, sel))); }
    }
    throw new Error(`unknown operator ${JSON.stringify(op.v)}`);
  };
  const andExpr = (): FilterFn => {
    let left = primary();
    while (isWord('and')) { pos++; const l = left, r = primary(); left = (o) => l(o) && r(o); }
    return left;
  };
  const orExpr = (): FilterFn => {
    let left = andExpr();
    while (isWord('or')) { pos++; const l = left, r = andExpr(); left = (o) => l(o) || r(o); }
    return left;
  };
  const fn = orExpr();
  if (pos !== toks.length) throw new Error(`unexpected ${JSON.stringify(toks[pos]?.v)} in filter expression`);
  return fn;
}
