/**
 * Jobs: the handle on `/v1/job*` modelled on Go's api.Jobs — register (with EnforceIndex and Submission), plan,
 * validate, parse, read, versions, revert, scale, deregister, periodic force, dispatch, summary, lists.
 */
import { NomadUnexpectedResponseError } from './errors.ts';
import type { NomadHttp, QueryOptions, QueryResult, WriteOptions, WriteResult } from './http.ts';
import { seg } from './http.ts';
import type {
  AllocationListStub, Deployment, Evaluation, Job, JobDeregisterResponse, JobDispatchRequest, JobDispatchResponse,
  JobListStub, JobPlanRequest, JobPlanResponse, JobRegisterRequest, JobRegisterResponse, JobRevertRequest,
  JobScaleStatusResponse, JobSubmission, JobSummary, JobValidateRequest, JobValidateResponse, JobVersionsResponse,
  JobsParseRequest, ScalingRequest,
} from './types.ts';

/** registerEnforceIndexErrPrefix is how Nomad starts the error of a register whose EnforceIndex check failed. */
export const registerEnforceIndexErrPrefix = 'Enforcing job modify index';

/** NomadJobModifyIndexConflictError is a register refused because the job changed since JobModifyIndex (EnforceIndex). */
export class NomadJobModifyIndexConflictError extends Error {
  /** code is the namespaced error code `nomad/job_modify_index_conflict`. */
  readonly code = 'nomad/job_modify_index_conflict';
  /** jobId is the job that was registered. */
  readonly jobId: string;
  /** expectedIndex is the JobModifyIndex the caller sent (0 = the job must not exist). */
  readonly expectedIndex: number;
  constructor(jobId: string, expectedIndex: number, cause: NomadUnexpectedResponseError) {
    super(`job "${jobId}" changed since modify index ${expectedIndex}: ${cause.body.trim()}`, { cause });
    this.name = 'NomadJobModifyIndexConflictError';
    this.jobId = jobId;
    this.expectedIndex = expectedIndex;
  }
}

/** RegisterOptions are the options of a job registration (Go's api.RegisterOptions). */
export interface RegisterOptions {
  /** enforceIndex makes Nomad refuse the write unless the job's JobModifyIndex equals modifyIndex (0 = must not exist). */
  enforceIndex?: boolean;
  /** modifyIndex is the JobModifyIndex checked when enforceIndex is set. */
  modifyIndex?: number;
  /** submission is the source the job was built from (shown by `nomad job inspect`/UI); HCL2 or JSON. */
  submission?: JobSubmission;
  /** policyOverride overrides Sentinel soft-mandatory policies. */
  policyOverride?: boolean;
  /** preserveCounts keeps the running groups' counts instead of the job's. */
  preserveCounts?: boolean;
  /** evalPriority overrides the priority of the evaluation this registration creates. */
  evalPriority?: number;
}

/** RegisterResult is what a registration returns: the evaluation created and the warnings to show the user. */
export interface RegisterResult {
  /** evalId is the evaluation created ("" for a periodic or parameterized parent job). */
  evalId: string;
  /** evalCreateIndex is the Raft index of that evaluation. */
  evalCreateIndex: number;
  /** jobModifyIndex is the new JobModifyIndex of the job; pass it as modifyIndex with enforceIndex next time. */
  jobModifyIndex: number;
  /** warnings are Nomad's registration warnings, one per item (e.g. memory oversubscription disabled). */
  warnings: string[];
}

/** parseNomadWarnings splits Nomad's multierror warning text (`2 warnings:\n\n* a\n* b`) into items. */
export function parseNomadWarnings(text: string | undefined): string[] {
  if (!text || text.trim() === '') return [];
  const items = text.split(/\n\s*\* /).slice(1).map((s) => s.trim()).filter(Boolean);
  return items.length > 0 ? items : [text.trim()];
}

