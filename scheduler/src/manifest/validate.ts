/**
 * validateManifest: the published schema first (shape, unknown keys), then the semantic rules of manifest.md —
 * slugs, domains, commands, images and artifacts, ports, health checks, resources, volumes, cron and time zones,
 * variables and their references (unknown names and cycles, with the path), database engines and versions — and
 * finally the compiler's own checks. Returns every problem found, each with a manifest path.
 */
import { CompileError, compile } from '../compiler/index.ts';
import { databaseReference, ENGINES } from '../compiler/database.ts';
import { ENV_NAME_PATTERN } from '../compiler/model.ts';
import { isSlug, MAX_SLUG_LENGTH } from '../compiler/names.ts';
import {
  artifactUrlProblem, CHECKSUM_PATTERN, checkPathProblem, commandProblem, cronProblem, hostnameProblem, imageProblem,
  mountProblem, RESERVED_ENV, timezoneProblem,
} from '../compiler/rules.ts';
import { Resolver } from '../compiler/variables.ts';
import type { DesiredState } from '../compiler/model.ts';
import type { Manifest, ManifestService, ManifestVariableValue, Problem } from './types.ts';
import { schemaProblems } from './schema.ts';
import { parseDuration, parseSize } from './units.ts';
import { parseValue } from './references.ts';
import { manifestToState, type PlanOptions } from './to-state.ts';

function slugReason(s: string): string | undefined {
  if (isSlug(s)) return undefined;
  if (s.length === 0 || s.length > MAX_SLUG_LENGTH) return `must be 1–${MAX_SLUG_LENGTH} characters`;
  if (/[A-Z]/.test(s)) return 'must be lower case';
  if (s.includes('--')) return "must not contain '--'";
  if (/[/\\.]/.test(s)) return 'must be a slug, not a path';
  return 'must be lower-case letters, digits and single hyphens, starting and ending with a letter or digit';
}

function checkVariables(vars: Record<string, ManifestVariableValue> | undefined, base: string, out: Problem[]): void {
  for (const [name, v] of Object.entries(vars ?? {})) {
    const path = `${base}.${name}`;
    if (!ENV_NAME_PATTERN.test(name)) out.push({ path, reason: 'a variable name is letters, digits and _ (not starting with a digit), at most 128' });
    else if (RESERVED_ENV.test(name)) out.push({ path, reason: 'is set by Drover (PORT, NOMAD_*, DROVER_*)' });
    if (typeof v === 'string') {
      const parts = parseValue(v);
      if (typeof parts === 'string') out.push({ path, reason: parts });
    }
  }
}

function positive(n: number | undefined, path: string, out: Problem[]): void {
  if (n !== undefined && n <= 0) out.push({ path, reason: 'must be positive' });
}

