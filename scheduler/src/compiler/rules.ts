/**
 * Rules: the checks that keep tenant text from becoming code (platform.md, invariant 4). Each returns `undefined`
 * when the input is acceptable, else a reason phrased for a problem description. The manifest validator and the
 * compiler apply the same functions, so nothing the compiler emits depends on the manifest having been checked.
 */

/** MAX_HOSTNAME_LENGTH is the longest hostname accepted (RFC 1035). */
export const MAX_HOSTNAME_LENGTH = 253;

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** hostnameProblem checks a custom domain: lower-case LDH labels (IDN as punycode), ≤ 253, no wildcard, ≥ 2 labels. */
export function hostnameProblem(host: string): string | undefined {
  if (host.length === 0) return 'is empty';
  if (host.includes('`')) return 'must not contain a backtick';
  if (/["']/.test(host)) return 'must not contain a quote';
  if (/[()]/.test(host)) return 'must not contain a parenthesis';
  if (host.includes('||') || host.includes('&&')) return 'must not contain an operator such as ||';
  if (/\s/.test(host)) return 'must not contain spaces';
  if (host.includes('*')) return 'must not be a wildcard';
  if (/[A-Z]/.test(host)) return 'must be lower case';
  if (/[^\x21-\x7e]/.test(host)) return 'must be ASCII (write an internationalised name as punycode, xn--…)';
  if (host.length > MAX_HOSTNAME_LENGTH) return `must be at most ${MAX_HOSTNAME_LENGTH} characters`;
  if (host.endsWith('.')) return 'must not end with a dot';
  const labels = host.split('.');
  if (labels.length < 2) return 'must have at least two labels';
  for (const l of labels) {
    if (!LABEL.test(l)) return `label ${JSON.stringify(l)} must be 1–63 letters, digits or inner hyphens`;
    if (l.slice(2, 4) === '--' && !l.startsWith('xn--')) return `label ${JSON.stringify(l)} has '--' in positions 3–4 but is not punycode (xn--)`;
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1] ?? '')) return 'must be a name, not an IP address';
  return undefined;
}

/** ALLOWED_INTERPOLATION matches the only `${…}` forms allowed in a command: `${PORT}` and `${NOMAD_*}`. */
export const ALLOWED_INTERPOLATION: RegExp = /^(?:PORT|NOMAD_[A-Za-z0-9_]+)$/;

/** MAX_ARGS is the most argv elements a command may have; MAX_ARG_LENGTH the longest element. */
export const MAX_ARGS = 256;
/** MAX_ARG_LENGTH is the longest argv element. */
export const MAX_ARG_LENGTH = 4096;

/**
 * argProblem checks one argv element that Nomad will parse as an HCL template: `${…}` only as `${PORT}` or
 * `${NOMAD_*}`, no escape sequences `$${`/`%%{` (ambiguous once Drover escapes `%{`), no NUL.
 */
export function argProblem(arg: string): string | undefined {
  if (arg.length > MAX_ARG_LENGTH) return `must be at most ${MAX_ARG_LENGTH} characters`;
  if (arg.includes('\0')) return 'must not contain a NUL character';
  if (arg.includes('$${')) return "must not contain '$${'";
  if (arg.includes('%%{')) return "must not contain '%%{'";
  let i = arg.indexOf('${');
  while (i !== -1) {
    const end = arg.indexOf('}', i + 2);
    if (end === -1) return "has an unterminated '${'";
    const name = arg.slice(i + 2, end);
    if (!ALLOWED_INTERPOLATION.test(name)) return `uses \${${name}}: only \${PORT} and \${NOMAD_*} are allowed`;
    i = arg.indexOf('${', end + 1);
  }
  return undefined;
}

/** commandProblem checks an argv: 1–MAX_ARGS elements, a non-empty program, every element passing argProblem. */
export function commandProblem(argv: string[]): { index: number; reason: string } | undefined {
  if (argv.length === 0) return { index: -1, reason: 'must name a program' };
  if (argv.length > MAX_ARGS) return { index: -1, reason: `must have at most ${MAX_ARGS} elements` };
  if ((argv[0] ?? '') === '') return { index: 0, reason: 'the program must not be empty' };
  for (let i = 0; i < argv.length; i++) {
    const reason = argProblem(argv[i] ?? '');
    if (reason) return { index: i, reason };
  }
  return undefined;
}

/** escapeHclTemplate writes tenant `%{` as `%%{`, since Nomad parses driver config as an HCL template. */
export function escapeHclTemplate(arg: string): string {
  return arg.replaceAll('%{', '%%{');
}

