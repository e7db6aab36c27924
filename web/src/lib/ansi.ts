/**
 * ANSI colours in log lines, rendered safely: `parseAnsi` reads SGR escape sequences (`ESC [ … m`) into styled
 * segments of plain text, which the logs panel renders as text nodes in spans (never as HTML). Every other escape
 * sequence (cursor moves, OSC titles, …) and stray control characters are dropped.
 */

/** AnsiStyle is the state SGR codes set: 16-colour, 256-colour or RGB foreground/background and weights. */
export interface AnsiStyle {
  /** fg is a CSS colour or null (the default). */
  fg: string | null;
  /** bg is a CSS colour or null. */
  bg: string | null;
  /** bold is SGR 1. */
  bold: boolean;
  /** dim is SGR 2. */
  dim: boolean;
  /** italic is SGR 3. */
  italic: boolean;
  /** underline is SGR 4. */
  underline: boolean;
}

/** AnsiSegment is a run of text with one style. */
export interface AnsiSegment extends AnsiStyle {
  /** text is plain text (no escape characters). */
  text: string;
}

/**
 * BASIC are the 16 colours, normal then bright, chosen for the logs panel's dark background (#0d1117): each keeps a
 * WCAG AA contrast of at least 4.5:1 against it, so coloured output stays readable (black is drawn as grey).
 */
const BASIC = [
  '#8b949e', '#ff7b72', '#3fb950', '#d29922', '#58a6ff', '#bc8cff', '#39c5cf', '#b1bac4',
  '#8b949e', '#ffa198', '#56d364', '#e3b341', '#79c0ff', '#d2a8ff', '#56d4dd', '#ffffff',
];

/** color256 maps an xterm 256-colour index to a CSS colour (null when out of range). */
export function color256(n: number): string | null {
  if (!Number.isInteger(n) || n < 0 || n > 255) return null;
  if (n < 16) return BASIC[n] ?? null;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const c = (x: number) => (x === 0 ? 0 : 55 + x * 40);
  return `rgb(${c(Math.floor(i / 36))},${c(Math.floor(i / 6) % 6)},${c(i % 6)})`;
}

const plain = (): AnsiStyle => ({ fg: null, bg: null, bold: false, dim: false, italic: false, underline: false });

function byte(s: string | undefined): number | null {
  if (s === undefined || !/^\d{1,3}$/.test(s)) return null;
  const n = Number(s);
  return n <= 255 ? n : null;
}

/** applySgr applies one SGR parameter list (`1;31`, `38;5;208`, `38;2;r;g;b`, empty = reset) to a style. */
export function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const s = { ...style };
  const codes = params === '' ? ['0'] : params.split(';');
  for (let i = 0; i < codes.length; i++) {
    const code = Number(codes[i] === '' ? '0' : codes[i]);
    if (code === 0) Object.assign(s, plain());
    else if (code === 1) s.bold = true;
    else if (code === 2) s.dim = true;
    else if (code === 3) s.italic = true;
    else if (code === 4) s.underline = true;
    else if (code === 22) s.bold = s.dim = false;
    else if (code === 23) s.italic = false;
    else if (code === 24) s.underline = false;
    else if (code >= 30 && code <= 37) s.fg = BASIC[code - 30] ?? null;
    else if (code === 39) s.fg = null;
    else if (code >= 40 && code <= 47) s.bg = BASIC[code - 40] ?? null;
    else if (code === 49) s.bg = null;
    else if (code >= 90 && code <= 97) s.fg = BASIC[code - 90 + 8] ?? null;
    else if (code >= 100 && code <= 107) s.bg = BASIC[code - 100 + 8] ?? null;
    else if (code === 38 || code === 48) {
      let colour: string | null = null;
      if (codes[i + 1] === '5') {
        colour = color256(byte(codes[i + 2]) ?? -1);
        i += 2;
      } else if (codes[i + 1] === '2') {
        const [r, g, b] = [byte(codes[i + 2]), byte(codes[i + 3]), byte(codes[i + 4])];
        colour = r !== null && g !== null && b !== null ? `rgb(${r},${g},${b})` : null;
        i += 4;
      }
      if (code === 38) s.fg = colour;
      else s.bg = colour;
    }
  }
  return s;
}

// CSI sequences (ESC [ params intermediates final), OSC (ESC ] … BEL or ESC \), other two-byte escapes.
// eslint-disable-next-line no-control-regex
const ESCAPE = /\x1b\[([0-9;:?]*)[ -/]*([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]?/g;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

/**
 * parseAnsi splits text into styled segments, starting from `start` (the style a previous line left). Only SGR
 * (`m`) sequences change the style; every other sequence and control character (except tab and newline) is removed.
 */
export function parseAnsi(text: string, start: AnsiStyle = plain()): { segments: AnsiSegment[]; end: AnsiStyle } {
  const segments: AnsiSegment[] = [];
  let style = start;
  let last = 0;
  const push = (t: string) => {
    const clean = t.replace(CONTROL, '');
    if (clean) segments.push({ ...style, text: clean });
  };
  for (const m of text.matchAll(ESCAPE)) {
    push(text.slice(last, m.index));
    if (m[2] === 'm') style = applySgr(style, (m[1] ?? '').replace(/:/g, ';'));
    last = m.index + m[0].length;
  }
  push(text.slice(last));
  return { segments, end: style };
}

/** stripAnsi returns the text without any escape sequence (for search). */
export function stripAnsi(text: string): string {
  return parseAnsi(text).segments.map((s) => s.text).join('');
}

/** segmentCss is the inline style of a segment (colours come only from the tables above, never from the text). */
export function segmentCss(s: AnsiStyle): string {
  const out: string[] = [];
  if (s.fg) out.push(`color:${s.fg}`);
  if (s.bg) out.push(`background:${s.bg}`);
  if (s.bold) out.push('font-weight:700');
  if (s.dim) out.push('opacity:.7');
  if (s.italic) out.push('font-style:italic');
  if (s.underline) out.push('text-decoration:underline');
  return out.join(';');
}
