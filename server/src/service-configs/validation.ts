/**
 * Service configuration validation: exactly the rules of manifest.md, with every error naming its field path.
 * The scheduler's manifest validators (`scheduler/src/manifest/`) had not landed when this was written, so the
 * hostname-independent rules (cron, commands, sizes, durations, images, artifact URLs) live here, in one place, to be
 * replaced by the scheduler's once they exist.
 *
 * Tenant text is data: commands may use `${…}` only as `${PORT}` or `${NOMAD_*}` (Nomad interpolates the rest);
 * health-check paths are restricted to URL path characters (no `${`, no `{{`); artifact URLs are http(s) and never
 * loopback, link-local, metadata or private literal addresses.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import type { FieldError } from '../core/errors.ts';
import { isSlug } from '../core/slugs.ts';

/** COMMAND_INTERPOLATION_RE finds every `${` … `}` in a command element. */
const INTERP_RE = /\$\{([^}]*)\}?/g;
/** ALLOWED_INTERPOLATION_RE is what may stand inside `${…}` of a command: PORT or a Nomad runtime variable. */
const ALLOWED_INTERP_RE = /^(PORT|NOMAD_[A-Za-z0-9_]+)$/;

/** commandElementProblem says what is wrong with one argv element, or null when it is fine. */
export function commandElementProblem(arg: string): string | null {
  if (arg.includes('\0')) return 'must not contain NUL characters';
  for (const m of arg.matchAll(INTERP_RE)) {
    if (!m[0].endsWith('}') || !ALLOWED_INTERP_RE.test(m[1] ?? '')) {
      return 'may use ${…} only as ${PORT} or ${NOMAD_<NAME>}';
    }
  }
  return null;
}

/** CommandSchema is an argv array: 1–64 non-empty elements of at most 4096 characters, interpolation restricted. */
export const CommandSchema = z
  .array(
    z.string().min(1).max(4096).superRefine((s, ctx) => {
      const p = commandElementProblem(s);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    }),
  )
  .min(1)
  .max(64)
  .describe('argv array; `${PORT}` and `${NOMAD_*}` are the only `${…}` forms allowed');

const DURATION_RE = /^([1-9][0-9]{0,6})(ms|s|m|h)$/;
const DURATION_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** durationMs parses `<n>ms|s|m|h` into milliseconds, or returns null. */
export function durationMs(s: string): number | null {
  const m = DURATION_RE.exec(s);
  return m ? Number(m[1]) * (DURATION_MS[m[2] as string] as number) : null;
}

const SIZE_RE = /^([1-9][0-9]{0,6})(KiB|MiB|GiB|TiB)$/;
const SIZE_BYTES: Record<string, number> = { KiB: 2 ** 10, MiB: 2 ** 20, GiB: 2 ** 30, TiB: 2 ** 40 };

/** sizeBytes parses `<n>KiB|MiB|GiB|TiB` into bytes, or returns null. */
export function sizeBytes(s: string): number | null {
  const m = SIZE_RE.exec(s);
  return m ? Number(m[1]) * (SIZE_BYTES[m[2] as string] as number) : null;
}

const CRON_FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12, names: ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'] },
  { name: 'day of week', min: 0, max: 7, names: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] },
] as const;

function cronValue(tok: string, f: (typeof CRON_FIELDS)[number]): number | null {
  if (/^[0-9]{1,2}$/.test(tok)) {
    const n = Number(tok);
    return n >= f.min && n <= f.max ? n : null;
  }
  if ('names' in f) {
    const i = (f.names as readonly string[]).indexOf(tok.toLowerCase());
    if (i >= 0) return i + f.min;
  }
  return null;
}

/** cronProblem validates a five-field cron expression (lists, ranges, steps, names); null when valid. */
export function cronProblem(expr: string): string | null {
  const fields = expr.trim().split(/\s+/);
  if (expr.length > 100 || fields.length !== 5) return 'must be a five-field cron expression (minute hour day month weekday)';
  for (let i = 0; i < 5; i++) {
    const f = CRON_FIELDS[i] as (typeof CRON_FIELDS)[number];
    for (const part of (fields[i] as string).split(',')) {
      const [range, step, extra] = part.split('/');
      if (extra !== undefined || range === undefined || range === '') return `the ${f.name} field is malformed`;
      if (step !== undefined && (!/^[0-9]{1,2}$/.test(step) || Number(step) < 1)) return `the ${f.name} field has a bad step`;
      if (range === '*') continue;
      const [a, b, more] = range.split('-');
      if (more !== undefined || a === undefined) return `the ${f.name} field is malformed`;
      const lo = cronValue(a, f);
      const hi = b === undefined ? lo : cronValue(b, f);
      if (lo === null || hi === null || hi < lo) return `the ${f.name} field is out of range (${f.min}–${f.max})`;
    }
  }
  return null;
}