const IMAGE_REF =
  /^(?:(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$/;

/** imageProblem checks a container image reference (`[registry[:port]/]repo[:tag][@sha256:…]`, ≤ 512). */
export function imageProblem(ref: string): string | undefined {
  if (ref.length === 0 || ref.length > 512) return 'must be 1–512 characters';
  if (!IMAGE_REF.test(ref)) return 'is not an image reference such as ghcr.io/acme/web:1.4.2';
  return undefined;
}

/** DIGEST_PATTERN is an image digest. */
export const DIGEST_PATTERN: RegExp = /^sha256:[a-f0-9]{64}$/;

/** CHECKSUM_PATTERN is an artifact checksum as go-getter takes it. */
export const CHECKSUM_PATTERN: RegExp = /^(?:md5:[a-f0-9]{32}|sha1:[a-f0-9]{40}|sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;

const GETTER_PARAMS = new Set(['archive', 'checksum', 'filename', 'sshkey', 'ref', 'depth', 'aws_access_key_id',
  'aws_access_key_secret', 'aws_access_token', 'aws_profile', 'region', 'version', 'credentials']);

function ipv4Problem(a: number, b: number): string | undefined {
  if (a === 127) return 'points at a loopback address';
  if (a === 169 && b === 254) return 'points at a link-local (metadata) address';
  if (a === 0 || a >= 224) return 'points at a reserved address';
  if (a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168)) return 'points at a private address';
  if (a === 100 && b >= 64 && b <= 127) return 'points at a shared (carrier-grade NAT) address';
  if ((a === 198 && (b === 18 || b === 19)) || (a === 192 && b === 0)) return 'points at a reserved address';
  return undefined;
}

/**
 * artifactUrlProblem checks an artifact URL: http(s) only, no credentials, no go-getter magic parameters, no
 * interpolation characters, and never a loopback, link-local, metadata, private or single-label host written
 * literally. (Names that resolve to private addresses are the cluster firewall's to stop.)
 */
export function artifactUrlProblem(raw: string): string | undefined {
  if (raw.length > 2048) return 'must be at most 2048 characters';
  if (/[\s`"'\\{}$<>^|]/.test(raw) || /[^\x21-\x7e]/.test(raw)) return 'contains characters a URL must encode';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return 'is not a URL';
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') return 'must be http or https';
  if (u.username !== '' || u.password !== '') return 'must not carry credentials';
  for (const k of u.searchParams.keys()) if (GETTER_PARAMS.has(k.toLowerCase())) return `must not set the go-getter parameter ${JSON.stringify(k)}`;
  if (u.pathname.includes('//')) return "must not contain '//' in its path (go-getter reads it as a subdirectory)";
  const host = u.hostname;
  const v4 = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(host);
  if (v4) return ipv4Problem(Number(v4[1]), Number(v4[2]));
  if (host.startsWith('[')) {
    const h = host.slice(1, -1).toLowerCase();
    if (h === '::1' || h === '::') return 'points at a loopback address';
    if (/^fe[89ab]/.test(h)) return 'points at a link-local address';
    if (/^f[cd]/.test(h)) return 'points at a private address';
    if (h.startsWith('ff')) return 'points at a multicast address';
    const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(h);
    if (mapped) {
      const hi = parseInt(mapped[1] ?? '0', 16);
      return ipv4Problem(hi >> 8, hi & 255) ?? undefined;
    }
    if (h.startsWith('::ffff:') || h.startsWith('64:ff9b:')) return 'points at an IPv4-mapped address';
    return undefined;
  }
  if (host === 'localhost' || host.endsWith('.localhost')) return 'points at a loopback address';
  if (host === 'metadata.google.internal' || host.endsWith('.internal') || host.endsWith('.local') || host.endsWith('.consul'))
    return 'points at a metadata or cluster-internal name';
  if (!host.includes('.')) return 'must name a fully qualified host';
  return undefined;
}

/** RESERVED_MOUNTS are paths a volume may not be mounted at or under (Nomad's task directories, kernel filesystems). */
export const RESERVED_MOUNTS: readonly string[] = ['/alloc', '/local', '/secrets', '/proc', '/sys', '/dev'];

/** mountProblem checks a volume mount path: absolute, no `.`/`..`/empty segments, a safe charset, not reserved. */
export function mountProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.length > 255) return 'must be at most 255 characters';
  if (path === '/') return 'must not be the root directory';
  const segs = path.slice(1).split('/');
  for (const s of segs) {
    if (s === '' || s === '.' || s === '..') return 'must not contain empty, "." or ".." segments';
    if (!/^[A-Za-z0-9._@+-]+$/.test(s)) return `segment ${JSON.stringify(s)} may hold only letters, digits and . _ @ + -`;
  }
  for (const r of RESERVED_MOUNTS) if (path === r || path.startsWith(`${r}/`)) return `must not be under ${r}`;
  return undefined;
}

/** checkPathProblem checks an HTTP health check path: starts with '/', a conservative URL charset, no `${`. */
export function checkPathProblem(path: string): string | undefined {
  if (path.length > 1024) return 'must be at most 1024 characters';
  if (!/^\/[A-Za-z0-9._~!&*+,;=:@%/?-]*$/.test(path)) return "must start with '/' and use URL path characters only";
  return undefined;
}

/** RESERVED_ENV is the rule for variable names Drover sets itself (`PORT`, `NOMAD_*`, `DROVER_*`). */
export const RESERVED_ENV: RegExp = /^(?:PORT|NOMAD_.*|DROVER_.*)$/;

const CRON_FIELDS: { name: string; min: number; max: number; names?: string[] }[] = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'] },
  { name: 'day of week', min: 0, max: 6, names: ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'] },
];

function cronValue(s: string, f: { min: number; names?: string[] }): number | undefined {
  if (/^[0-9]{1,2}$/.test(s)) return Number(s);
  const i = f.names?.indexOf(s.toUpperCase()) ?? -1;
  return i >= 0 ? i + f.min : undefined;
}

/** cronField expands one cron field into the set of values it allows, or returns a reason. */
function cronField(text: string, f: (typeof CRON_FIELDS)[number]): Set<number> | string {
  const out = new Set<number>();
  for (const item of text.split(',')) {
    const m = /^([^/]+)(?:\/([0-9]{1,2}))?$/.exec(item);
    if (!m) return `${f.name} item ${JSON.stringify(item)} is malformed`;
    const step = m[2] === undefined ? 1 : Number(m[2]);
    if (step < 1) return `${f.name} step must be at least 1`;
    let lo: number | undefined;
    let hi: number | undefined;
    const range = m[1] ?? '';
    if (range === '*' || range === '?') {
      if (range === '?' && f.min !== 1 && f.names?.[0] !== 'SUN') return `'?' is only allowed for day of month or week`;
      lo = f.min;
      hi = f.max;
    } else {
      const parts = range.split('-');
      if (parts.length > 2) return `${f.name} range ${JSON.stringify(range)} is malformed`;
      lo = cronValue(parts[0] ?? '', f);
      hi = parts.length === 2 ? cronValue(parts[1] ?? '', f) : m[2] === undefined ? lo : f.max;
    }
    if (lo === undefined || hi === undefined) return `${f.name} value ${JSON.stringify(range)} is not a number or name`;
    if (lo < f.min || hi > f.max || lo > hi) return `${f.name} ${JSON.stringify(item)} is outside ${f.min}–${f.max}`;
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

const MONTH_DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/**
 * cronProblem checks a five-field cron expression (minute hour day-of-month month day-of-week) with numbers,
 * month/day names, `*`, lists, ranges and steps; it also refuses a schedule that can never fire (30 February).
 */
export function cronProblem(spec: string): string | undefined {
  if (spec.length > 200) return 'must be at most 200 characters';
  const fields = spec.trim().split(/[ \t]+/);
  if (fields.length !== 5) return `must have five fields (minute hour day-of-month month day-of-week), found ${fields.length}`;
  const sets: Set<number>[] = [];
  for (let i = 0; i < 5; i++) {
    const r = cronField(fields[i] ?? '', CRON_FIELDS[i] ?? CRON_FIELDS[0]!);
    if (typeof r === 'string') return r;
    sets.push(r);
  }
  const [, , dom, month, dow] = sets;
  const domRestricted = fields[2] !== '*' && fields[2] !== '?';
  const dowRestricted = fields[4] !== '*' && fields[4] !== '?';
  if (domRestricted && !dowRestricted) {
    const ok = [...(month ?? [])].some((mo) => [...(dom ?? [])].some((d) => d <= (MONTH_DAYS[mo - 1] ?? 0)));
    if (!ok) return 'never fires (no selected month has the selected day)';
  }
  void dow;
  return undefined;
}

let zones: Set<string> | undefined;

/** timezoneProblem checks an IANA time zone name, case-sensitively as Go's time.LoadLocation needs it. */
export function timezoneProblem(tz: string): string | undefined {
  if (!/^[A-Za-z0-9_+\-/]{1,64}$/.test(tz)) return 'is not an IANA time zone name';
  zones ??= new Set([...Intl.supportedValuesOf('timeZone'), 'UTC', 'Etc/UTC']);
  if (zones.has(tz)) return undefined;
  // ICU knows aliases (Asia/Kolkata → Asia/Calcutta) and matches case-insensitively; Go's tz database lookup is
  // case-sensitive, and IANA names start every segment with a capital.
  if (tz.split('/').every((seg) => /^[A-Z]/.test(seg))) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: tz });
      return undefined;
    } catch {
      // fall through
    }
  }
  return 'is not an IANA time zone name such as Europe/Berlin';
}