function checkService(slug: string, s: ManifestService, out: Problem[], owners: Map<string, string>): void {
  const path = `services.${slug}`;
  const r = slugReason(slug);
  if (r) out.push({ path, reason: `service name ${r}` });
  if ((s.image === undefined) === (s.artifact === undefined)) out.push({ path, reason: 'needs exactly one of image or artifact' });
  if (s.image !== undefined) {
    const p = imageProblem(s.image);
    if (p) out.push({ path: `${path}.image`, reason: p });
  }
  if (s.artifact) {
    const p = artifactUrlProblem(s.artifact.url);
    if (p) out.push({ path: `${path}.artifact.url`, reason: p });
    if (!CHECKSUM_PATTERN.test(s.artifact.checksum)) out.push({ path: `${path}.artifact.checksum`, reason: 'must be <md5|sha1|sha256|sha512>:<lower-case hex of the right length>' });
    const c = commandProblem(s.artifact.command);
    if (c) out.push({ path: c.index >= 0 ? `${path}.artifact.command[${c.index}]` : `${path}.artifact.command`, reason: c.reason });
    if (s.port !== undefined) out.push({ path: `${path}.port`, reason: 'an artifact service listens on $PORT and takes no port' });
    if (s.command !== undefined) out.push({ path: `${path}.command`, reason: 'an artifact service takes its command in artifact.command' });
  }
  if (s.command !== undefined) {
    const c = commandProblem(s.command);
    if (c) out.push({ path: c.index >= 0 ? `${path}.command[${c.index}]` : `${path}.command`, reason: c.reason });
  }
  if (s.port !== undefined && (s.port < 1 || s.port > 65535)) out.push({ path: `${path}.port`, reason: 'must be 1–65535' });
  const listens = !s.cron && (s.artifact !== undefined || s.port !== undefined);
  (s.domains ?? []).forEach((d, i) => {
    const p = hostnameProblem(d);
    if (p) {
      out.push({ path: `${path}.domains[${i}]`, reason: p });
      return;
    }
    const other = owners.get(d);
    if (other !== undefined) out.push({ path: `${path}.domains[${i}]`, reason: `${d} is already a domain of ${other}` });
    else owners.set(d, path);
  });
  if (s.public === true && !listens) out.push({ path: `${path}.public`, reason: s.cron ? 'a cron service is not public' : 'a public service needs a port' });
  if ((s.domains ?? []).length > 0 && !listens) out.push({ path: `${path}.domains`, reason: 'a service without a port has no domains' });
  if (s.healthcheck) {
    if (!listens) out.push({ path: `${path}.healthcheck`, reason: 'a service without a port has no health check' });
    if (s.healthcheck.path !== undefined) {
      const p = checkPathProblem(s.healthcheck.path);
      if (p) out.push({ path: `${path}.healthcheck.path`, reason: p });
    }
    const interval = s.healthcheck.interval === undefined ? 10_000 : parseDuration(s.healthcheck.interval);
    const timeout = s.healthcheck.timeout === undefined ? 2_000 : parseDuration(s.healthcheck.timeout);
    if (interval === undefined) out.push({ path: `${path}.healthcheck.interval`, reason: 'must be a duration such as 10s (ms, s, m, h)' });
    else if (interval < 1000) out.push({ path: `${path}.healthcheck.interval`, reason: 'must be at least 1s' });
    if (timeout === undefined) out.push({ path: `${path}.healthcheck.timeout`, reason: 'must be a duration such as 2s (ms, s, m, h)' });
    else if (interval !== undefined && timeout > interval) out.push({ path: `${path}.healthcheck.timeout`, reason: 'must not exceed the interval' });
  }
  positive(s.replicas, `${path}.replicas`, out);
  positive(s.resources?.cpu, `${path}.resources.cpu`, out);
  positive(s.resources?.memory, `${path}.resources.memory`, out);
  positive(s.resources?.memory_max, `${path}.resources.memory_max`, out);
  if (s.resources?.memory_max !== undefined && s.resources.memory !== undefined && s.resources.memory_max < s.resources.memory) {
    out.push({ path: `${path}.resources.memory_max`, reason: 'must be at least memory' });
  }
  const vols = s.volumes ?? [];
  if (vols.length > 0 && (s.replicas ?? 1) > 1) out.push({ path: `${path}.replicas`, reason: 'a service with volumes runs one replica' });
  const names = new Set<string>();
  const mounts = new Set<string>();
  vols.forEach((v, i) => {
    const vp = `${path}.volumes[${i}]`;
    const nr = slugReason(v.name);
    if (nr) out.push({ path: `${vp}.name`, reason: nr });
    else if (names.has(v.name)) out.push({ path: `${vp}.name`, reason: 'is used twice' });
    names.add(v.name);
    const mp = mountProblem(v.mount);
    if (mp) out.push({ path: `${vp}.mount`, reason: mp });
    else if (mounts.has(v.mount)) out.push({ path: `${vp}.mount`, reason: 'is used twice' });
    mounts.add(v.mount);
    if (v.size !== undefined && parseSize(v.size) === undefined) out.push({ path: `${vp}.size`, reason: 'must be a size such as 1GiB (KiB, MiB, GiB, TiB)' });
  });
  if (s.cron !== undefined) {
    const p = cronProblem(s.cron);
    if (p) out.push({ path: `${path}.cron`, reason: p });
    if ((s.replicas ?? 1) > 1) out.push({ path: `${path}.replicas`, reason: 'a cron service runs one instance per run' });
    if (s.port !== undefined) out.push({ path: `${path}.port`, reason: 'a cron service takes no port' });
  }
  if (s.timezone !== undefined) {
    if (s.cron === undefined) out.push({ path: `${path}.timezone`, reason: 'only a cron service takes a timezone' });
    const p = timezoneProblem(s.timezone);
    if (p) out.push({ path: `${path}.timezone`, reason: p });
  }
  checkVariables(s.variables, `${path}.variables`, out);
}