/** timezoneProblem checks an IANA time zone name by asking the ICU database; null when valid. */
export function timezoneProblem(tz: string): string | null {
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+){0,2}$/.test(tz) || tz.length > 64) return 'must be an IANA time zone such as Europe/Berlin';
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return null;
  } catch {
    return 'is not a known IANA time zone';
  }
}

// distribution/reference grammar: [domain[:port]/]path-components[:tag][@digest]
const IMAGE_RE =
  /^(?:(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*|\[[0-9a-fA-F:]+\])(?::[0-9]{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** imageProblem validates a container image reference (`registry/name:tag@sha256:…`); null when valid. */
export function imageProblem(image: string): string | null {
  if (image.length > 512 || !IMAGE_RE.test(image)) return 'must be an image reference such as ghcr.io/acme/web:1.4.2';
  return null;
}

/** isForbiddenAddress tells whether an IP literal is loopback, private, link-local, metadata, unspecified or multicast. */
export function isForbiddenAddress(ip: string): boolean {
  const v = isIP(ip);
  if (v === 4) {
    const [a = 0, b = 0] = ip.split('.').map(Number);
    return a === 0 || a === 10 || a === 127 || (a === 169 && b === 254) || (a === 172 && b >= 16 && b <= 31)
      || (a === 192 && b === 168) || (a === 100 && b >= 64 && b <= 127) || a >= 224 || (a === 198 && (b === 18 || b === 19));
  }
  if (v === 6) {
    const s = ip.toLowerCase();
    const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
    if (mapped) return isForbiddenAddress(mapped[1] as string);
    if (/^::ffff:/.test(s)) return true;
    return s === '::' || s === '::1' || /^f[cd]/.test(s) || /^fe[89ab]/.test(s) || /^ff/.test(s) || s.startsWith('fd00:ec2::');
  }
  return false;
}

const METADATA_HOSTS = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'localhost']);
// go-getter reads these query parameters itself; a tenant must not steer it with them.
const GETTER_PARAMS = new Set(['checksum', 'archive', 'filename', 'sshkey', 'ref', 'depth', 'aws_access_key_id',
  'aws_access_key_secret', 'aws_access_token', 'region', 'version', 'timeout']);

/** artifactUrlProblem validates an artifact URL: http(s), no credentials, no private/loopback/metadata target. */
export function artifactUrlProblem(s: string): string | null {
  let u: URL;
  if (s.length > 2048) return 'must be at most 2048 characters';
  if (/[\s`"'<>\\{}|^]/.test(s)) return 'must be a plain http(s) URL';
  try {
    u = new URL(s);
  } catch {
    return 'must be an http(s) URL';
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') return 'must use http or https';
  if (u.username !== '' || u.password !== '') return 'must not carry credentials';
  const host = u.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === '' || METADATA_HOSTS.has(host) || host.endsWith('.localhost') || host.endsWith('.internal')) return 'must not point at a local or metadata host';
  if (isIP(host) !== 0 && isForbiddenAddress(host)) return 'must not point at a loopback, link-local, metadata or private address';
  if (/^[0-9.]+$/.test(host) && isIP(host) === 0) return 'must not use a numeric host that is not a plain IPv4 address';
  for (const k of u.searchParams.keys()) if (GETTER_PARAMS.has(k.toLowerCase())) return `must not use the query parameter ${k}`;
  return null;
}

const CHECKSUM_RE = /^(sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;

/** MOUNT_FORBIDDEN lists system paths a volume may not be mounted on or under. */
const MOUNT_FORBIDDEN = ['/proc', '/sys', '/dev', '/etc', '/bin', '/sbin', '/lib', '/usr', '/boot', '/alloc', '/local', '/secrets'];

/** mountProblem validates a volume mount path: absolute, no traversal, safe characters, not a system path. */
export function mountProblem(p: string): string | null {
  if (!p.startsWith('/') || p.length > 256) return 'must be an absolute path';
  const segs = p.slice(1).split('/');
  if (p === '/' || segs.some((s) => s === '' || s === '.' || s === '..')) return 'must not be `/` or contain empty, `.` or `..` segments';
  if (segs.some((s) => !/^[A-Za-z0-9._-]+$/.test(s))) return 'may use letters, digits, `.`, `_` and `-` in its segments';
  if (MOUNT_FORBIDDEN.some((f) => p === f || p.startsWith(f + '/'))) return 'must not be a system path';
  return null;
}

const HEALTH_PATH_RE = /^\/[A-Za-z0-9\-._~!&'()*+,;=:@%/]*(\?[A-Za-z0-9\-._~!&'()*+,;=:@%/?]*)?$/;

const refine = <T extends z.ZodType>(schema: T, problem: (v: z.output<T>) => string | null) =>
  schema.superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });

/** HealthcheckSchema is an HTTP health check: path, interval and timeout (`10s`, `500ms`). */
export const HealthcheckSchema = z
  .object({
    path: refine(z.string().max(1024), (p) => (HEALTH_PATH_RE.test(p) ? null : 'must be a URL path starting with `/`')),
    interval: refine(z.string(), (d) => {
      const ms = durationMs(d);
      return ms === null ? 'must be a duration such as 10s' : ms < 1000 || ms > 3_600_000 ? 'must be between 1s and 1h' : null;
    }).default('10s'),
    timeout: refine(z.string(), (d) => {
      const ms = durationMs(d);
      return ms === null ? 'must be a duration such as 2s' : ms < 100 || ms > 600_000 ? 'must be between 100ms and 10m' : null;
    }).default('2s'),
  })
  .strict();

/** ResourcesSchema is CPU (MHz) and memory (MiB) with an optional hard limit `memory_max` ≥ `memory`. */
export const ResourcesSchema = z
  .object({
    cpu: z.number().int().min(1).max(256_000).default(100),
    memory: z.number().int().min(10).max(1_048_576).default(256),
    memory_max: z.number().int().min(10).max(1_048_576).optional(),
  })
  .strict();

/** VolumeSchema is a named volume: slug name, absolute mount path, size. */
export const VolumeSchema = z
  .object({
    name: refine(z.string().max(30), (n) => (isSlug(n) ? null : 'must be a slug: lower-case letters, digits and single hyphens')),
    mount: refine(z.string(), mountProblem),
    size: refine(z.string(), (s) => {
      const b = sizeBytes(s);
      return b === null ? 'must be a size such as 1GiB (KiB, MiB, GiB, TiB)' : b < 2 ** 20 || b > 16 * 2 ** 40 ? 'must be between 1MiB and 16TiB' : null;
    }),
  })
  .strict();

/** ArtifactSchema is a Nomad-native artifact: http(s) URL, checksum and the command to run. */
export const ArtifactSchema = z
  .object({
    url: refine(z.string(), artifactUrlProblem),
    checksum: z.string().regex(CHECKSUM_RE, 'must be sha256:<64 hex> or sha512:<128 hex>, lower case'),
    command: CommandSchema,
  })
  .strict();

/** RegistryCredentialsSchema is a registry login for a private image; both parts go to the SecretStore only. */
export const RegistryCredentialsSchema = z
  .object({
    username: z.string().min(1).max(256).regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces'),
    password: z.string().min(1).max(4096),
  })
  .strict();

/** RestartPolicies are the allowed `restart` values. */
export const RestartPolicies = ['always', 'on-failure', 'never'] as const;

/** ServiceConfigFields are the configuration fields, each optional (create and patch bodies build on them). */
export const ServiceConfigFields = {
  image: refine(z.string(), imageProblem).optional(),
  artifact: ArtifactSchema.optional(),
  command: CommandSchema.optional(),
  port: z.number().int().min(1).max(65535).optional(),
  public: z.boolean().optional(),
  healthcheck: HealthcheckSchema.optional(),
  replicas: z.number().int().min(0).max(100).optional(),
  resources: ResourcesSchema.optional(),
  restart: z.enum(RestartPolicies).optional(),
  cron: refine(z.string(), cronProblem).optional(),
  timezone: refine(z.string(), timezoneProblem).optional(),
  volumes: z.array(VolumeSchema).max(8).optional(),
};

/** ServiceConfig is a stored, validated service configuration (manifest.md's names). */
export interface ServiceConfig {
  /** image is the container image (exactly one of image | artifact). */
  image?: string;
  /** artifact is the Nomad artifact (exactly one of image | artifact). */
  artifact?: { url: string; checksum: string; command: string[] };
  /** command overrides the image's command (images only). */
  command?: string[];
  /** port is the container port (images only). */
  port?: number;
  /** public says whether the service gets a generated domain and its custom domains are routed. */
  public: boolean;
  /** healthcheck is the HTTP health check, if any. */
  healthcheck?: { path: string; interval: string; timeout: string };
  /** replicas is the instance count. */
  replicas: number;
  /** resources are CPU and memory. */
  resources: { cpu: number; memory: number; memory_max?: number };
  /** restart is the restart policy. */
  restart: (typeof RestartPolicies)[number];
  /** cron makes the service a periodic batch job. */
  cron?: string;
  /** timezone is the cron schedule's IANA zone. */
  timezone?: string;
  /** volumes are named volumes (at most one replica). */
  volumes: { name: string; mount: string; size: string }[];
}

/** ConfigInput is a service configuration as parsed from a body, before defaults and cross-field rules. */
export type ConfigInput = { [K in keyof typeof ServiceConfigFields]?: z.output<(typeof ServiceConfigFields)[K]> };

/**
 * finishConfig applies defaults and the cross-field rules of manifest.md to a parsed configuration, returning the
 * stored form or the FieldErrors (paths under `root`, e.g. `body.port`).
 */
export function finishConfig(c: ConfigInput, root = 'body'): { config: ServiceConfig } | { errors: FieldError[] } {
  const errors: FieldError[] = [];
  const at = (p: string, message: string) => errors.push({ path: `${root}.${p}`, message });
  if ((c.image === undefined) === (c.artifact === undefined)) at(c.image === undefined ? 'image' : 'artifact', 'exactly one of image or artifact is required');
  if (c.artifact !== undefined) {
    if (c.port !== undefined) at('port', 'an artifact service listens on $PORT and takes no port');
    if (c.command !== undefined) at('command', 'an artifact service takes its command in artifact.command');
  }
  const cron = c.cron;
  // Default: public when there is something to route to (an artifact's $PORT or an image's port) and no cron.
  const isPublic = c.public ?? (cron === undefined && (c.artifact !== undefined || c.port !== undefined));
  if (c.timezone !== undefined && cron === undefined) at('timezone', 'needs a cron schedule');
  if (cron !== undefined && isPublic) at('public', 'a cron service runs to completion and cannot be public');
  if (cron !== undefined && c.healthcheck !== undefined) at('healthcheck', 'a cron service has no health check');
  if (isPublic && c.image !== undefined && c.port === undefined) at('port', 'a public image service needs the port its container listens on');
  if (c.healthcheck && c.image !== undefined && c.port === undefined) at('port', 'a health check needs the port its container listens on');
  if (c.healthcheck) {
    const i = durationMs(c.healthcheck.interval);
    const t = durationMs(c.healthcheck.timeout);
    if (i !== null && t !== null && t > i) at('healthcheck.timeout', 'must not exceed the interval');
  }
  const resources = { cpu: c.resources?.cpu ?? 100, memory: c.resources?.memory ?? 256, ...(c.resources?.memory_max === undefined ? {} : { memory_max: c.resources.memory_max }) };
  if (resources.memory_max !== undefined && resources.memory_max < resources.memory) at('resources.memory_max', 'must be at least resources.memory');
  const volumes = c.volumes ?? [];
  const replicas = c.replicas ?? 1;
  if (volumes.length > 0 && replicas > 1) at('replicas', 'a service with volumes runs one replica');
  const names = new Set<string>();
  const mounts: string[] = [];
  volumes.forEach((v, i) => {
    if (names.has(v.name)) at(`volumes[${i}].name`, 'is used by another volume of this service');
    names.add(v.name);
    if (mounts.some((m) => m === v.mount || m.startsWith(v.mount + '/') || v.mount.startsWith(m + '/'))) at(`volumes[${i}].mount`, 'overlaps another volume');
    mounts.push(v.mount);
  });
  if (errors.length > 0) return { errors };
  const config: ServiceConfig = {
    ...(c.image !== undefined ? { image: c.image } : {}),
    ...(c.artifact !== undefined ? { artifact: c.artifact } : {}),
    ...(c.command !== undefined ? { command: c.command } : {}),
    ...(c.port !== undefined ? { port: c.port } : {}),
    public: isPublic,
    ...(c.healthcheck !== undefined ? { healthcheck: c.healthcheck } : {}),
    replicas,
    resources,
    restart: c.restart ?? 'always',
    ...(cron !== undefined ? { cron } : {}),
    ...(c.timezone !== undefined ? { timezone: c.timezone } : {}),
    volumes,
  };
  return { config };
}
