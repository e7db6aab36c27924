/**
 * A port of the defaults Nomad applies to a job before validating it: the Go `api` package's `Job.Canonicalize`
 * (run by the HTTP agent on every register/plan/validate body) followed by the server's own canonicalization.
 * Missing fields get Nomad's defaults, user fields are merged over them field by field, as Nomad does.
 */
import { HOUR, MINUTE, SECOND } from './duration.ts';

/** Obj is a loosely typed JSON object (a job or one of its blocks). */
export type Obj = Record<string, unknown>;

/** isObj says whether a value is a non-null, non-array object. */
export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** arr returns the value as an array of objects (non-objects dropped), or an empty array. */
export function arr(v: unknown): Obj[] {
  return Array.isArray(v) ? v.filter(isObj) : [];
}

/** copyJson deep-copies plain JSON data (objects, arrays, primitives); much faster than structuredClone for jobs. */
export function copyJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(copyJson) as T;
  if (v !== null && typeof v === 'object') {
    const out: Obj = {};
    for (const k in v) out[k] = copyJson((v as Obj)[k]);
    return out as T;
  }
  return v;
}

function defaults(target: Obj, d: Obj): Obj {
  for (const k in d) if (target[k] === undefined || target[k] === null) target[k] = d[k];
  return target;
}

/** DEFAULT_UPDATE_STRATEGY is `api.DefaultUpdateStrategy()`. */
export const DEFAULT_UPDATE_STRATEGY: Readonly<Obj> = Object.freeze({
  Stagger: 30 * SECOND, MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10 * SECOND,
  HealthyDeadline: 5 * MINUTE, ProgressDeadline: 10 * MINUTE, AutoRevert: false, AutoPromote: false, Canary: 0,
});

function restartDefaults(jobType: string): Obj {
  if (jobType === 'batch' || jobType === 'sysbatch') return { Delay: 15 * SECOND, Attempts: 3, Interval: 24 * HOUR, Mode: 'fail', RenderTemplates: false };
  return { Delay: 15 * SECOND, Attempts: 2, Interval: 30 * MINUTE, Mode: 'fail', RenderTemplates: false };
}

function rescheduleDefaults(jobType: string): Obj | undefined {
  if (jobType === 'service') return { Attempts: 0, Interval: 0, Delay: 30 * SECOND, DelayFunction: 'exponential', MaxDelay: HOUR, Unlimited: true };
  if (jobType === 'batch') return { Attempts: 1, Interval: 24 * HOUR, Delay: 5 * SECOND, DelayFunction: 'constant', MaxDelay: 0, Unlimited: false };
  return undefined;
}

function canonicalizeService(s: Obj, jobName: string, tgName: string, taskName: string): void {
  defaults(s, { Provider: 'consul', AddressMode: 'auto', OnUpdate: 'require_healthy' });
  if (typeof s.Name === 'string') {
    s.Name = s.Name.replaceAll('${JOB}', jobName).replaceAll('${TASKGROUP}', tgName).replaceAll('${TASK}', taskName)
      .replaceAll('${BASE}', `${jobName}-${tgName}-${taskName}`);
  }
  for (const c of arr(s.Checks)) {
    if (!c.Name) c.Name = `service: "${String(s.Name)}" check`;
    defaults(c, { OnUpdate: s.OnUpdate });
    if (c.Type === 'http') defaults(c, { Protocol: 'http', Method: 'GET' });
  }
}

