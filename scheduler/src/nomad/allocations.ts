/**
 * Evaluations, deployments, allocations and the client file system (logs): the handles that follow a registration
 * from its evaluation to running allocations, modelled on Go's api.Evaluations, api.Deployments, api.Allocations
 * and api.AllocFS.
 */
import type { NomadHttp, QueryOptions, QueryResult, WriteOptions, WriteResult } from './http.ts';
import { seg } from './http.ts';
import { decodeFrames, plainChunks } from './stream/frames.ts';
import type { LogChunk } from './stream/frames.ts';
import type {
  AllocResourceUsage, AllocStopResponse, Allocation, AllocationListStub, AllocationRestartRequest, Deployment,
  DeploymentFailRequest, DeploymentPromoteRequest, DeploymentUpdateResponse, Evaluation,
} from './types.ts';

/** Evaluations is the handle on `/v1/evaluation*`. */
export class Evaluations {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** info reads one evaluation (GET /v1/evaluation/:id). */
  info(evalId: string, q: QueryOptions = {}): Promise<QueryResult<Evaluation>> {
    return this.http.query<Evaluation>(`/v1/evaluation/${seg(evalId)}`, q);
  }

  /** allocations lists the allocations an evaluation placed (GET /v1/evaluation/:id/allocations). */
  allocations(evalId: string, q: QueryOptions = {}): Promise<QueryResult<AllocationListStub[]>> {
    return this.http.query<AllocationListStub[]>(`/v1/evaluation/${seg(evalId)}/allocations`, q);
  }
}

/** Deployments is the handle on `/v1/deployment*`. */
export class Deployments {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** info reads one deployment (GET /v1/deployment/:id). */
  info(deploymentId: string, q: QueryOptions = {}): Promise<QueryResult<Deployment>> {
    return this.http.query<Deployment>(`/v1/deployment/${seg(deploymentId)}`, q);
  }

  /** allocations lists a deployment's allocations (GET /v1/deployment/allocations/:id). */
  allocations(deploymentId: string, q: QueryOptions = {}): Promise<QueryResult<AllocationListStub[]>> {
    return this.http.query<AllocationListStub[]>(`/v1/deployment/allocations/${seg(deploymentId)}`, q);
  }

  /** promote promotes the canaries of every group, or of `groups` only (PUT /v1/deployment/promote/:id). */
  promote(deploymentId: string, groups: readonly string[] | 'all' = 'all', w: WriteOptions = {}): Promise<WriteResult<DeploymentUpdateResponse>> {
    const body: DeploymentPromoteRequest = groups === 'all'
      ? { DeploymentID: deploymentId, All: true }
      : { DeploymentID: deploymentId, Groups: [...groups] };
    return this.http.write<DeploymentUpdateResponse>('PUT', `/v1/deployment/promote/${seg(deploymentId)}`, body, w);
  }

  /** fail marks a deployment failed (PUT /v1/deployment/fail/:id); with auto_revert Nomad rolls back. */
  fail(deploymentId: string, w: WriteOptions = {}): Promise<WriteResult<DeploymentUpdateResponse>> {
    const body: DeploymentFailRequest = { DeploymentID: deploymentId };
    return this.http.write<DeploymentUpdateResponse>('PUT', `/v1/deployment/fail/${seg(deploymentId)}`, body, w);
  }
}

/** Allocations is the handle on `/v1/allocation*` and the client allocation endpoints (restart, stats). */
export class Allocations {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** info reads one allocation (GET /v1/allocation/:id). */
  info(allocId: string, q: QueryOptions = {}): Promise<QueryResult<Allocation>> {
    return this.http.query<Allocation>(`/v1/allocation/${seg(allocId)}`, q);
  }

  /** list lists allocations (GET /v1/allocations), by prefix, filter and pages; taskStates/resources add detail. */
  list(opts: { taskStates?: boolean; resources?: boolean } = {}, q: QueryOptions = {}): Promise<QueryResult<AllocationListStub[]>> {
    return this.http.query<AllocationListStub[]>('/v1/allocations', q, { task_states: opts.taskStates, resources: opts.resources });
  }

  /** restart restarts one task, or every task with allTasks (PUT /v1/client/allocation/:id/restart). */
  restart(allocId: string, opts: { task?: string; allTasks?: boolean } = {}, w: WriteOptions = {}): Promise<WriteResult<unknown>> {
    const body: AllocationRestartRequest = {};
    if (opts.task !== undefined) body.TaskName = opts.task;
    if (opts.allTasks) body.AllTasks = true;
    return this.http.write<unknown>('PUT', `/v1/client/allocation/${seg(allocId)}/restart`, body, w);
  }