/**
 * checkManifest applies the schema and the manifest's own rules (references included) and returns the problems, or
 * none and the desired state. It leaves the compiler's checks to the compile that follows (see validateManifest).
 */
export function checkManifest(doc: unknown, opts: PlanOptions = {}): { problems: Problem[]; state?: DesiredState } {
  const shape = schemaProblems(doc);
  if (shape.length > 0) return { problems: shape };
  const m = doc as Manifest;
  const out: Problem[] = [];
  const pr = slugReason(m.project);
  if (pr) out.push({ path: 'project', reason: pr });
  if (m.environment !== undefined) {
    const er = slugReason(m.environment);
    if (er) out.push({ path: 'environment', reason: er });
  }
  if (Object.keys(m.services ?? {}).length + Object.keys(m.databases ?? {}).length === 0) {
    out.push({ path: 'services', reason: 'a manifest needs at least one service or database' });
  }
  checkVariables(m.shared, 'shared', out);
  const owners = new Map<string, string>();
  for (const [slug, s] of Object.entries(m.services ?? {})) checkService(slug, s, out, owners);
  for (const [name, d] of Object.entries(m.databases ?? {})) {
    const path = `databases.${name}`;
    const r = slugReason(name);
    if (r) out.push({ path, reason: `database name ${r}` });
    if (name === 'shared' || m.services?.[name] !== undefined) out.push({ path, reason: 'a service or the shared set already has this name' });
    const spec = ENGINES[d.engine];
    if (!spec.versions.includes(String(d.version))) out.push({ path: `${path}.version`, reason: `${d.engine} supports ${spec.versions.map((v) => `"${v}"`).join(', ')}` });
    if (d.size !== undefined && parseSize(d.size) === undefined) out.push({ path: `${path}.size`, reason: 'must be a size such as 10GiB (KiB, MiB, GiB, TiB)' });
    positive(d.resources?.cpu, `${path}.resources.cpu`, out);
    positive(d.resources?.memory, `${path}.resources.memory`, out);
    positive(d.resources?.memory_max, `${path}.resources.memory_max`, out);
    if (d.backups) {
      const p = cronProblem(d.backups.schedule);
      if (p) out.push({ path: `${path}.backups.schedule`, reason: p });
      positive(d.backups.keep, `${path}.backups.keep`, out);
    }
  }
  if (m.services?.shared !== undefined) out.push({ path: 'services.shared', reason: '"shared" is reserved for environment-wide variables' });
  if (out.length > 0) return { problems: out };

  // References: unknown names and cycles, reported per variable with the chain.
  const state = manifestToState(m, opts);
  const resolver = new Resolver(state, {
    serviceCatalogName: (slug) => slug,
    publicUrl: (slug) => (state.services.find((s) => s.slug === slug)?.public ? `https://${slug}` : undefined),
    databaseReference: (db, name) => databaseReference(db, db.name, name),
  });
  for (const s of state.services) {
    for (const v of s.variables) {
      try {
        resolver.resolveService({ ...s, variables: [v] });
      } catch (e) {
        if (!(e instanceof CompileError)) throw e;
        out.push({ path: `services.${s.slug}.variables.${v.name}`, reason: e.reason });
      }
    }
  }
  return out.length > 0 ? { problems: out } : { problems: [], state };
}

/** validateManifest returns every problem of a parsed document (empty when it is a valid manifest), compiling it. */
export function validateManifest(doc: unknown, opts: PlanOptions = {}): Problem[] {
  const { problems, state } = checkManifest(doc, opts);
  if (!state) return problems;
  try {
    compile(state);
  } catch (e) {
    if (!(e instanceof CompileError)) throw e;
    return [{ path: e.path, reason: e.reason }];
  }
  return [];
}