function toRegisterResult(r: JobRegisterResponse | undefined): RegisterResult {
  return {
    evalId: r?.EvalID ?? '',
    evalCreateIndex: r?.EvalCreateIndex ?? 0,
    jobModifyIndex: r?.JobModifyIndex ?? 0,
    warnings: parseNomadWarnings(r?.Warnings),
  };
}

/** PeriodicForceResponse is the answer to forcing a periodic job's launch. */
export interface PeriodicForceResponse {
  /** EvalID is the evaluation of the launched child job. */
  EvalID?: string;
  /** EvalCreateIndex is the Raft index of that evaluation. */
  EvalCreateIndex?: number;
}

/** DispatchOptions are the inputs of a parameterized job dispatch. */
export interface DispatchOptions {
  /** payload is the opaque input (sent base64); Nomad limits it to 16 KiB. */
  payload?: Uint8Array;
  /** meta are the dispatch meta keys the job declares. */
  meta?: Record<string, string>;
  /** idPrefixTemplate is added to the dispatched job's ID. */
  idPrefixTemplate?: string;
  /** priority overrides the child job's priority. */
  priority?: number;
}

/** ScaleOptions are the extras of a scaling request. */
export interface ScaleOptions {
  /** message is recorded in the scaling event. */
  message?: string;
  /** error marks the scaling event as an error. */
  error?: boolean;
  /** meta is recorded in the scaling event. */
  meta?: Record<string, unknown>;
  /** policyOverride overrides Sentinel soft-mandatory policies. */
  policyOverride?: boolean;
  /** jobModifyIndex makes Nomad refuse the scale if the job changed (Nomad ≥ 1.7 checks it when non-zero). */
  jobModifyIndex?: number;
}

/** DeregisterOptions are the options of a job stop. */
export interface DeregisterOptions {
  /** purge removes the job from Nomad's state at once instead of leaving it dead until GC. */
  purge?: boolean;
  /** global deregisters a multiregion job in every region. */
  global?: boolean;
  /** evalPriority overrides the priority of the evaluation created. */
  evalPriority?: number;
  /** noShutdownDelay skips the groups' shutdown_delay. */
  noShutdownDelay?: boolean;
}

/** Jobs is the handle on Nomad's job endpoints. Reads take QueryOptions, writes WriteOptions. */
export class Jobs {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /**
   * register submits a job (PUT /v1/jobs). With enforceIndex, a job changed since modifyIndex is refused with
   * NomadJobModifyIndexConflictError. Warnings are returned, not swallowed. Never retried.
   */
  async register(job: Job, opts: RegisterOptions = {}, w: WriteOptions = {}): Promise<WriteResult<RegisterResult>> {
    const body: JobRegisterRequest = { Job: job };
    if (opts.enforceIndex) {
      body.EnforceIndex = true;
      body.JobModifyIndex = opts.modifyIndex ?? 0;
    }
    if (opts.submission) body.Submission = opts.submission;
    if (opts.policyOverride) body.PolicyOverride = true;
    if (opts.preserveCounts) body.PreserveCounts = true;
    if (opts.evalPriority !== undefined) body.EvalPriority = opts.evalPriority;
    try {
      const r = await this.http.write<JobRegisterResponse>('PUT', '/v1/jobs', body, { namespace: job.Namespace ?? undefined, ...w });
      return { data: toRegisterResult(r.data), meta: r.meta };
    } catch (e) {
      if (opts.enforceIndex && e instanceof NomadUnexpectedResponseError && e.body.includes(registerEnforceIndexErrPrefix)) {
        throw new NomadJobModifyIndexConflictError(job.ID ?? '', opts.modifyIndex ?? 0, e);
      }
      throw e;
    }
  }

  /** plan dry-runs a registration (PUT /v1/job/:id/plan); with diff the response carries the JobDiff. */
  async plan(job: Job, opts: { diff?: boolean; policyOverride?: boolean } = {}, w: WriteOptions = {}): Promise<WriteResult<JobPlanResponse>> {
    const body: JobPlanRequest = { Job: job, Diff: opts.diff ?? false };
    if (opts.policyOverride) body.PolicyOverride = true;
    return this.http.write<JobPlanResponse>('PUT', `/v1/job/${seg(job.ID ?? '')}/plan`, body, { namespace: job.Namespace ?? undefined, ...w });
  }