  /** stop stops an allocation so the scheduler replaces it (PUT /v1/allocation/:id/stop). */
  stop(allocId: string, opts: { noShutdownDelay?: boolean } = {}, w: WriteOptions = {}): Promise<WriteResult<AllocStopResponse>> {
    return this.http.write<AllocStopResponse>('PUT', `/v1/allocation/${seg(allocId)}/stop`, undefined, w, { no_shutdown_delay: opts.noShutdownDelay });
  }

  /** stats reads live resource usage from the client (GET /v1/client/allocation/:id/stats). */
  stats(allocId: string, q: QueryOptions = {}): Promise<QueryResult<AllocResourceUsage>> {
    return this.http.query<AllocResourceUsage>(`/v1/client/allocation/${seg(allocId)}/stats`, q);
  }
}

/** LogsOptions select the log to read and how. */
export interface LogsOptions {
  /** task is the task whose log is read. */
  task: string;
  /** type is the stream: stdout or stderr. */
  type: 'stdout' | 'stderr';
  /** follow keeps the stream open for new output. */
  follow?: boolean;
  /** origin is where offset counts from: start (default) or end (tail). */
  origin?: 'start' | 'end';
  /** offset is a byte offset from origin. */
  offset?: number;
  /** plain asks for raw bytes instead of frames (no file/offset/event information). */
  plain?: boolean;
  /**
   * idleTimeoutMs ends a framed stream with NomadConnectionError after this long without a byte (framed streams
   * carry heartbeats); default 35 s for framed, none for plain (a quiet task sends nothing).
   */
  idleTimeoutMs?: number;
}

/** AllocFileInfo is Nomad's `AllocFileInfo` (a file or directory of an allocation). */
export interface AllocFileInfo {
  /** Name is the base name. */
  Name: string;
  /** IsDir says it is a directory. */
  IsDir: boolean;
  /** Size is its size in bytes. */
  Size: number;
  /** FileMode is the mode string. */
  FileMode: string;
  /** ModTime is the modification time. */
  ModTime: string;
}

/** AllocFS is the handle on the client file system endpoints (`/v1/client/fs/*`). */
export class AllocFS {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** stat describes a file of an allocation's directory (GET /v1/client/fs/stat/:alloc?path=). */
  stat(allocId: string, path: string, q: QueryOptions = {}): Promise<QueryResult<AllocFileInfo>> {
    return this.http.query<AllocFileInfo>(`/v1/client/fs/stat/${seg(allocId)}`, q, { path });
  }

  /** ls lists a directory of an allocation (GET /v1/client/fs/ls/:alloc?path=), e.g. `alloc/logs` with each rotated log file's size. */
  ls(allocId: string, path: string, q: QueryOptions = {}): Promise<QueryResult<AllocFileInfo[]>> {
    return this.http.query<AllocFileInfo[]>(`/v1/client/fs/ls/${seg(allocId)}`, q, { path });
  }

  /** cat streams a file of an allocation's directory (GET /v1/client/fs/cat/:alloc?path=); idleTimeoutMs bounds silence. */
  async cat(allocId: string, path: string, q: QueryOptions = {}, idleTimeoutMs = 60_000): Promise<AsyncIterable<Uint8Array>> {
    const res = await this.http.stream(`/v1/client/fs/cat/${seg(allocId)}`, q, { path }, idleTimeoutMs);
    return res.body;
  }

  /**
   * logs streams a task's log (GET /v1/client/fs/logs/:alloc) as decoded chunks. Framed mode (default) reports
   * file rotation, truncation and deletion; abort the signal or stop iterating to close it.
   */
  async logs(allocId: string, opts: LogsOptions, q: QueryOptions = {}): Promise<AsyncIterable<LogChunk>> {
    const res = await this.http.stream(`/v1/client/fs/logs/${seg(allocId)}`, q, {
      task: opts.task,
      type: opts.type,
      follow: opts.follow,
      origin: opts.origin ?? 'start',
      offset: opts.offset ?? 0,
      plain: opts.plain,
    }, opts.idleTimeoutMs ?? (opts.plain ? 0 : 35_000));
    return opts.plain ? plainChunks(res.body, `alloc/logs/${opts.task}.${opts.type}`, opts.offset ?? 0) : decodeFrames(res.body);
  }
}
