/**
 * Service configuration validation: exactly the rules of manifest.md, with every error naming its field path. The
 * tenant-text rules themselves (commands, images, artifact URLs and checksums, mounts, health-check paths, cron, time
 * zones, sizes, durations) are the scheduler's (`@drover/scheduler/compiler/rules.ts`, `manifest/units.ts`), the same
 * functions the manifest validator and the compiler apply; this module maps them onto the API's zod schemas and adds
 * the cross-field rules with API paths.
 *
 * Tenant text is data: commands may use `${…}` only as `${PORT}` or `${NOMAD_*}` (Nomad interpolates the rest);
 * health-check paths are restricted to URL path characters (no `${`, no `{{`); artifact URLs are http(s) and never
 * loopback, link-local, metadata or private literal addresses.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  argProblem, artifactUrlProblem as ruleArtifactUrl, CHECKSUM_PATTERN, checkPathProblem, cronProblem as ruleCron,
  imageProblem as ruleImage, MAX_ARGS, mountProblem as ruleMount, timezoneProblem as ruleTimezone,
} from '@drover/scheduler/compiler/rules.ts';
import { parseDuration, parseSize } from '@drover/scheduler/manifest/units.ts';
import type { FieldError } from '../core/errors.ts';
import { isSlug } from '../core/slugs.ts';

const orNull = (r: string | undefined): string | null => r ?? null;

/** commandElementProblem says what is wrong with one argv element (the scheduler's argProblem), or null. */
export function commandElementProblem(arg: string): string | null {
  return orNull(argProblem(arg));
}

/** CommandSchema is an argv array: 1–MAX_ARGS elements, a non-empty program, interpolation restricted per element. */
export const CommandSchema = z
  .array(
    z.string().superRefine((s, ctx) => {
      const p = commandElementProblem(s);
      if (p) ctx.addIssue({ code: 'custom', message: p });
    }),
  )
  .min(1)
  .max(MAX_ARGS)
  .refine((a) => (a[0] ?? '') !== '', { message: 'the program must not be empty' })
  .describe('argv array; `${PORT}` and `${NOMAD_*}` are the only `${…}` forms allowed');

/** durationMs parses `<n>ms|s|m|h` into milliseconds, or returns null. */
export function durationMs(s: string): number | null {
  return parseDuration(s) ?? null;
}

/** sizeBytes parses `<n>KiB|MiB|GiB|TiB` into bytes, or returns null. */
export function sizeBytes(s: string): number | null {
  return parseSize(s) ?? null;
}

/** cronProblem validates a five-field cron expression (the scheduler's rule); null when valid. */
export function cronProblem(expr: string): string | null {
  return orNull(ruleCron(expr));
}

/** timezoneProblem checks an IANA time zone name (the scheduler's rule); null when valid. */
export function timezoneProblem(tz: string): string | null {
  return orNull(ruleTimezone(tz));
}

/** imageProblem validates a container image reference (the scheduler's rule); null when valid. */
export function imageProblem(image: string): string | null {
  return orNull(ruleImage(image));
}

/** artifactUrlProblem validates an artifact URL (the scheduler's rule); null when valid. */
export function artifactUrlProblem(s: string): string | null {
  return orNull(ruleArtifactUrl(s));
}

/** mountProblem validates a volume mount path (the scheduler's rule); null when valid. */
export function mountProblem(p: string): string | null {
  return orNull(ruleMount(p));
}

/**
 * isForbiddenAddress tells whether a resolved IP address is loopback, private, link-local, metadata, unspecified,
 * shared (CGNAT), benchmarking or multicast — targets the domain verifier never contacts in production.
 */
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
    return s === '::' || s === '::1' || /^f[cd]/.test(s) || /^fe[89ab]/.test(s) || /^ff/.test(s);
  }
  return false;
}

const refine = <T extends z.ZodType>(schema: T, problem: (v: z.output<T>) => string | null) =>
  schema.superRefine((v, ctx) => {
    const p = problem(v);
    if (p) ctx.addIssue({ code: 'custom', message: p });
  });

/** HealthcheckSchema is an HTTP health check: path, interval and timeout (`10s`, `500ms`). */
export const HealthcheckSchema = z
  .object({
    path: refine(z.string(), (p) => orNull(checkPathProblem(p))),
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
    checksum: z.string().regex(CHECKSUM_PATTERN, 'must be <md5|sha1|sha256|sha512>:<lower-case hex of the right length>'),
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
  // A service "listens" when it runs continuously with a port to route to: an artifact ($PORT) or an image's port.
  const listens = cron === undefined && (c.artifact !== undefined || c.port !== undefined);
  // Default: public when it listens (manifest.md: a generated domain exists unless public: false).
  const isPublic = c.public ?? listens;
  if (c.timezone !== undefined && cron === undefined) at('timezone', 'only a cron service takes a timezone');
  if (cron !== undefined && c.port !== undefined) at('port', 'a cron service takes no port');
  if (cron !== undefined && (c.replicas ?? 1) > 1) at('replicas', 'a cron service runs one instance per run');
  if (isPublic && !listens) {
    if (cron !== undefined) at('public', 'a cron service runs to completion and cannot be public');
    else at('port', 'a public image service needs the port its container listens on');
  }
  if (c.healthcheck !== undefined && !listens) at('healthcheck', 'a service without a port has no health check');
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