function canonicalizeTask(t: Obj, job: Obj, tg: Obj): void {
  const jobType = String(job.Type);
  defaults(t, { KillTimeout: 5 * SECOND, LogConfig: {}, Resources: {} });
  if (isObj(t.LogConfig)) defaults(t.LogConfig, { MaxFiles: 10, MaxFileSizeMB: 10, Disabled: false });
  if (isObj(t.Resources)) {
    const r = t.Resources;
    if ((r.CPU === undefined || r.CPU === null) && (r.Cores === undefined || r.Cores === null || r.Cores === 0)) r.CPU = 100;
    defaults(r, { Cores: 0, MemoryMB: 300 });
    if (r.MemoryMaxMB === undefined || r.MemoryMaxMB === null) r.MemoryMaxMB = 0;
  }
  const rp = isObj(tg.RestartPolicy) ? tg.RestartPolicy : restartDefaults(jobType);
  t.RestartPolicy = isObj(t.RestartPolicy) ? defaults(t.RestartPolicy, rp) : { ...rp };
  for (const tpl of arr(t.Templates)) {
    defaults(tpl, { ChangeMode: 'restart', Splay: 5 * SECOND, Perms: '0644', LeftDelim: '{{', RightDelim: '}}', Envvars: false, ErrMissingKey: false });
    if (typeof tpl.ChangeSignal === 'string') tpl.ChangeSignal = tpl.ChangeSignal.toUpperCase();
  }
  if (isObj(t.Vault)) defaults(t.Vault, { Env: true, DisableFile: false, ChangeMode: 'restart' });
  for (const s of arr(t.Services)) canonicalizeService(s, String(job.Name), String(tg.Name), String(t.Name));
  for (const a of arr(t.Artifacts)) defaults(a, { GetterMode: 'any', RelativeDest: 'local/' });
}

function canonicalizeGroup(tg: Obj, job: Obj): void {
  const jobType = String(job.Type);
  if (tg.Count === undefined || tg.Count === null) {
    const min = isObj(tg.Scaling) ? tg.Scaling.Min : undefined;
    tg.Count = typeof min === 'number' ? min : 1;
  }
  defaults(tg, { EphemeralDisk: {} });
  if (isObj(tg.EphemeralDisk)) defaults(tg.EphemeralDisk, { Sticky: false, Migrate: false, SizeMB: 300 });
  const rd = restartDefaults(jobType);
  tg.RestartPolicy = isObj(tg.RestartPolicy) ? defaults(tg.RestartPolicy, rd) : rd;
  const sd = rescheduleDefaults(jobType);
  if (sd) tg.ReschedulePolicy = isObj(tg.ReschedulePolicy) ? defaults(tg.ReschedulePolicy, sd) : sd;
  // Merge the job's update block into the group's (api.TaskGroup.Canonicalize).
  const ju = isObj(job.Update) ? job.Update : undefined;
  if (ju && isObj(tg.Update)) tg.Update = defaults(tg.Update, ju);
  else if (ju && !isObj(tg.Update)) tg.Update = { ...ju };
  if (isObj(tg.Update)) defaults(tg.Update, DEFAULT_UPDATE_STRATEGY);
  if (jobType === 'service' && !isObj(tg.Migrate)) tg.Migrate = { MaxParallel: 1, HealthCheck: 'checks', MinHealthyTime: 10 * SECOND, HealthyDeadline: 5 * MINUTE };
  for (const s of arr(tg.Services)) canonicalizeService(s, String(job.Name), String(tg.Name), '');
  for (const t of arr(tg.Tasks)) canonicalizeTask(t, job, tg);
}

/**
 * canonicalizeJob returns a deep copy of the job with Nomad's defaults applied (Region `global`, Namespace
 * `default`, Type `service`, Priority 50, Datacenters `["*"]`, Name = ID, restart/reschedule/update/disk/log/resource
 * defaults per job type). The input is not modified; a non-object is returned unchanged.
 */
export function canonicalizeJob(job: unknown): unknown {
  if (!isObj(job)) return job;
  const j = copyJson(job);
  defaults(j, { Region: 'global', Namespace: 'default', Type: 'service', Priority: 50, AllAtOnce: false, NodePool: 'default' });
  if (j.Priority === 0) j.Priority = 50;
  if (!Array.isArray(j.Datacenters) || j.Datacenters.length === 0) j.Datacenters = ['*'];
  if (j.Name === undefined || j.Name === null || j.Name === '') j.Name = j.ID;
  if (isObj(j.Update)) {
    if (j.Type === 'service' || j.Type === 'system') defaults(j.Update, DEFAULT_UPDATE_STRATEGY);
  } else if (j.Type === 'service') j.Update = { ...DEFAULT_UPDATE_STRATEGY };
  if (isObj(j.Periodic)) {
    defaults(j.Periodic, { Enabled: true, SpecType: 'cron', ProhibitOverlap: false });
    if (!j.Periodic.TimeZone) j.Periodic.TimeZone = 'UTC';
  }
  if (isObj(j.ParameterizedJob)) defaults(j.ParameterizedJob, { Payload: 'optional' });
  for (const tg of arr(j.TaskGroups)) canonicalizeGroup(tg, j);
  return j;
}
