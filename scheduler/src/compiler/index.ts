/**
 * The compiler: a pure function from an environment's desired state to the Nomad JobRegisterRequest bodies Drover
 * would register, the data items the deployer writes first (never values of secrets, which the compiler never sees)
 * and the dynamic host volumes the jobs mount. Names follow platform.md; security invariants are enforced here
 * whatever validated the input before, and proven by the property tests beside this file.
 */
import { CompileError } from './errors.ts';
import type { DesiredState } from './model.ts';
import type { JobRegisterRequest } from './nomad-types.ts';
import { assertId, generatedDomain, isSlug, jobId as makeJobId, namespaceName } from './names.ts';
import { checkDatabase, compileDatabase, databaseJobId, databaseReference } from './database.ts';
import { compileService, listens, type Names } from './service.ts';
import type { JobData } from './variables.ts';
import { Resolver } from './variables.ts';

export { CompileError } from './errors.ts';
export type { JobData, ItemSource } from './variables.ts';

/** CompileResult is the compiler's output. */
export interface CompileResult {
  /** jobs are the bodies to register, services first (in input order), then databases. */
  jobs: JobRegisterRequest[];
  /** warnings are non-fatal findings (clamped resources, memory_max without oversubscription, unverified domains). */
  warnings: string[];
  /** variables are the data items the deployer writes before registering, keyed by job ID (jobs without data absent). */
  variables: Record<string, JobData>;
  /** volumes are the dynamic host volumes each job mounts, keyed by job ID; the deployer creates missing ones. */
  volumes: Record<string, { name: string; sizeBytes: number }[]>;
}

/**
 * compile turns desired state into jobs. It throws CompileError (code `compiler/invalid_input`, with a manifest-style
 * path) for input that breaks a rule; it has no side effects and reads nothing but its argument.
 */
export function compile(state: DesiredState): CompileResult {
  for (const [what, o] of [['team', state.team], ['project', state.project], ['environment', state.environment]] as const) {
    if (!isSlug(o.slug)) throw new CompileError(what, 'slug is not a slug');
    assertId(o.id, what);
  }
  assertId(state.deployment.id, 'deployment');
  const taken = new Set<string>();
  for (const s of state.services) {
    if (taken.has(s.slug)) throw new CompileError(`services.${s.slug}`, 'is defined twice');
    taken.add(s.slug);
  }
  for (const d of state.databases) {
    if (taken.has(d.name) || d.name === 'shared') throw new CompileError(`databases.${d.name}`, 'a service or database already has this name');
    taken.add(d.name);
  }
  const owners = new Map<string, string>();
  for (const s of state.services) {
    s.domains.forEach((d, i) => {
      const other = owners.get(d.hostname);
      if (other !== undefined) throw new CompileError(`services.${s.slug}.domains[${i}]`, `${d.hostname} already belongs to ${other}`);
      owners.set(d.hostname, `services.${s.slug}`);
    });
  }
  for (const d of state.databases) checkDatabase(d);
  const { project, environment, settings } = state;
  const bySlug = new Map(state.services.map((s) => [s.slug, s]));
  const jobIds = new Map<string, string>();
  for (const s of state.services) jobIds.set(s.id, makeJobId(project.slug, environment.slug, s.slug, s.id));
  for (const d of state.databases) jobIds.set(d.id, databaseJobId(state, d));
  const names: Names = {
    namespace: namespaceName(state.team.slug, state.team.id),
    jobOf: (id) => {
      const j = jobIds.get(id);
      if (j === undefined) throw new Error('internal: unknown owner');
      return j;
    },
  };
  const resolver = new Resolver(state, {
    serviceCatalogName: (slug) => {
      const s = bySlug.get(slug);
      if (!s) throw new Error('internal: unknown service');
      return names.jobOf(s.id);
    },
    publicUrl: (slug) => {
      const s = bySlug.get(slug);
      if (!s || !s.public || !listens(s)) return undefined;
      return `https://${generatedDomain(s.slug, environment.slug, s.id, settings.appsDomain)}`;
    },
    databaseReference: (db, name) => databaseReference(db, names.jobOf(db.id), name),
  });
  const warnings: string[] = [];
  const result: CompileResult = { jobs: [], warnings, variables: {}, volumes: {} };
  const compiled = [
    ...state.services.map((s) => compileService(state, s, resolver, warnings, names)),
    ...state.databases.map((d) => compileDatabase(state, d, warnings, names)),
  ];
  for (const c of compiled) {
    const id = c.request.Job.ID;
    result.jobs.push(c.request);
    if (c.data) {
      result.variables[id] = c.data;
      const bytes = Object.values(c.data.items).reduce((n, it) => n + (it.kind === 'literal' ? Buffer.byteLength(it.value) : 0), 0);
      if (c.data.backend === 'nomad' && bytes > 48 * 1024) {
        warnings.push(`${id}: ${bytes} bytes of variable values leave little room in one Nomad variable (64 KiB holds every kept deployment)`);
      }
    }
    if (c.volumes.length > 0) result.volumes[id] = c.volumes;
  }
  return result;
}
