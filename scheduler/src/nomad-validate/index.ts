/**
 * nomad-validate: Nomad's own job validation and job-update checks, ported as pure functions so that every body
 * Drover sends to Nomad (and every body the Nomad test double receives) is held to the rules Nomad applies — after
 * the contract schema (`nomad-api.schema.json`), which catches the misspelt keys Nomad would drop silently.
 */
import { validateNomad } from '../contracts/index.ts';
import { canonicalizeJob, isObj } from './canonicalize.ts';
import { jobWarningsOf, validateHostVolumeRules, validateJobRules, validateJobUpdateRules, type JobValidationError } from './rules.ts';

export type { JobValidationError } from './rules.ts';
export { canonicalizeJob } from './canonicalize.ts';
export { parseCron, nextCronTime, validTimeZone } from './cron.ts';
export { goDuration, SECOND, MINUTE, HOUR, MS } from './duration.ts';
export { validateServiceName, pathEscapesAllocDir, validateHostVolumeUpdate } from './rules.ts';

/** ValidateJobOptions tunes validateJob. */
export interface ValidateJobOptions {
  /**
   * canonicalize applies Nomad's defaults first, as the HTTP API does before validating (default true). With
   * false, the job is validated as given, so missing Region, Namespace, Datacenters, Priority… are errors too.
   */
  canonicalize?: boolean;
  /** schema runs the contract schema first (default true); false when the caller has already validated the body. */
  schema?: boolean;
}

function prefixJob(path: string): string {
  return path.startsWith('/Job') ? path : `/Job${path === '/' ? '' : path}`;
}

/**
 * validateJob checks one job (the `Job` of a `JobRegisterRequest`) as Nomad would on register: first the contract
 * schema (unknown keys, wrong types), then Nomad's `Job.Validate` rules and the register endpoint's validators.
 * Returns every violation with a JSON pointer under `/Job`; empty when Nomad would accept the job. Rules run only
 * when the schema passes (Nomad cannot decode a body of the wrong shape).
 */
export function validateJob(job: unknown, opts: ValidateJobOptions = {}): JobValidationError[] {
  const schema = opts.schema === false ? [] : validateNomad('JobRegisterRequest', { Job: job }).map((v) => ({ path: prefixJob(v.path), message: v.message }));
  if (schema.length > 0) return schema;
  if (!isObj(job)) return [{ path: '/Job', message: 'Job must be specified' }];
  const j = opts.canonicalize === false ? job : canonicalizeJob(job);
  return validateJobRules(j as Record<string, unknown>);
}

/**
 * validateJobUpdate ports Nomad's `validateJobUpdate`: a registration may not change a job's Type, turn it
 * periodic or parameterized in place or stop it being so, or change `Dispatched`. `existing` is the job Nomad
 * holds (undefined for a new job); both are canonicalized first.
 */
export function validateJobUpdate(existing: unknown, next: unknown): JobValidationError[] {
  const n = canonicalizeJob(next);
  if (!isObj(n)) return [{ path: '/Job', message: 'Job must be specified' }];
  const o = existing === undefined || existing === null ? undefined : canonicalizeJob(existing);
  return validateJobUpdateRules(isObj(o) ? o : undefined, n);
}

/**
 * jobWarnings returns the warnings Nomad's register endpoint would return for a job (after canonicalization):
 * update MaxParallel above a group count > 1; `MemoryMaxMB` when memory oversubscription is off on the cluster;
 * auto_promote on only some groups; `Periodic.Spec` (HCL `cron`, deprecated since Nomad 1.6: "cron is deprecated … Use
 * crons instead") where `Periodic.Specs` is the current field. Nothing Drover compiles triggers a warning by default.
 */
export function jobWarnings(job: unknown, opts: { memoryOversubscription?: boolean } = {}): string[] {
  const j = canonicalizeJob(job);
  return isObj(j) ? jobWarningsOf(j, opts) : [];
}

/**
 * validateHostVolumeCreate checks a `HostVolumeCreateRequest` body (`{Volume: {...}, PolicyOverride}`) against the
 * contract and Nomad's `HostVolume.Validate` rules for creating a dynamic host volume. Paths are under `/Volume`.
 * An update of an existing volume (same name) is checked with validateHostVolumeUpdate.
 */
export function validateHostVolumeCreate(req: unknown): JobValidationError[] {
  const schema = validateNomad('HostVolumeCreateRequest', req);
  if (schema.length > 0) return schema;
  if (!isObj(req) || !isObj(req.Volume)) return [{ path: '/Volume', message: 'missing volume definition' }];
  return validateHostVolumeRules(req.Volume);
}