  /** validate asks Nomad to validate a job without registering it (PUT /v1/validate/job). */
  async validate(job: Job, w: WriteOptions = {}): Promise<WriteResult<JobValidateResponse>> {
    const body: JobValidateRequest = { Job: job };
    return this.http.write<JobValidateResponse>('PUT', '/v1/validate/job', body, { namespace: job.Namespace ?? undefined, ...w });
  }

  /** parse turns HCL2 jobspec text into a Job (PUT /v1/jobs/parse); variables is HCL variable-file text. */
  async parseHCL(jobHCL: string, opts: { canonicalize?: boolean; variables?: string } = {}, w: WriteOptions = {}): Promise<Job> {
    const body: JobsParseRequest = { JobHCL: jobHCL, Canonicalize: opts.canonicalize ?? false };
    if (opts.variables !== undefined) body.Variables = opts.variables;
    return (await this.http.write<Job>('PUT', '/v1/jobs/parse', body, w)).data;
  }

  /** info reads one job (GET /v1/job/:id); a missing job is a 404 NomadUnexpectedResponseError. */
  info(jobId: string, q: QueryOptions = {}): Promise<QueryResult<Job>> {
    return this.http.query<Job>(`/v1/job/${seg(jobId)}`, q);
  }

  /** list lists jobs (GET /v1/jobs), by prefix, filter and pages. */
  list(q: QueryOptions = {}): Promise<QueryResult<JobListStub[]>> {
    return this.http.query<JobListStub[]>('/v1/jobs', q);
  }

  /** versions lists a job's stored versions, newest first, with diffs between them when asked. */
  versions(jobId: string, opts: { diffs?: boolean } = {}, q: QueryOptions = {}): Promise<QueryResult<JobVersionsResponse>> {
    return this.http.query<JobVersionsResponse>(`/v1/job/${seg(jobId)}/versions`, q, { diffs: opts.diffs });
  }

  /** submission reads the source a version was submitted with (GET /v1/job/:id/submission?version=). */
  submission(jobId: string, version: number, q: QueryOptions = {}): Promise<QueryResult<JobSubmission>> {
    return this.http.query<JobSubmission>(`/v1/job/${seg(jobId)}/submission`, q, { version });
  }

  /** revert re-registers an older version (PUT /v1/job/:id/revert); enforcePriorVersion guards against races. */
  async revert(jobId: string, version: number, opts: { enforcePriorVersion?: number } = {}, w: WriteOptions = {}): Promise<WriteResult<RegisterResult>> {
    const body: JobRevertRequest = { JobID: jobId, JobVersion: version };
    if (opts.enforcePriorVersion !== undefined) body.EnforcePriorVersion = opts.enforcePriorVersion;
    const r = await this.http.write<JobRegisterResponse>('PUT', `/v1/job/${seg(jobId)}/revert`, body, w);
    return { data: toRegisterResult(r.data), meta: r.meta };
  }

  /** scale sets one group's count (PUT /v1/job/:id/scale). */
  async scale(jobId: string, group: string, count: number, opts: ScaleOptions = {}, w: WriteOptions = {}): Promise<WriteResult<RegisterResult>> {
    if (!Number.isInteger(count) || count < 0) throw new RangeError('count must be a non-negative integer');
    const body: ScalingRequest = { Count: count, Target: { Job: jobId, Group: group } };
    if (opts.message !== undefined) body.Message = opts.message;
    if (opts.error) body.Error = true;
    if (opts.meta) body.Meta = opts.meta;
    if (opts.policyOverride) body.PolicyOverride = true;
    if (opts.jobModifyIndex !== undefined) body.JobModifyIndex = opts.jobModifyIndex;
    const r = await this.http.write<JobRegisterResponse>('PUT', `/v1/job/${seg(jobId)}/scale`, body, w);
    return { data: toRegisterResult(r.data), meta: r.meta };
  }

  /** scaleStatus reads the groups' desired and running counts (GET /v1/job/:id/scale). */
  scaleStatus(jobId: string, q: QueryOptions = {}): Promise<QueryResult<JobScaleStatusResponse>> {
    return this.http.query<JobScaleStatusResponse>(`/v1/job/${seg(jobId)}/scale`, q);
  }

  /** deregister stops a job (DELETE /v1/job/:id), purging it from state when asked. */
  deregister(jobId: string, opts: DeregisterOptions = {}, w: WriteOptions = {}): Promise<WriteResult<JobDeregisterResponse>> {
    return this.http.write<JobDeregisterResponse>('DELETE', `/v1/job/${seg(jobId)}`, undefined, w, {
      purge: opts.purge,
      global: opts.global,
      eval_priority: opts.evalPriority,
      no_shutdown_delay: opts.noShutdownDelay,
    });
  }

  /** periodicForce launches a periodic job now (PUT /v1/job/:id/periodic/force). */
  periodicForce(jobId: string, w: WriteOptions = {}): Promise<WriteResult<PeriodicForceResponse>> {
    return this.http.write<PeriodicForceResponse>('PUT', `/v1/job/${seg(jobId)}/periodic/force`, undefined, w);
  }

  /**
   * dispatch launches a parameterized job (PUT /v1/job/:id/dispatch). With WriteOptions.idempotencyToken Nomad
   * returns the existing child for a repeated token, so only then is a failed dispatch retried.
   */
  dispatch(jobId: string, opts: DispatchOptions = {}, w: WriteOptions = {}): Promise<WriteResult<JobDispatchResponse>> {
    const body: JobDispatchRequest = { JobID: jobId };
    if (opts.payload) body.Payload = Buffer.from(opts.payload).toString('base64');
    if (opts.meta) body.Meta = opts.meta;
    if (opts.idPrefixTemplate !== undefined) body.IdPrefixTemplate = opts.idPrefixTemplate;
    if (opts.priority !== undefined) body.Priority = opts.priority;
    return this.http.write<JobDispatchResponse>('PUT', `/v1/job/${seg(jobId)}/dispatch`, body, w, {}, [200], true);
  }

  /** summary reads the per-group allocation counts (GET /v1/job/:id/summary). */
  summary(jobId: string, q: QueryOptions = {}): Promise<QueryResult<JobSummary>> {
    return this.http.query<JobSummary>(`/v1/job/${seg(jobId)}/summary`, q);
  }

  /** allocations lists a job's allocations (GET /v1/job/:id/allocations); all includes those of older job versions. */
  allocations(jobId: string, opts: { all?: boolean } = {}, q: QueryOptions = {}): Promise<QueryResult<AllocationListStub[]>> {
    return this.http.query<AllocationListStub[]>(`/v1/job/${seg(jobId)}/allocations`, q, { all: opts.all });
  }

  /** evaluations lists a job's evaluations (GET /v1/job/:id/evaluations). */
  evaluations(jobId: string, q: QueryOptions = {}): Promise<QueryResult<Evaluation[]>> {
    return this.http.query<Evaluation[]>(`/v1/job/${seg(jobId)}/evaluations`, q);
  }

  /** deployments lists a job's deployments (GET /v1/job/:id/deployments); all includes those of older job instances. */
  deployments(jobId: string, opts: { all?: boolean } = {}, q: QueryOptions = {}): Promise<QueryResult<Deployment[]>> {
    return this.http.query<Deployment[]>(`/v1/job/${seg(jobId)}/deployments`, q, { all: opts.all });
  }

  /** latestDeployment reads the job's most recent deployment (GET /v1/job/:id/deployment); null when it has none. */
  latestDeployment(jobId: string, q: QueryOptions = {}): Promise<QueryResult<Deployment | null>> {
    return this.http.query<Deployment | null>(`/v1/job/${seg(jobId)}/deployment`, q);
  }
}
