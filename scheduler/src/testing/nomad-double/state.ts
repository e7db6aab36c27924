/**
 * The Nomad double's state machine: jobs with versions, evaluations, allocations, deployments, host volumes,
 * variables, namespaces, ACL policies and nodes, one Raft-like index, and the transitions Nomad makes on short real
 * timers — register → evaluation (pending → complete) → allocations (pending → running, task events) → deployment
 * (running → successful), or the failure a scenario selects (pull error, OOM, failing checks, no capacity, missing
 * volume), canaries and promotion, auto-revert, revert, scale, periodic and dispatched children.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import { goDuration, MINUTE, SECOND } from '../../nomad-validate/duration.ts';
import { nextCronTime, parseCron } from '../../nomad-validate/cron.ts';
import { scenarioFromJob, type Scenario } from './scenarios.ts';
import { copyJson } from '../../nomad-validate/canonicalize.ts';

/** Obj is a loosely typed Nomad object (JSON). */
export type Obj = Record<string, unknown>;

/** DoubleError is an error the HTTP layer answers with its status and Nomad-like text. */
export class DoubleError extends Error {
  /** status is the HTTP status Nomad would answer. */
  readonly status: number;
  /** body is an optional JSON body (409 CAS conflicts return the current variable). */
  readonly body: unknown;
  constructor(status: number, message: string, body?: unknown) {
    super(message);
    this.name = 'DoubleError';
    this.status = status;
    this.body = body;
  }
}

/** StateOptions tune the simulated cluster. */
export interface StateOptions {
  /** stepMs is the real time between two simulated transitions (default 50 ms: a healthy deploy takes ~300 ms). */
  stepMs?: number;
  /** nodes is the number of client nodes (default 3). */
  nodes?: number;
  /** nodeMemoryMB is each node's memory (default 8192). */
  nodeMemoryMB?: number;
  /** nodeCpuMHz is each node's CPU (default 8000). */
  nodeCpuMHz?: number;
  /** eventBuffer is how many events the event stream can replay from an index (default 10 000). */
  eventBuffer?: number;
}

/** VolumeDelete records one host volume delete the double received. */
export interface VolumeDelete { id: string; name: string; namespace: string; at: number }

const ZERO_TIME = '0001-01-01T00:00:00Z';
const nowNs = (): number => Date.now() * 1_000_000;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);
const str = (v: unknown, d = ''): string => (typeof v === 'string' ? v : d);
const num = (v: unknown, d = 0): number => (typeof v === 'number' ? v : d);
const clone = <T>(v: T): T => copyJson(v);
const key = (ns: string, id: string): string => `${ns}\u0000${id}`;

interface JobEntry { versions: Obj[]; submissions: Map<number, Obj>; scaleEvents: Record<string, Obj[]> }
/**
 * BatchGate stands in for what a batch allocation's containers do while they run (put a dump file, upload an object):
 * the allocation's tasks finish only once it settles, the way they would after the real work. When it resolves to a
 * Scenario, that scenario decides how the tasks end (`crash`: the main tasks exit 1, poststop tasks still run); a
 * rejection ends them as `crash`.
 */
export type BatchGate = (alloc: { id: string; jobId: string; namespace: string }) => Promise<Scenario | undefined | void> | Scenario | undefined | void;

/**
 * LogFiles are one task stream's log files as Nomad's logmon keeps them: `<task>.<type>.<index>`, a new index once
 * the current file reaches the task's `LogConfig.MaxFileSizeMB`, and only the newest `MaxFiles` kept.
 */
export interface LogFiles {
  /** files maps each kept index to its content. */
  files: Map<number, Buffer>;
  /** current is the index being written. */
  current: number;
}

/** AllocEntry is one allocation with its simulated log files (by `<task>.<type>`) and files (paths relative to the alloc dir). */
export interface AllocEntry { alloc: Obj; logs: Map<string, LogFiles>; files: Map<string, { data: Buffer; mtime: Date }>; scenario: Scenario; group: Obj; stepsRunning: number }

/** Tables are the index tables blocking queries watch. */
export type Table = 'jobs' | 'evals' | 'allocs' | 'deployment' | 'volumes' | 'vars' | 'namespaces' | 'acl' | 'nodes' | 'summary';

/** StreamEvent is one event of `/v1/event/stream` plus the namespace it belongs to (for filtering). */
export interface StreamEvent { Topic: string; Type: string; Key: string; FilterKeys: string[] | null; Index: number; namespace: string; /** json is the event as Nomad sends it, serialized when published (a snapshot). */ json: string }

/** NomadState holds the simulated cluster; the HTTP layer and the control API drive it. */
export class NomadState {
  /** index is the latest Raft index. */
  index = 1;
  /** emitter fires `change` on every write and `event` for every stream event, `log` for appended log bytes. */
  readonly emitter = new EventEmitter();
  readonly jobs = new Map<string, JobEntry>();
  readonly evals = new Map<string, Obj>();
  readonly allocs = new Map<string, AllocEntry>();
  readonly deployments = new Map<string, Obj>();
  readonly volumes = new Map<string, Obj>();
  readonly vars = new Map<string, Obj>();
  readonly namespaces = new Map<string, Obj>();
  readonly policies = new Map<string, Obj>();
  readonly nodes: Obj[] = [];
  /** volumeDeletes records every host volume delete request that reached the double. */
  readonly volumeDeletes: VolumeDelete[] = [];
  /** volumePluginCapacity maps a host volume plugin ID to the bytes it reports on create (default: the minimum requested; `mkdir` always 0). */
  readonly volumePluginCapacity = new Map<string, number>();
  /** scenarios maps `namespace\0jobId` or `jobId` to a forced scenario. */
  readonly scenarios = new Map<string, Scenario>();
  /** batchGates run, in order, when a batch allocation of a job whose ID starts with their prefix is running (see BatchGate). */
  readonly batchGates: { prefix: string; namespace?: string; gate: BatchGate }[] = [];
  /** memoryOversubscription mirrors the scheduler configuration (affects register warnings). */
  memoryOversubscription = false;
  readonly events: StreamEvent[] = [];
  private readonly tables = new Map<Table, number>();
  /** replacing maps an alloc-stop evaluation to the allocation it replaces (PreviousAllocation). */
  private readonly replacing = new Map<string, AllocEntry>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** progressBy holds, per deployment and group, the real time its progress deadline passes (see armDeadline). */
  private readonly progressBy = new Map<string, Map<string, number>>();
  /** watching holds the deployments whose progress watcher runs. */
  private readonly watching = new Set<string>();
  /** placing counts, per deployment, promotions whose placements are still to run. */
  private readonly placing = new Map<string, number>();
  private readonly stepMs: number;
  private readonly eventBuffer: number;
  private closed = false;

  constructor(opts: StateOptions = {}) {
    this.stepMs = opts.stepMs ?? 50;
    this.eventBuffer = opts.eventBuffer ?? 10_000;
    this.emitter.setMaxListeners(0);
    const n = opts.nodes ?? 3;
    for (let i = 1; i <= n; i++) this.nodes.push(this.makeNode(i, opts.nodeMemoryMB ?? 8192, opts.nodeCpuMHz ?? 8000));
    this.namespaces.set('default', { Name: 'default', Description: 'Default shared namespace', Quota: '', Meta: null, Capabilities: null, NodePoolConfiguration: null, VaultConfiguration: null, ConsulConfiguration: null, CreateIndex: 1, ModifyIndex: 1 });
    for (const t of ['jobs', 'evals', 'allocs', 'deployment', 'volumes', 'vars', 'namespaces', 'acl', 'nodes', 'summary'] as Table[]) this.tables.set(t, 1);
  }

  // ----- infrastructure -----

  /** tableIndex returns the highest index of the given tables (what X-Nomad-Index reports for a read). */
  tableIndex(...tables: Table[]): number {
    return Math.max(1, ...tables.map((t) => this.tables.get(t) ?? 1));
  }

  /** bump advances the index for the given tables and notifies blocking queries. */
  bump(...tables: Table[]): number {
    this.index++;
    for (const t of tables) this.tables.set(t, this.index);
    this.emitter.emit('change');
    return this.index;
  }

  /** publish appends a stream event at the current index. */
  publish(topic: string, type: string, keyId: string, namespace: string, payload: Obj, filterKeys: string[] | null = null): void {
    const json = JSON.stringify({ Topic: topic, Type: type, Key: keyId, FilterKeys: filterKeys, Index: this.index, Payload: payload });
    const e: StreamEvent = { Topic: topic, Type: type, Key: keyId, FilterKeys: filterKeys, Index: this.index, namespace, json };
    this.events.push(e);
    if (this.events.length > this.eventBuffer * 1.25) this.events.splice(0, this.events.length - this.eventBuffer);
    this.emitter.emit('event', e);
  }

  /** after runs fn after `steps` simulated steps (real timers; cancelled by close). */
  after(steps: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.closed) return;
      fn();
    }, Math.max(0, steps * this.stepMs));
    this.timers.add(t);
  }

  /** afterMs runs fn after `ms` real milliseconds (cancelled by close). */
  private afterMs(ms: number, fn: () => void): void {
    if (this.closed) return;
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (this.closed) return;
      fn();
    }, Math.max(0, ms));
    this.timers.add(t);
  }

  /** close cancels every pending transition. */
  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.emitter.emit('close');
  }

  /**
   * resetIndex simulates a restore of an older snapshot: the Raft index goes back to just below the lowest index any
   * table has reported since the start (so every read a client made above index 1 now answers a lower
   * X-Nomad-Index — blocking queries must reset to 0), every object index is mapped into that range keeping its
   * order, the event buffer is dropped, and later writes grow the index again from there.
   */
  resetIndex(): void {
    const old = this.index;
    const seen = [...this.tables.values()].filter((v) => v > 1);
    const target = Math.max(1, Math.min(old, ...seen) - 1);
    const f = (v: number): number => (v <= 1 ? v : Math.max(1, Math.ceil((v * target) / old)));
    const INDEX_KEYS = ['CreateIndex', 'ModifyIndex', 'JobModifyIndex', 'AllocModifyIndex', 'JobCreateIndex', 'JobSpecModifyIndex', 'SnapshotIndex', 'EvalCreateIndex'];
    const renumber = (o: Obj | null | undefined): void => {
      if (!o) return;
      for (const k of INDEX_KEYS) if (typeof o[k] === 'number') o[k] = f(o[k]);
    };
    for (const e of this.jobs.values()) {
      e.versions.forEach(renumber);
      for (const events of Object.values(e.scaleEvents)) events.forEach(renumber);
    }
    for (const o of this.evals.values()) renumber(o);
    for (const a of this.allocs.values()) {
      renumber(a.alloc);
      renumber(isObj(a.alloc.Job) ? a.alloc.Job : undefined);
      renumber(isObj(a.alloc.DeploymentStatus) ? a.alloc.DeploymentStatus : undefined);
    }
    for (const o of this.deployments.values()) renumber(o);
    for (const o of this.volumes.values()) renumber(o);
    for (const o of this.vars.values()) renumber(o);
    for (const o of this.namespaces.values()) renumber(o);
    for (const o of this.policies.values()) renumber(o);
    for (const o of this.nodes) renumber(o);
    this.index = target;
    for (const [t, v] of this.tables) this.tables.set(t, f(v));
    this.events.length = 0;
    this.emitter.emit('change');
  }

  private makeNode(i: number, memMB: number, cpu: number): Obj {
    const id = `0000000${i}-0000-4000-8000-00000000000${i}`.slice(-36);
    return {
      ID: id, Name: `node-${i}`, Datacenter: 'dc1', NodeClass: '', NodePool: 'default', HTTPAddr: `10.0.0.${10 + i}:4646`, TLSEnabled: false,
      Status: 'ready', StatusDescription: '', SchedulingEligibility: 'eligible', Drain: false, DrainStrategy: null, LastDrain: null,
      Attributes: { 'unique.hostname': `node-${i}`, 'unique.network.ip-address': `10.0.0.${10 + i}`, 'kernel.name': 'linux', 'nomad.version': '2.0.5', 'driver.docker': '1' },
      Meta: { 'connect.sidecar_image': 'envoyproxy/envoy:v1.29' },
      Drivers: Object.fromEntries(['docker', 'exec', 'raw_exec'].map((d) => [d, { Attributes: null, Detected: true, Healthy: true, HealthDescription: 'Healthy', UpdateTime: new Date().toISOString() }])),
      NodeResources: { Cpu: { CpuShares: cpu, TotalCpuCores: 4, ReservableCpuCores: [0, 1, 2, 3] }, Memory: { MemoryMB: memMB }, Disk: { DiskMB: 100_000 }, Networks: null, Devices: null, MinDynamicPort: 20000, MaxDynamicPort: 32000 },
      ReservedResources: null, HostVolumes: null, HostNetworks: null, Events: null, Links: null, CSIControllerPlugins: null, CSINodePlugins: null,
      CreateIndex: 1, ModifyIndex: 1, StatusUpdatedAt: Math.floor(Date.now() / 1000),
    };
  }

  /** nodeStub returns a node as `NodeListStub`. */
  nodeStub(n: Obj): Obj {
    return {
      Address: str(n.HTTPAddr).split(':')[0], ID: n.ID, Attributes: n.Attributes, Datacenter: n.Datacenter, Name: n.Name, NodeClass: n.NodeClass, NodePool: n.NodePool,
      Version: '2.0.5', Drain: n.Drain, SchedulingEligibility: n.SchedulingEligibility, Status: n.Status, StatusDescription: n.StatusDescription,
      Drivers: n.Drivers, NodeResources: n.NodeResources, ReservedResources: null, LastDrain: null, CreateIndex: n.CreateIndex, ModifyIndex: n.ModifyIndex,
    };
  }

  // ----- jobs -----

  /** currentJob returns the latest version of a job (undefined when unknown or purged). */
  currentJob(ns: string, id: string): Obj | undefined {
    const e = this.jobs.get(key(ns, id));
    return e?.versions[e.versions.length - 1];
  }

  /** jobEntry returns the versions of a job. */
  jobEntry(ns: string, id: string): JobEntry | undefined {
    return this.jobs.get(key(ns, id));
  }

  /** scenarioFor returns the scenario forced for a job by the control API, else the one its images name, else healthy. */
  scenarioFor(job: Obj): Scenario {
    const ns = str(job.Namespace, 'default'), id = str(job.ID), parent = str(job.ParentID);
    return this.scenarios.get(key(ns, id)) ?? this.scenarios.get(id) ?? (parent ? this.scenarios.get(key(ns, parent)) ?? this.scenarios.get(parent) : undefined) ?? scenarioFromJob(job) ?? 'healthy';
  }

  /**
   * register stores a new version of an already validated, canonicalized job (or nothing when its spec did not
   * change) and creates its evaluation. Enforces `EnforceIndex` as Nomad does.
   */
  register(job: Obj, opts: { enforceIndex?: boolean; jobModifyIndex?: number; submission?: Obj | null; triggeredBy?: string; preserveCounts?: boolean } = {}): Obj {
    const ns = str(job.Namespace, 'default'), id = str(job.ID);
    if (!this.namespaces.has(ns)) throw new DoubleError(500, `job "${id}" is in nonexistent namespace "${ns}"`);
    const existing = this.currentJob(ns, id);
    job.Stop = job.Stop === true;
    if (opts.enforceIndex) {
      const want = opts.jobModifyIndex ?? 0;
      if (want === 0 && existing) throw new DoubleError(500, `Enforcing job modify index 0: job already exists`);
      if (want !== 0 && !existing) throw new DoubleError(500, `Enforcing job modify index ${want}: job does not exist`);
      if (want !== 0 && existing && num(existing.JobModifyIndex) !== want) throw new DoubleError(500, `Enforcing job modify index ${want}: job exists with conflicting job modify index: ${num(existing.JobModifyIndex)}`);
    }
    if (opts.preserveCounts && existing) {
      for (const g of arr(job.TaskGroups)) {
        const old = arr(existing.TaskGroups).find((x) => x.Name === g.Name);
        if (old) g.Count = old.Count;
      }
    }
    const changed = !existing || specChanged(existing, job);
    let current: Obj;
    const idx = this.bump('jobs', 'summary');
    if (changed) {
      current = clone(job);
      const entry: JobEntry = this.jobs.get(key(ns, id)) ?? { versions: [], submissions: new Map(), scaleEvents: {} };
      current.Version = existing ? num(existing.Version) + 1 : 0;
      current.CreateIndex = existing ? existing.CreateIndex : idx;
      current.ModifyIndex = idx;
      current.JobModifyIndex = idx;
      current.SubmitTime = nowNs();
      current.Stable = false;
      current.Status = isObj(current.Periodic) || isObj(current.ParameterizedJob) ? (current.Stop ? 'dead' : 'running') : 'pending';
      current.StatusDescription = '';
      current.Stop = current.Stop === true;
      entry.versions.push(current);
      if (entry.versions.length > 6) entry.versions.splice(0, entry.versions.length - 6);
      if (opts.submission) entry.submissions.set(num(current.Version), clone(opts.submission));
      this.jobs.set(key(ns, id), entry);
    } else {
      current = existing;
      current.ModifyIndex = idx;
    }
    this.publish('Job', 'JobRegistered', id, ns, { Job: current });
    if ((isObj(current.Periodic) || isObj(current.ParameterizedJob)) && !current.Dispatched) return { EvalID: '', EvalCreateIndex: 0, JobModifyIndex: current.JobModifyIndex, Index: idx };
    const ev = this.createEval(current, opts.triggeredBy ?? (current.Stop ? 'job-deregister' : 'job-register'));
    return { EvalID: ev.ID, EvalCreateIndex: ev.CreateIndex, JobModifyIndex: current.JobModifyIndex, Index: this.index };
  }

  /** createEval creates a pending evaluation for the job and schedules its processing one step later. */
  createEval(job: Obj, triggeredBy: string, extra: Obj = {}): Obj {
    const idx = this.bump('evals');
    const ev: Obj = {
      ID: randomUUID(), Namespace: job.Namespace, Priority: job.Priority, Type: job.Type, TriggeredBy: triggeredBy, JobID: job.ID, JobModifyIndex: job.JobModifyIndex,
      NodeID: '', NodeModifyIndex: 0, DeploymentID: '', Status: 'pending', StatusDescription: '', Wait: 0, WaitUntil: ZERO_TIME, NextEval: '', PreviousEval: '', BlockedEval: '',
      RelatedEvals: null, FailedTGAllocs: null, ClassEligibility: null, QuotaLimitReached: '', EscapedComputedClass: false, AnnotatePlan: false, QueuedAllocations: null,
      SnapshotIndex: 0, CreateIndex: idx, ModifyIndex: idx, CreateTime: nowNs(), ModifyTime: nowNs(), ...extra,
    };
    this.evals.set(str(ev.ID), ev);
    this.publish('Evaluation', 'EvaluationUpdated', str(ev.ID), str(job.Namespace), { Evaluation: ev }, [str(job.ID)]);
    this.after(1, () => this.processEval(str(ev.ID)));
    return ev;
  }

  private updateEval(ev: Obj, patch: Obj): void {
    Object.assign(ev, patch);
    ev.ModifyIndex = this.bump('evals');
    ev.ModifyTime = nowNs();
    this.publish('Evaluation', 'EvaluationUpdated', str(ev.ID), str(ev.Namespace), { Evaluation: ev }, [str(ev.JobID), str(ev.DeploymentID)].filter(Boolean));
  }

  /** liveAllocs returns the allocations of a job that are desired running and not terminal. */
  liveAllocs(ns: string, jobId: string, group?: string): AllocEntry[] {
    return [...this.allocs.values()].filter((a) => a.alloc.Namespace === ns && a.alloc.JobID === jobId && a.alloc.DesiredStatus === 'run'
      && !['complete', 'failed', 'lost'].includes(str(a.alloc.ClientStatus)) && (group === undefined || a.alloc.TaskGroup === group));
  }

  /** jobDeployments returns the deployments of a job, newest first. */
  jobDeployments(ns: string, jobId: string): Obj[] {
    return [...this.deployments.values()].filter((d) => d.Namespace === ns && d.JobID === jobId).sort((a, b) => num(b.CreateIndex) - num(a.CreateIndex));
  }

  private placementFailure(job: Obj, group: Obj, missing: number): Obj | undefined {
    const nodes = this.nodes.length;
    const base = { NodesEvaluated: nodes, NodesFiltered: 0, NodesInPool: nodes, NodePool: str(job.NodePool, 'default'), NodesAvailable: { dc1: nodes }, ClassFiltered: null, ConstraintFiltered: null, NodesExhausted: 0, ClassExhausted: null, DimensionExhausted: null, QuotaExhausted: null, ResourcesExhausted: null, Scores: null, ScoreMetaData: null, AllocationTime: 125_000, CoalescedFailures: Math.max(0, missing - 1) };
    for (const v of Object.values(isObj(group.Volumes) ? group.Volumes : {})) {
      if (!isObj(v) || v.Type !== 'host') continue;
      const vol = this.findVolumeByName(str(job.Namespace), str(v.Source));
      if (!vol || vol.State !== 'ready') return { ...base, NodesFiltered: nodes, ConstraintFiltered: { 'missing compatible host volumes': nodes } };
    }
    if (this.scenarioFor(job) === 'no-capacity') return { ...base, NodesExhausted: nodes, ClassExhausted: null, DimensionExhausted: { memory: nodes } };
    const need = groupMemory(group);
    const used = this.usedMemory();
    const free = this.nodes.map((n) => nodeMemory(n) - (used.get(str(n.ID)) ?? 0));
    const fits = free.reduce((acc, f) => acc + Math.floor(f / Math.max(1, need)), 0);
    if (fits < missing) return { ...base, NodesExhausted: nodes, DimensionExhausted: { memory: nodes } };
    return undefined;
  }

  private usedMemory(): Map<string, number> {
    const used = new Map<string, number>();
    for (const a of this.allocs.values()) {
      if (a.alloc.DesiredStatus !== 'run' || ['complete', 'failed', 'lost'].includes(str(a.alloc.ClientStatus))) continue;
      const id = str(a.alloc.NodeID);
      used.set(id, (used.get(id) ?? 0) + groupMemory(a.group));
    }
    return used;
  }

  findVolumeByName(ns: string, name: string): Obj | undefined {
    return [...this.volumes.values()].find((v) => v.Namespace === ns && v.Name === name);
  }

  private pickNode(job: Obj, group: Obj): Obj {
    for (const v of Object.values(isObj(group.Volumes) ? group.Volumes : {})) {
      if (isObj(v) && v.Type === 'host') {
        const vol = this.findVolumeByName(str(job.Namespace), str(v.Source));
        const node = this.nodes.find((n) => n.ID === vol?.NodeID);
        if (node) return node;
      }
    }
    const need = groupMemory(group);
    const used = this.usedMemory();
    const free = (n: Obj): number => nodeMemory(n) - (used.get(str(n.ID)) ?? 0);
    const sorted = [...this.nodes].sort((a, b) => free(b) - free(a));
    return sorted.find((n) => free(n) >= need) ?? sorted[0] ?? {};
  }

  /** processEval runs the scheduler for an evaluation: reconcile allocations with the job, create the deployment. */
  processEval(evalId: string): void {
    const ev = this.evals.get(evalId);
    if (!ev || ev.Status !== 'pending') return;
    const ns = str(ev.Namespace), jobId = str(ev.JobID);
    const job = this.currentJob(ns, jobId);
    if (!job || job.Stop) {
      for (const a of this.liveAllocs(ns, jobId)) this.stopAlloc(a, job ? 'alloc not needed since job is stopped' : 'alloc not needed since job is purged');
      for (const d of this.jobDeployments(ns, jobId)) if (d.Status === 'running' || d.Status === 'paused') this.setDeployment(d, 'cancelled', 'Cancelled because job is stopped');
      this.updateEval(ev, { Status: 'complete', QueuedAllocations: {} });
      if (job) this.setJobStatus(job, 'dead');
      return;
    }
    // A deployment of this version is in flight: its watcher places the rest (promotion), nothing to do here.
    const active = this.jobDeployments(ns, jobId).find((d) => (d.Status === 'running' || d.Status === 'paused') && num(d.JobVersion) === num(job.Version));
    if (active && ev.TriggeredBy !== 'alloc-stop') {
      this.updateEval(ev, { Status: 'complete', DeploymentID: active.ID, QueuedAllocations: {} });
      return;
    }
    const failed: Obj = {};
    const queued: Record<string, number> = {};
    let deployment: Obj | undefined = active;
    for (const group of arr(job.TaskGroups)) {
      const gname = str(group.Name);
      const count = num(group.Count);
      const live = this.liveAllocs(ns, jobId, gname);
      const sameVersion = live.filter((a) => num((a.alloc.Job as Obj).Version) === num(job.Version) || !groupChanged(a.alloc.Job as Obj, job, gname));
      const older = live.filter((a) => !sameVersion.includes(a));
      // Allocations of an older version whose group did not change are updated in place.
      const inPlace = sameVersion.filter((a) => num((a.alloc.Job as Obj).Version) !== num(job.Version));
      const update = isObj(group.Update) && num(group.Update.MaxParallel) > 0 && job.Type === 'service' ? group.Update : undefined;
      const destructive = older.length > 0;
      const canaries = update && destructive ? num(update.Canary) : 0;
      // A rolling update (update block, no canary) replaces at most MaxParallel old allocations per pass (stop the old
      // one, place its successor); the deployment watcher continues as new ones turn healthy (rollOn). Placements
      // beyond the old allocations (scale up) are not limited, as in Nomad's reconciler.
      let rolling: AllocEntry[] | undefined;
      let toPlace = canaries > 0 ? Math.min(canaries, count) : Math.max(0, count - sameVersion.length);
      if (update && canaries === 0 && destructive) {
        const replaceable = Math.min(older.length, toPlace);
        rolling = older.slice(0, Math.min(Math.max(1, num(update.MaxParallel)), replaceable));
        for (const a of older.slice(replaceable)) this.stopAlloc(a, 'alloc not needed due to job update');
        toPlace = rolling.length + (toPlace - replaceable);
      }
      // Scale down: stop the extra allocations of the current version.
      if (sameVersion.length > count) for (const a of sameVersion.slice(count)) this.stopAlloc(a, 'alloc not needed due to job update');
      if (count === 0) for (const a of older) this.stopAlloc(a, 'alloc not needed due to job update');
      // Nomad creates one deployment per job version; replacements of a deployed version get none.
      const versionDeployed = this.jobDeployments(ns, jobId).some((d) => num(d.JobVersion) === num(job.Version));
      if (update && (toPlace > 0 || destructive || inPlace.length > 0) && !deployment && !versionDeployed) {
        for (const d of this.jobDeployments(ns, jobId)) if (d.Status === 'running' || d.Status === 'paused') this.setDeployment(d, 'cancelled', 'Cancelled due to newer version of job');
        deployment = this.createDeployment(job);
      }
      if (deployment && update && !(deployment.TaskGroups as Record<string, Obj>)[gname]) {
        const states = deployment.TaskGroups as Record<string, Obj>;
        states[gname] = {
          AutoRevert: update.AutoRevert === true, AutoPromote: undefined, DesiredCanaries: canaries, DesiredTotal: count, PlacedAllocs: 0, HealthyAllocs: 0, UnhealthyAllocs: 0,
          PlacedCanaries: canaries > 0 ? [] : null, Promoted: false, ProgressDeadline: num(update.ProgressDeadline), RequireProgressBy: ZERO_TIME,
        };
        delete states[gname].AutoPromote;
        this.armDeadline(deployment, gname);
      }
      for (const a of inPlace) {
        if (deployment && update) {
          this.patchAlloc(a, { Job: clone(job), DeploymentID: deployment.ID, DeploymentStatus: { Healthy: null, Timestamp: ZERO_TIME, Canary: false, ModifyIndex: 0 } });
          const s = (deployment.TaskGroups as Record<string, Obj>)[gname];
          if (s) s.PlacedAllocs = num(s.PlacedAllocs) + 1;
          this.after(1, () => this.markHealth(a, a.alloc.ClientStatus === 'running'));
        } else this.patchAlloc(a, { Job: clone(job) });
      }
      if (toPlace === 0) continue;
      const failure = this.placementFailure(job, group, toPlace);
      if (failure) {
        failed[gname] = failure;
        queued[gname] = toPlace;
        continue;
      }
      const replaced = this.replacing.get(str(ev.ID));
      this.replacing.delete(str(ev.ID));
      for (const a of rolling ?? []) this.stopAlloc(a, 'alloc is being updated due to job update');
      for (let i = 0; i < toPlace; i++) this.placeAlloc(job, group, ev, deployment, canaries > 0, (rolling ? rolling[i] : older[i]) ?? (i === 0 && replaced?.alloc.TaskGroup === gname ? replaced : undefined));
      queued[gname] = 0;
      if (!update && destructive) for (const a of older) this.stopAlloc(a, 'alloc is being updated due to job update');
    }
    const patch: Obj = { Status: 'complete', QueuedAllocations: queued, DeploymentID: deployment ? deployment.ID : '' };
    if (Object.keys(failed).length > 0) {
      const blocked = this.createBlockedEval(job, ev);
      patch.FailedTGAllocs = failed;
      patch.BlockedEval = blocked.ID;
      patch.StatusDescription = '';
    }
    this.updateEval(ev, patch);
    if (deployment) {
      this.publishDeployment(deployment);
      this.watchProgress(deployment);
    }
    if (!deployment && job.Type === 'service' && Object.keys(failed).length === 0 && this.liveAllocs(ns, jobId).length > 0) this.after(1, () => this.markStableIfRunning(job));
  }

  /**
   * deadlineMs is the real time a progress deadline lasts on the double's fast clock: one simulated minute of
   * deadline is one step (at least 4), plus 2 steps of slack. The deadline is a duration in nanoseconds, as in the API.
   */
  private deadlineMs(progressDeadlineNs: number): number {
    return (Math.max(4, Math.round(progressDeadlineNs / MINUTE)) + 2) * this.stepMs;
  }

  /**
   * armDeadline (re)starts a group's progress deadline from now, as Nomad does when the group's first allocation is
   * placed, whenever one of its allocations turns healthy, and when its canaries are promoted. `ProgressDeadline`
   * 0 means no deadline (`RequireProgressBy` stays Go's zero time).
   */
  private armDeadline(d: Obj, group: string): void {
    const s = (d.TaskGroups as Record<string, Obj>)[group];
    if (!s) return;
    const pd = num(s.ProgressDeadline);
    let perGroup = this.progressBy.get(str(d.ID));
    if (!perGroup) this.progressBy.set(str(d.ID), (perGroup = new Map()));
    if (pd <= 0) {
      perGroup.delete(group);
      s.RequireProgressBy = ZERO_TIME;
      return;
    }
    const due = Date.now() + this.deadlineMs(pd);
    perGroup.set(group, Math.max(due, perGroup.get(group) ?? 0));
    s.RequireProgressBy = new Date(perGroup.get(group) ?? due).toISOString();
  }

  private createBlockedEval(job: Obj, prev: Obj): Obj {
    const idx = this.bump('evals');
    const b: Obj = {
      ID: randomUUID(), Namespace: job.Namespace, Priority: job.Priority, Type: job.Type, TriggeredBy: 'queued-allocs', JobID: job.ID, JobModifyIndex: job.JobModifyIndex,
      NodeID: '', NodeModifyIndex: 0, DeploymentID: '', Status: 'blocked', StatusDescription: 'created to place remaining allocations', Wait: 0, WaitUntil: ZERO_TIME, NextEval: '',
      PreviousEval: prev.ID, BlockedEval: '', RelatedEvals: null, FailedTGAllocs: null, ClassEligibility: { 'v1:1234567890': true }, QuotaLimitReached: '', EscapedComputedClass: false,
      AnnotatePlan: false, QueuedAllocations: null, SnapshotIndex: idx, CreateIndex: idx, ModifyIndex: idx, CreateTime: nowNs(), ModifyTime: nowNs(),
    };
    this.evals.set(str(b.ID), b);
    this.publish('Evaluation', 'EvaluationUpdated', str(b.ID), str(job.Namespace), { Evaluation: b }, [str(job.ID)]);
    return b;
  }

  private createDeployment(job: Obj): Obj {
    const idx = this.bump('deployment');
    const d: Obj = {
      ID: randomUUID(), Namespace: job.Namespace, JobID: job.ID, JobVersion: job.Version, JobModifyIndex: job.JobModifyIndex, JobSpecModifyIndex: job.JobModifyIndex, JobCreateIndex: job.CreateIndex,
      IsMultiregion: false, TaskGroups: {}, Status: 'running', StatusDescription: 'Deployment is running', CreateIndex: idx, ModifyIndex: idx, CreateTime: nowNs(), ModifyTime: nowNs(),
    };
    this.deployments.set(str(d.ID), d);
    return d;
  }

  private publishDeployment(d: Obj): void {
    this.publish('Deployment', 'DeploymentStatusUpdate', str(d.ID), str(d.Namespace), { Deployment: d }, [str(d.JobID)]);
  }

  /** setDeployment moves a deployment to a status with Nomad's description. */
  setDeployment(d: Obj, status: string, description: string): void {
    d.Status = status;
    d.StatusDescription = description;
    d.ModifyIndex = this.bump('deployment');
    d.ModifyTime = nowNs();
    this.publishDeployment(d);
  }

  /** groupDone ports the deployment watcher's `doneGroups`: promoted (when it has canaries) and enough healthy allocations. */
  private groupDone(s: Obj): boolean {
    if (num(s.DesiredCanaries) > 0 && !s.Promoted) return false;
    return num(s.HealthyAllocs) >= num(s.DesiredTotal);
  }

  /**
   * watchProgress ports the deployment watcher's progress deadline: one timer per deployment, set to the earliest
   * `RequireProgressBy` of the groups that are not done; when it passes the deployment fails "due to progress
   * deadline". Groups waiting for promotion with every canary healthy do not fail. Simulated time only advances with
   * the simulation: allocations still on their way to a health verdict keep the deployment alive (a busy test
   * process delays timers), and the timer re-arms while deadlines move.
   */
  private watchProgress(d: Obj): void {
    const id = str(d.ID);
    if (this.watching.has(id)) return;
    this.watching.add(id);
    const check = (): void => {
      if (this.closed || d.Status !== 'running') {
        this.watching.delete(id);
        this.progressBy.delete(id);
        return;
      }
      const states = d.TaskGroups as Record<string, Obj>;
      const perGroup = this.progressBy.get(id) ?? new Map<string, number>();
      const pending = Object.entries(states).filter(([name, s]) => !this.groupDone(s) && perGroup.has(name)
        && !(num(s.DesiredCanaries) > 0 && !s.Promoted && num(s.HealthyAllocs) >= num(s.DesiredCanaries)));
      const next = Math.min(...pending.map(([name]) => perGroup.get(name) ?? Infinity));
      const now = Date.now();
      // A timer that fires more than a step late means the process was busy: transitions due before it have not
      // run yet, so simulated time has not reached the deadline (at most 5 checks in a row, so a process that stays
      // loaded still reaches its deadlines).
      const late = now - expected > this.stepMs && lateRuns < 5;
      lateRuns = late ? lateRuns + 1 : 0;
      const progressing = late || (this.placing.get(id) ?? 0) > 0 || [...this.allocs.values()].some((a) => a.alloc.DeploymentID === id && a.alloc.DesiredStatus === 'run'
        && !['failed', 'lost', 'complete'].includes(str(a.alloc.ClientStatus)) && (a.alloc.DeploymentStatus as Obj | null)?.Healthy === null);
      if (Number.isFinite(next) && next <= now && !progressing) {
        this.watching.delete(id);
        this.progressBy.delete(id);
        this.failDeployment(d, 'Failed due to progress deadline');
        return;
      }
      const wait = Number.isFinite(next) ? Math.max(this.stepMs, next - now) : this.stepMs * 4;
      expected = now + wait;
      this.afterMs(wait, check);
    };
    let expected = Date.now() + this.stepMs;
    let lateRuns = 0;
    this.afterMs(this.stepMs, check);
  }

  /** failDeployment fails a running deployment and, when its groups auto-revert, registers the last stable version again. */
  failDeployment(d: Obj, description: string): Obj {
    const ns = str(d.Namespace), jobId = str(d.JobID);
    const autoRevert = Object.values(d.TaskGroups as Record<string, Obj>).some((g) => g.AutoRevert === true);
    const entry = this.jobEntry(ns, jobId);
    const stable = entry?.versions.slice().reverse().find((v) => v.Stable === true && num(v.Version) < num(d.JobVersion));
    const result: Obj = {};
    if (autoRevert && stable) {
      this.setDeployment(d, 'failed', `${description} - rolling back to job version ${num(stable.Version)}`);
      const copy = clone(stable);
      const r = this.register(copy, { triggeredBy: 'job-register' });
      result.RevertedJobVersion = stable.Version;
      result.EvalID = r.EvalID;
      result.EvalCreateIndex = r.EvalCreateIndex;
    } else {
      this.setDeployment(d, 'failed', description);
      const job = this.currentJob(ns, jobId);
      if (job && num(job.Version) === num(d.JobVersion) && this.liveAllocs(ns, jobId).every((a) => a.alloc.DeploymentID === d.ID)) this.setJobStatus(job, 'pending');
    }
    result.DeploymentModifyIndex = d.ModifyIndex;
    return result;
  }

  /**
   * rollOn is the deployment watcher's next step of a rolling update (no canaries): one step later, while fewer than
   * MaxParallel of the deployment's allocations await a health verdict, it stops old allocations of the group and
   * places their successors (with an evaluation triggered by `deployment-watcher`, as Nomad records it).
   */
  private rollOn(d: Obj, gname: string): void {
    const ns = str(d.Namespace), jobId = str(d.JobID);
    const s = (d.TaskGroups as Record<string, Obj>)[gname];
    if (!s || num(s.DesiredCanaries) > 0) return;
    const pick = (): { job: Obj; group: Obj; old: AllocEntry[] } | undefined => {
      const job = this.currentJob(ns, jobId);
      if (!job || d.Status !== 'running' || num(job.Version) !== num(d.JobVersion)) return undefined;
      const group = arr(job.TaskGroups).find((g) => g.Name === gname);
      if (!group || !isObj(group.Update)) return undefined;
      const live = this.liveAllocs(ns, jobId, gname);
      const mine = live.filter((a) => a.alloc.DeploymentID === d.ID);
      const inflight = mine.filter((a) => (a.alloc.DeploymentStatus as Obj | null)?.Healthy !== true).length;
      const old = live.filter((a) => a.alloc.DeploymentID !== d.ID && groupChanged(a.alloc.Job as Obj, job, gname));
      const room = Math.min(Math.max(1, num(group.Update.MaxParallel)) - inflight, old.length, num(group.Count) - mine.length);
      return room > 0 ? { job, group, old: old.slice(0, room) } : undefined;
    };
    const first = pick();
    if (!first) return;
    const ev = this.createEval(first.job, 'deployment-watcher', { DeploymentID: d.ID });
    this.placing.set(str(d.ID), (this.placing.get(str(d.ID)) ?? 0) + 1);
    this.after(1, () => {
      const left = (this.placing.get(str(d.ID)) ?? 1) - 1;
      if (left > 0) this.placing.set(str(d.ID), left);
      else this.placing.delete(str(d.ID));
      const next = pick();
      if (!next) return;
      for (const a of next.old) {
        this.stopAlloc(a, 'alloc is being updated due to job update');
        this.placeAlloc(next.job, next.group, ev, d, false, a);
      }
      d.ModifyIndex = this.bump('deployment');
      this.publishDeployment(d);
    });
  }

  /** promote promotes the canaries of a deployment (all groups or the named ones) and places the rest. */
  promote(d: Obj, groups: string[] | 'all'): Obj {
    if (d.Status !== 'running') throw new DoubleError(500, `can't promote terminal deployment`);
    const states = d.TaskGroups as Record<string, Obj>;
    const names = groups === 'all' ? Object.keys(states) : groups;
    const withCanaries = names.filter((n) => num(states[n]?.DesiredCanaries) > 0);
    if (withCanaries.length === 0) throw new DoubleError(500, 'no canaries to promote');
    for (const n of withCanaries) {
      const s = states[n];
      if (!s) continue;
      const placed = Array.isArray(s.PlacedCanaries) ? (s.PlacedCanaries as string[]) : [];
      const healthy = placed.filter((id) => (this.allocs.get(id)?.alloc.DeploymentStatus as Obj | null)?.Healthy === true).length;
      if (healthy < num(s.DesiredCanaries)) throw new DoubleError(500, `Task group "${n}" has ${healthy}/${num(s.DesiredCanaries)} healthy allocations`);
    }
    const job = this.currentJob(str(d.Namespace), str(d.JobID));
    d.StatusDescription = 'Deployment is running';
    for (const n of withCanaries) {
      const s = states[n];
      if (!s) continue;
      s.Promoted = true;
      this.armDeadline(d, n);
    }
    d.ModifyIndex = this.bump('deployment');
    this.publish('Deployment', 'DeploymentPromotion', str(d.ID), str(d.Namespace), { Deployment: d }, [str(d.JobID)]);
    const ev = job ? this.createEval(job, 'deployment-watcher', { DeploymentID: d.ID }) : undefined;
    if (job) {
      this.placing.set(str(d.ID), (this.placing.get(str(d.ID)) ?? 0) + 1);
      this.after(1, () => {
        const left = (this.placing.get(str(d.ID)) ?? 1) - 1;
        if (left > 0) this.placing.set(str(d.ID), left);
        else this.placing.delete(str(d.ID));
        for (const n of withCanaries) {
          const group = arr(job.TaskGroups).find((g) => g.Name === n);
          const s = states[n];
          if (!group || !s) continue;
          const current = this.liveAllocs(str(d.Namespace), str(d.JobID), n).filter((a) => a.alloc.DeploymentID === d.ID).length;
          const older = this.liveAllocs(str(d.Namespace), str(d.JobID), n).filter((a) => a.alloc.DeploymentID !== d.ID);
          for (let i = 0; i < num(s.DesiredTotal) - current; i++) this.placeAlloc(job, group, ev ?? {}, d, false, older[i]);
        }
        this.publishDeployment(d);
        // Nothing left to place (every instance was a canary): the deployment completes now, as Nomad's watcher does.
        this.checkDeployment(d);
      });
    }
    return { EvalID: ev?.ID ?? '', EvalCreateIndex: ev?.CreateIndex ?? 0, DeploymentModifyIndex: d.ModifyIndex, Index: this.index };
  }

  // ----- allocations -----

  private placeAlloc(job: Obj, group: Obj, ev: Obj, deployment: Obj | undefined, canary: boolean, previous?: AllocEntry): void {
    const node = this.pickNode(job, group);
    const gname = str(group.Name);
    const existingIdx = new Set([...this.allocs.values()].filter((a) => a.alloc.JobID === job.ID && a.alloc.Namespace === job.Namespace && a.alloc.TaskGroup === gname && a.alloc.DesiredStatus === 'run' && !['complete', 'failed', 'lost'].includes(str(a.alloc.ClientStatus))).map((a) => str(a.alloc.Name)));
    let i = 0;
    while (existingIdx.has(`${str(job.ID)}.${gname}[${i}]`)) i++;
    const idx = this.bump('allocs', 'summary');
    const now = nowNs();
    const tasks = arr(group.Tasks);
    const ports = arr(arr(group.Networks)[0]?.DynamicPorts).map((p, pi) => ({ Label: str(p.Label), Value: 20000 + ((idx * 7 + pi) % 12000), To: num(p.To), HostIP: str((node.Attributes as Obj)['unique.network.ip-address']) }));
    const alloc: Obj = {
      ID: randomUUID(), Namespace: job.Namespace, EvalID: ev.ID ?? '', Name: `${str(job.ID)}.${gname}[${i}]`, NodeID: node.ID, NodeName: node.Name, JobID: job.ID, Job: clone(job), TaskGroup: gname,
      Resources: null, TaskResources: null,
      AllocatedResources: {
        Tasks: Object.fromEntries(tasks.map((t) => [str(t.Name), { Cpu: { CpuShares: num((t.Resources as Obj | undefined)?.CPU, 100) }, Memory: { MemoryMB: num((t.Resources as Obj | undefined)?.MemoryMB, 300), MemoryMaxMB: num((t.Resources as Obj | undefined)?.MemoryMaxMB) }, Networks: null, Devices: null }])),
        Shared: { DiskMB: num((group.EphemeralDisk as Obj | undefined)?.SizeMB, 300), Networks: arr(group.Networks).length ? [{ Mode: str(arr(group.Networks)[0]?.Mode, 'host'), IP: str((node.Attributes as Obj)['unique.network.ip-address']), DynamicPorts: ports.map((p) => ({ Label: p.Label, Value: p.Value, To: p.To, HostNetwork: 'default' })), ReservedPorts: null, MBits: 0 }] : null, Ports: ports.length ? ports : null },
      },
      Services: null, Metrics: { NodesEvaluated: this.nodes.length, NodesFiltered: 0, NodesInPool: this.nodes.length, NodePool: str(job.NodePool, 'default'), NodesAvailable: { dc1: this.nodes.length }, ClassFiltered: null, ConstraintFiltered: null, NodesExhausted: 0, ClassExhausted: null, DimensionExhausted: null, QuotaExhausted: null, ResourcesExhausted: null, Scores: null, ScoreMetaData: [{ NodeID: node.ID, NormScore: 0.72, Scores: { binpack: 0.72, 'job-anti-affinity': 0 } }], AllocationTime: 95_000, CoalescedFailures: 0 },
      DesiredStatus: 'run', DesiredDescription: '', DesiredTransition: { Migrate: null, Reschedule: null, ForceReschedule: null, NoShutdownDelay: null, MigrateDisablePlacement: null },
      ClientStatus: 'pending', ClientDescription: 'No tasks have started',
      TaskStates: Object.fromEntries(tasks.map((t) => [str(t.Name), { State: 'pending', Failed: false, Restarts: 0, LastRestart: ZERO_TIME, StartedAt: ZERO_TIME, FinishedAt: ZERO_TIME, Events: [taskEvent('Received', 'Task received by client')] }])),
      DeploymentID: deployment?.ID ?? '', DeploymentStatus: deployment ? { Healthy: null, Timestamp: ZERO_TIME, Canary: canary, ModifyIndex: 0 } : null,
      PreviousAllocation: previous ? previous.alloc.ID : '', NextAllocation: '', FollowupEvalID: '', PreemptedAllocations: null, PreemptedByAllocation: '', RescheduleTracker: null, NetworkStatus: null,
      CreateIndex: idx, ModifyIndex: idx, AllocModifyIndex: idx, CreateTime: now, ModifyTime: now,
    };
    const entry: AllocEntry = { alloc, logs: new Map(), files: new Map(), scenario: this.scenarioFor(job), group, stepsRunning: 0 };
    this.allocs.set(str(alloc.ID), entry);
    if (previous) previous.alloc.NextAllocation = alloc.ID;
    if (deployment) {
      const s = (deployment.TaskGroups as Record<string, Obj>)[gname];
      if (s) {
        s.PlacedAllocs = num(s.PlacedAllocs) + 1;
        if (canary && Array.isArray(s.PlacedCanaries)) (s.PlacedCanaries as string[]).push(str(alloc.ID));
      }
    }
    this.publishAlloc(entry);
    this.after(1, () => this.startAlloc(entry));
  }

  private publishAlloc(a: AllocEntry, type = 'AllocationUpdated'): void {
    this.publish('Allocation', type, str(a.alloc.ID), str(a.alloc.Namespace), { Allocation: this.allocStub(a) }, [str(a.alloc.JobID), str(a.alloc.DeploymentID)].filter(Boolean));
  }

  private patchAlloc(a: AllocEntry, patch: Obj): void {
    Object.assign(a.alloc, patch);
    const idx = this.bump('allocs', 'summary');
    a.alloc.ModifyIndex = idx;
    a.alloc.ModifyTime = nowNs();
    this.publishAlloc(a);
  }

  /**
   * appendLog appends text to a task's stdout or stderr and wakes log followers. Like Nomad's file rotator, a write
   * that would take the current file past its size limit fills it up and goes on in a new file; files beyond the
   * task's MaxFiles are deleted (oldest first).
   */
  appendLog(a: AllocEntry, task: string, type: 'stdout' | 'stderr', text: string): void {
    const k = `${task}.${type}`;
    const lf = this.logFiles(a, k);
    const { maxFileBytes } = this.logLimits(a, task);
    let rest = Buffer.from(text, 'utf8');
    do {
      const cur = lf.files.get(lf.current) ?? Buffer.alloc(0);
      const room = maxFileBytes - cur.length;
      if (room <= 0) {
        this.rotate(a, task, lf);
        continue;
      }
      lf.files.set(lf.current, Buffer.concat([cur, rest.subarray(0, room)]));
      rest = rest.subarray(room);
    } while (rest.length > 0);
    this.emitter.emit('log', str(a.alloc.ID), k);
  }

  /** rotateLog starts a new log file for a task's stream now (as reaching the size limit would) and wakes followers. */
  rotateLog(a: AllocEntry, task: string, type: 'stdout' | 'stderr'): void {
    const k = `${task}.${type}`;
    this.rotate(a, task, this.logFiles(a, k));
    this.emitter.emit('log', str(a.alloc.ID), k);
  }

  /** logLimit overrides every task's LogConfig (tests rotate small files); undefined fields keep the task's own. */
  logLimit: { maxFileBytes?: number; maxFiles?: number } = {};

  private logFiles(a: AllocEntry, k: string): LogFiles {
    let lf = a.logs.get(k);
    if (!lf) {
      lf = { files: new Map([[0, Buffer.alloc(0)]]), current: 0 };
      a.logs.set(k, lf);
    }
    return lf;
  }

  private logLimits(a: AllocEntry, task: string): { maxFileBytes: number; maxFiles: number } {
    const t = arr(a.group.Tasks).find((x) => x.Name === task);
    const lc = (t?.LogConfig ?? {}) as Obj;
    return {
      maxFileBytes: Math.max(1, this.logLimit.maxFileBytes ?? (num(lc.MaxFileSizeMB) || 10) * 1024 * 1024),
      maxFiles: Math.max(1, this.logLimit.maxFiles ?? (num(lc.MaxFiles) || 10)),
    };
  }

  private rotate(a: AllocEntry, task: string, lf: LogFiles): void {
    lf.current += 1;
    lf.files.set(lf.current, Buffer.alloc(0));
    const { maxFiles } = this.logLimits(a, task);
    for (const i of [...lf.files.keys()]) if (i <= lf.current - maxFiles) lf.files.delete(i);
  }

  private taskPush(a: AllocEntry, task: string, ev: Obj, patch: Obj = {}): void {
    const ts = (a.alloc.TaskStates as Record<string, Obj>)[task];
    if (!ts) return;
    (ts.Events as Obj[]).push(ev);
    Object.assign(ts, patch);
  }

  private startAlloc(a: AllocEntry): void {
    if (a.alloc.DesiredStatus !== 'run') return;
    const job = a.alloc.Job as Obj;
    const tasks = arr(a.group.Tasks);
    for (const t of tasks) {
      const name = str(t.Name);
      const image = str((t.Config as Obj | undefined)?.image, str(arr(t.Artifacts)[0]?.GetterSource, str(t.Driver)));
      this.taskPush(a, name, taskEvent('Task Setup', 'Building Task Directory'));
      if (t.Driver === 'docker') this.taskPush(a, name, taskEvent('Driver', `Downloading image`, { DriverMessage: 'Downloading image' }));
      if (a.scenario === 'pull-fail') {
        const msg = `Failed to pull \`${image}\`: Error response from daemon: pull access denied for ${image.split(':')[0]}, repository does not exist or may require 'docker login': denied: requested access to the resource is denied`;
        this.taskPush(a, name, taskEvent('Driver Failure', msg, { DriverError: msg, FailsTask: true }));
        this.taskPush(a, name, taskEvent('Not Restarting', 'Error was unrecoverable', { FailsTask: true }), { State: 'dead', Failed: true, FinishedAt: new Date().toISOString() });
      } else {
        this.taskPush(a, name, taskEvent('Started', 'Task started by client'), { State: 'running', StartedAt: new Date().toISOString() });
        const port = ((a.alloc.AllocatedResources as Obj).Shared as Obj).Ports as Obj[] | null;
        this.appendLog(a, name, 'stdout', `${new Date().toISOString()} starting ${image}\n${new Date().toISOString()} listening on 0.0.0.0:${num(port?.[0]?.To) || num(port?.[0]?.Value) || 8080}\n`);
        this.appendLog(a, name, 'stderr', '');
      }
    }
    if (a.scenario === 'pull-fail') {
      for (const t of tasks) this.appendLog(a, str(t.Name), 'stderr', '');
      this.patchAlloc(a, { ClientStatus: 'failed', ClientDescription: 'Failed tasks' });
      this.after(1, () => this.markHealth(a, false));
      this.deadIfDone(a);
      return;
    }
    this.patchAlloc(a, { ClientStatus: 'running', ClientDescription: 'Tasks are running' });
    const jobStatus = this.currentJob(str(job.Namespace), str(job.ID));
    if (jobStatus && jobStatus.Status === 'pending' && num(jobStatus.Version) === num(job.Version)) this.setJobStatus(jobStatus, 'running');
    if (job.Type === 'batch' || job.Type === 'sysbatch') {
      const ns = str(job.Namespace, 'default'), id = str(job.ID);
      const gate = this.batchGates.find((g) => id.startsWith(g.prefix) && (g.namespace === undefined || g.namespace === ns))?.gate;
      if (!gate) {
        this.after(1, () => this.finishBatch(a));
        return;
      }
      Promise.resolve().then(() => gate({ id: str(a.alloc.ID), jobId: id, namespace: ns })).then(
        (s) => { if (s) a.scenario = s; },
        () => { a.scenario = 'crash'; },
      ).finally(() => this.after(1, () => this.finishBatch(a)));
      return;
    }
    if (a.scenario === 'oom' || a.scenario === 'crash') {
      this.after(1, () => this.crashLoop(a));
      return;
    }
    if (a.scenario === 'unhealthy') {
      this.after(1, () => this.failChecks(a));
      return;
    }
    this.after(1, () => this.markHealth(a, true));
  }

  private finishBatch(a: AllocEntry): void {
    if (a.alloc.DesiredStatus !== 'run') return;
    const failingScenario = a.scenario === 'oom' || a.scenario === 'crash' || a.scenario === 'unhealthy';
    let anyFailed = false;
    for (const t of arr(a.group.Tasks)) {
      const name = str(t.Name);
      // Poststop tasks run (and succeed) after a failed main task too, as in Nomad.
      const poststop = str((t.Lifecycle as Obj | undefined)?.Hook) === 'poststop';
      const failing = failingScenario && !poststop;
      const code = failing ? (a.scenario === 'oom' ? 137 : 1) : 0;
      anyFailed ||= failing;
      this.appendLog(a, name, failing ? 'stderr' : 'stdout', failing ? (a.scenario === 'oom' ? 'Killed\n' : 'error: job failed\n') : `${new Date().toISOString()} done\n`);
      const oom = failing && a.scenario === 'oom';
      this.taskPush(a, name, taskEvent('Terminated', oom ? 'OOM Killed' : `Exit Code: ${code}`, { ExitCode: code, Details: { exit_code: String(code), signal: '0', oom_killed: String(oom) } }));
      if (failing) this.taskPush(a, name, taskEvent('Not Restarting', 'Exceeded allowed attempts 3 in interval 24h0m0s and mode is "fail"', { FailsTask: true }));
      Object.assign((a.alloc.TaskStates as Record<string, Obj>)[name] ?? {}, { State: 'dead', Failed: failing, FinishedAt: new Date().toISOString() });
    }
    this.patchAlloc(a, { ClientStatus: anyFailed ? 'failed' : 'complete', ClientDescription: anyFailed ? 'Failed tasks' : 'All tasks have completed' });
    this.deadIfDone(a);
  }

  private deadIfDone(a: AllocEntry): void {
    const job = this.currentJob(str(a.alloc.Namespace), str(a.alloc.JobID));
    if (job && (job.Type === 'batch' || job.Type === 'sysbatch') && this.liveAllocs(str(job.Namespace), str(job.ID)).length === 0) this.setJobStatus(job, 'dead');
  }

  private crashLoop(a: AllocEntry): void {
    if (a.alloc.DesiredStatus !== 'run') return;
    const rp = (arr(a.group.Tasks)[0]?.RestartPolicy as Obj | undefined) ?? (a.group.RestartPolicy as Obj | undefined) ?? {};
    const attempts = num(rp.Attempts, 2), interval = num(rp.Interval, 30 * MINUTE), delay = num(rp.Delay, 15 * SECOND);
    const oom = a.scenario === 'oom';
    for (const t of arr(a.group.Tasks)) {
      const name = str(t.Name);
      const mem = num((t.Resources as Obj | undefined)?.MemoryMB, 300);
      for (let i = 0; i <= attempts; i++) {
        if (oom) this.appendLog(a, name, 'stderr', `allocating buffer of ${mem * 2} MiB\nKilled\n`);
        else this.appendLog(a, name, 'stderr', `panic: runtime error: invalid memory address or nil pointer dereference\n`);
        this.taskPush(a, name, taskEvent('Terminated', oom ? 'OOM Killed' : 'Exit Code: 1', { ExitCode: oom ? 137 : 1, Signal: 0, Details: { exit_code: oom ? '137' : '1', signal: '0', oom_killed: String(oom) } }));
        if (i < attempts) {
          this.taskPush(a, name, taskEvent('Restarting', `Task restarting in ${goDuration(delay)}`, { RestartReason: 'Restart within policy', StartDelay: delay }), { Restarts: i + 1, LastRestart: new Date().toISOString() });
          this.taskPush(a, name, taskEvent('Started', 'Task started by client'));
        }
      }
      this.taskPush(a, name, taskEvent('Not Restarting', `Exceeded allowed attempts ${attempts} in interval ${goDuration(interval)} and mode is "fail"`, { FailsTask: true }), { State: 'dead', Failed: true, FinishedAt: new Date().toISOString() });
    }
    this.patchAlloc(a, { ClientStatus: 'failed', ClientDescription: 'Failed tasks' });
    this.after(1, () => this.markHealth(a, false));
  }

  private failChecks(a: AllocEntry): void {
    if (a.alloc.DesiredStatus !== 'run') return;
    const update = (a.group.Update as Obj | undefined) ?? {};
    const service = arr(a.group.Services)[0] ?? arr(arr(a.group.Tasks)[0]?.Services)[0];
    const check = arr(service?.Checks)[0];
    const port = (((a.alloc.AllocatedResources as Obj).Shared as Obj).Ports as Obj[] | null)?.[0];
    const output = check ? `HTTP GET http://${str(port?.HostIP, '10.0.0.11')}:${num(port?.Value, 20000)}${str(check.Path, '/')}: 503 Service Unavailable Output: upstream not ready` : 'task is not running';
    for (const t of arr(a.group.Tasks)) {
      const name = str(t.Name);
      this.appendLog(a, name, 'stderr', `${new Date().toISOString()} health check "${str(check?.Name, 'service check')}" failing: ${output}\n`);
    }
    const mht = num(update.MinHealthyTime, 10 * SECOND), hd = num(update.HealthyDeadline, 5 * MINUTE);
    const first = str(arr(a.group.Tasks)[0]?.Name);
    this.taskPush(a, first, taskEvent('Alloc Unhealthy', `Task not running for min_healthy_time of ${goDuration(mht)} by healthy_deadline of ${goDuration(hd)}`, { Details: { check: str(check?.Name), output } }));
    this.markHealth(a, false, false);
  }

  private markHealth(a: AllocEntry, healthy: boolean, failFast = true): void {
    if (a.alloc.DesiredStatus !== 'run' && healthy) return;
    if (!a.alloc.DeploymentStatus) {
      if (healthy) this.maybeStable(a);
      return;
    }
    const ds = a.alloc.DeploymentStatus as Obj;
    this.patchAlloc(a, { DeploymentStatus: { ...ds, Healthy: healthy, Timestamp: new Date().toISOString(), ModifyIndex: this.index + 1 } });
    const d = this.deployments.get(str(a.alloc.DeploymentID));
    if (!d || d.Status !== 'running') return;
    const s = (d.TaskGroups as Record<string, Obj>)[str(a.alloc.TaskGroup)];
    if (!s) return;
    if (healthy) {
      s.HealthyAllocs = num(s.HealthyAllocs) + 1;
      this.armDeadline(d, str(a.alloc.TaskGroup));
      this.rollOn(d, str(a.alloc.TaskGroup));
    } else s.UnhealthyAllocs = num(s.UnhealthyAllocs) + 1;
    d.ModifyIndex = this.bump('deployment');
    this.publish('Deployment', 'DeploymentAllocHealth', str(d.ID), str(d.Namespace), { Deployment: d }, [str(d.JobID)]);
    if (!healthy) {
      // Nomad fails the deployment at the progress deadline; with no deadline, the first failure fails it.
      if (failFast && num(s.ProgressDeadline) === 0) this.failDeployment(d, 'Failed due to unhealthy allocations');
      else if (failFast) this.after(2, () => { if (d.Status === 'running') this.failDeployment(d, 'Failed due to unhealthy allocations'); });
      return;
    }
    this.checkDeployment(d);
  }

  private checkDeployment(d: Obj): void {
    if (d.Status !== 'running') return;
    const states = d.TaskGroups as Record<string, Obj>;
    let done = true;
    for (const [name, s] of Object.entries(states)) {
      const canaries = num(s.DesiredCanaries);
      if (canaries > 0 && !s.Promoted) {
        done = false;
        if (num(s.HealthyAllocs) >= canaries) {
          const group = arr(this.currentJob(str(d.Namespace), str(d.JobID))?.TaskGroups).find((g) => g.Name === name);
          const auto = (group?.Update as Obj | undefined)?.AutoPromote === true;
          if (auto) {
            if (d.StatusDescription !== 'Deployment is running pending automatic promotion') this.setDeployment(d, 'running', 'Deployment is running pending automatic promotion');
            this.after(1, () => {
              if (d.Status !== 'running' || s.Promoted) return;
              try {
                this.promote(d, [name]);
              } catch {
                // a canary turned unhealthy (or Drover promoted) in the meantime: the watcher decides on the next change
              }
            });
          } else if (d.StatusDescription !== 'Deployment is running but requires manual promotion') this.setDeployment(d, 'running', 'Deployment is running but requires manual promotion');
        }
        continue;
      }
      if (num(s.HealthyAllocs) < num(s.DesiredTotal)) done = false;
    }
    if (!done) return;
    this.after(1, () => {
      if (d.Status !== 'running') return;
      this.setDeployment(d, 'successful', 'Deployment completed successfully');
      const ns = str(d.Namespace), jobId = str(d.JobID);
      for (const a of this.liveAllocs(ns, jobId)) if (a.alloc.DeploymentID !== d.ID && num((a.alloc.Job as Obj).Version) !== num(d.JobVersion)) this.stopAlloc(a, 'alloc is being updated due to job update');
      const v = this.jobEntry(ns, jobId)?.versions.find((x) => num(x.Version) === num(d.JobVersion));
      if (v) {
        v.Stable = true;
        v.ModifyIndex = this.bump('jobs');
        this.publish('Job', 'JobRegistered', jobId, ns, { Job: v });
        this.setJobStatus(v, 'running');
      }
    });
  }

  private maybeStable(a: AllocEntry): void {
    const job = this.currentJob(str(a.alloc.Namespace), str(a.alloc.JobID));
    if (job && job.Type === 'service' && num((a.alloc.Job as Obj).Version) === num(job.Version)) this.markStableIfRunning(job);
  }

  private markStableIfRunning(job: Obj): void {
    const live = this.liveAllocs(str(job.Namespace), str(job.ID));
    if (live.length > 0 && live.every((a) => a.alloc.ClientStatus === 'running') && job.Stable !== true) {
      job.Stable = true;
      job.ModifyIndex = this.bump('jobs');
      this.setJobStatus(job, 'running');
    }
  }

  /** setJobStatus sets a job's status (pending, running, dead) and publishes it. */
  setJobStatus(job: Obj, status: string): void {
    if (job.Status === status) return;
    job.Status = status;
    job.ModifyIndex = this.bump('jobs', 'summary');
    this.publish('Job', 'JobRegistered', str(job.ID), str(job.Namespace), { Job: job });
    if (status === 'dead' && job.ParentID) {
      const parent = this.currentJob(str(job.Namespace), str(job.ParentID));
      if (parent) parent.ModifyIndex = this.bump('jobs', 'summary');
    }
  }

  /** stopAlloc marks an allocation stopped (desired stop) and completes it one step later. */
  stopAlloc(a: AllocEntry, description: string, transition: Obj = {}): void {
    if (a.alloc.DesiredStatus !== 'run') return;
    this.patchAlloc(a, { DesiredStatus: 'stop', DesiredDescription: description, DesiredTransition: { ...(a.alloc.DesiredTransition as Obj), ...transition } });
    this.after(1, () => {
      if (['complete', 'failed', 'lost'].includes(str(a.alloc.ClientStatus))) return;
      for (const [name, ts] of Object.entries(a.alloc.TaskStates as Record<string, Obj>)) {
        (ts.Events as Obj[]).push(taskEvent('Killing', 'Sent interrupt. Waiting 5s before force killing', { KillTimeout: 5 * SECOND }));
        (ts.Events as Obj[]).push(taskEvent('Killed', 'Task successfully killed'));
        Object.assign(ts, { State: 'dead', FinishedAt: new Date().toISOString() });
        this.appendLog(a, name, 'stdout', `${new Date().toISOString()} received SIGINT, shutting down\n`);
      }
      this.patchAlloc(a, { ClientStatus: 'complete', ClientDescription: 'All tasks have completed' });
    });
  }

  /** restartAlloc restarts one task or all tasks of a running allocation, with Nomad's task events. */
  restartAlloc(a: AllocEntry, task: string, all: boolean): void {
    if (a.alloc.ClientStatus !== 'running') throw new DoubleError(500, `Task not running`);
    const states = a.alloc.TaskStates as Record<string, Obj>;
    const names = all || task === '' ? Object.keys(states) : [task];
    for (const n of names) {
      const ts = states[n];
      if (!ts) throw new DoubleError(500, `Failed to restart task "${n}": unknown task`);
      (ts.Events as Obj[]).push(taskEvent('Restart Signaled', 'User requested restart', { RestartReason: 'User requested restart' }));
      (ts.Events as Obj[]).push(taskEvent('Terminated', 'Exit Code: 0', { ExitCode: 0, Details: { exit_code: '0', signal: '0', oom_killed: 'false' } }));
      (ts.Events as Obj[]).push(taskEvent('Restarting', 'Task restarting in 0s', { RestartReason: 'User requested restart', StartDelay: 0 }));
      (ts.Events as Obj[]).push(taskEvent('Started', 'Task started by client'));
      ts.Restarts = num(ts.Restarts) + 1;
      ts.LastRestart = new Date().toISOString();
      this.appendLog(a, n, 'stdout', `${new Date().toISOString()} restarted\n`);
    }
    this.patchAlloc(a, {});
  }

  /** stopAllocAndReplace stops one allocation and schedules a replacement (Nomad's alloc stop). */
  stopAllocAndReplace(a: AllocEntry): Obj {
    this.stopAlloc(a, 'alloc is being migrated', { Migrate: true });
    const job = this.currentJob(str(a.alloc.Namespace), str(a.alloc.JobID));
    const ev = job ? this.createEval(job, 'alloc-stop') : undefined;
    if (ev) this.replacing.set(str(ev.ID), a);
    return { EvalID: ev?.ID ?? '', Index: this.index };
  }

  // ----- summaries and stubs -----

  /** allocStub returns an allocation as `AllocationListStub`. */
  allocStub(a: AllocEntry, withTaskStates = true): Obj {
    const x = a.alloc;
    return {
      ID: x.ID, EvalID: x.EvalID, Name: x.Name, Namespace: x.Namespace, NodeID: x.NodeID, NodeName: x.NodeName, JobID: x.JobID, JobType: (x.Job as Obj).Type, JobVersion: (x.Job as Obj).Version,
      TaskGroup: x.TaskGroup, AllocatedResources: x.AllocatedResources, DesiredStatus: x.DesiredStatus, DesiredDescription: x.DesiredDescription, ClientStatus: x.ClientStatus, ClientDescription: x.ClientDescription,
      TaskStates: withTaskStates ? x.TaskStates : null, DeploymentStatus: x.DeploymentStatus, FollowupEvalID: x.FollowupEvalID, NextAllocation: x.NextAllocation, RescheduleTracker: x.RescheduleTracker,
      PreemptedAllocations: x.PreemptedAllocations, PreemptedByAllocation: x.PreemptedByAllocation, CreateIndex: x.CreateIndex, ModifyIndex: x.ModifyIndex, CreateTime: x.CreateTime, ModifyTime: x.ModifyTime,
    };
  }

  /** jobSummary computes `JobSummary` for a job. */
  jobSummary(job: Obj): Obj {
    const ns = str(job.Namespace), id = str(job.ID);
    const summary: Record<string, Obj> = {};
    for (const g of arr(job.TaskGroups)) summary[str(g.Name)] = { Queued: 0, Complete: 0, Failed: 0, Running: 0, Starting: 0, Lost: 0, Unknown: 0 };
    for (const a of this.allocs.values()) {
      if (a.alloc.Namespace !== ns || a.alloc.JobID !== id) continue;
      const s = summary[str(a.alloc.TaskGroup)];
      if (!s) continue;
      const cs = str(a.alloc.ClientStatus);
      const k = cs === 'pending' ? 'Starting' : cs === 'running' ? 'Running' : cs === 'complete' ? 'Complete' : cs === 'failed' ? 'Failed' : cs === 'lost' ? 'Lost' : 'Unknown';
      s[k] = num(s[k]) + 1;
    }
    const lastEval = [...this.evals.values()].filter((e) => e.Namespace === ns && e.JobID === id && e.Status === 'complete').sort((a, b) => num(b.CreateIndex) - num(a.CreateIndex))[0];
    for (const [g, q] of Object.entries((lastEval?.QueuedAllocations as Record<string, number> | null) ?? {})) if (summary[g]) summary[g].Queued = q;
    const children = { Pending: 0, Running: 0, Dead: 0 };
    for (const e of this.jobs.values()) {
      const c = e.versions[e.versions.length - 1];
      if (!c || c.ParentID !== id || c.Namespace !== ns) continue;
      if (c.Status === 'dead') children.Dead++;
      else if (c.Status === 'running') children.Running++;
      else children.Pending++;
    }
    return { JobID: id, Namespace: ns, Summary: summary, Children: children, CreateIndex: job.CreateIndex, ModifyIndex: this.tableIndex('summary') };
  }

  /** jobStub returns a job as `JobListStub`. */
  jobStub(job: Obj): Obj {
    return {
      ID: job.ID, ParentID: str(job.ParentID), Name: job.Name, Namespace: job.Namespace, Datacenters: job.Datacenters, Type: job.Type, Priority: job.Priority, Periodic: isObj(job.Periodic),
      ParameterizedJob: isObj(job.ParameterizedJob), Stop: job.Stop === true, Status: job.Status, StatusDescription: str(job.StatusDescription), Meta: job.Meta ?? null,
      JobSummary: this.jobSummary(job), CreateIndex: job.CreateIndex, ModifyIndex: job.ModifyIndex, JobModifyIndex: job.JobModifyIndex, SubmitTime: job.SubmitTime,
    };
  }

  // ----- periodic, dispatch, scale, revert, deregister -----

  /** forcePeriodic launches a child `<id>/periodic-<unix>` of a periodic job now. */
  forcePeriodic(ns: string, id: string): Obj {
    const job = this.currentJob(ns, id);
    if (!job) throw new DoubleError(404, 'job not found');
    if (!isObj(job.Periodic)) throw new DoubleError(400, "can't force launch non-periodic job");
    let t = Math.floor(Date.now() / 1000);
    while (this.currentJob(ns, `${id}/periodic-${t}`)) t++;
    const child = clone(job);
    child.ID = `${id}/periodic-${t}`;
    child.Name = child.ID;
    child.ParentID = id;
    child.Periodic = null;
    delete child.Version;
    const r = this.register(child, { triggeredBy: 'periodic-job' });
    job.ModifyIndex = this.bump('jobs', 'summary');
    return { EvalID: r.EvalID, EvalCreateIndex: r.EvalCreateIndex, Index: this.index, childId: child.ID };
  }

  /** launchDuePeriodic launches every enabled periodic job whose next cron time falls before `now` (fast clock). */
  launchDuePeriodic(now: Date, last: Map<string, number>): void {
    for (const [k, e] of this.jobs) {
      const job = e.versions[e.versions.length - 1];
      if (!job || !isObj(job.Periodic) || job.Periodic.Enabled === false || job.Stop) continue;
      const next = nextLaunch(job.Periodic, new Date(last.get(k) ?? num(job.SubmitTime) / 1_000_000));
      if (next && next.getTime() <= now.getTime()) {
        last.set(k, next.getTime());
        this.forcePeriodic(str(job.Namespace), str(job.ID));
      }
    }
  }

  /** dispatch launches a child of a parameterized job. */
  dispatch(ns: string, id: string, body: Obj, idempotencyToken = ''): Obj {
    const job = this.currentJob(ns, id);
    if (!job) throw new DoubleError(404, 'job not found');
    const pj = job.ParameterizedJob;
    if (!isObj(pj)) throw new DoubleError(400, `Specified job "${id}" is not a parameterized job`);
    if (idempotencyToken !== '') {
      // A child with the same token that has not been garbage collected is returned instead of a new one.
      for (const e of this.jobs.values()) {
        const c = e.versions[e.versions.length - 1];
        if (c && c.Namespace === ns && c.ParentID === id && c.DispatchIdempotencyToken === idempotencyToken) {
          return { DispatchedJobID: c.ID, EvalID: '', EvalCreateIndex: 0, JobCreateIndex: c.CreateIndex, Index: num(c.ModifyIndex) };
        }
      }
    }
    const payload = str(body.Payload);
    if (pj.Payload === 'required' && payload === '') throw new DoubleError(400, 'Payload is not provided but required by parameterized job');
    if (pj.Payload === 'forbidden' && payload !== '') throw new DoubleError(400, 'Payload provided but forbidden by parameterized job');
    if (payload.length > 16 * 1024 * 4 / 3 + 4) throw new DoubleError(400, 'Payload exceeds maximum size; 16384 > 16384');
    const meta = isObj(body.Meta) ? (body.Meta as Record<string, string>) : {};
    const required = Array.isArray(pj.MetaRequired) ? (pj.MetaRequired as string[]) : [];
    const optional = Array.isArray(pj.MetaOptional) ? (pj.MetaOptional as string[]) : [];
    const missing = required.filter((k) => !(k in meta));
    if (missing.length) throw new DoubleError(400, `Dispatch did not provide required meta keys: [${missing.join(' ')}]`);
    const unpermitted = Object.keys(meta).filter((k) => !required.includes(k) && !optional.includes(k));
    if (unpermitted.length) throw new DoubleError(400, `Dispatch specified unpermitted meta keys: [${unpermitted.join(' ')}]`);
    const child = clone(job);
    const prefix = str(body.IdPrefixTemplate);
    child.ID = `${id}/dispatch-${prefix ? `${prefix}-` : ''}${Math.floor(Date.now() / 1000)}-${randomUUID().slice(0, 8)}`;
    if (typeof body.Priority === 'number' && body.Priority > 0) child.Priority = body.Priority;
    child.Name = child.ID;
    child.ParentID = id;
    child.Dispatched = true;
    child.DispatchIdempotencyToken = idempotencyToken === '' ? null : idempotencyToken;
    child.Payload = payload || null;
    child.Meta = { ...((job.Meta as Obj | null) ?? {}), ...meta };
    delete child.Version;
    const r = this.register(child, { triggeredBy: 'job-register' });
    const created = this.currentJob(ns, str(child.ID));
    return { DispatchedJobID: child.ID, EvalID: r.EvalID, EvalCreateIndex: r.EvalCreateIndex, JobCreateIndex: created?.CreateIndex ?? 0, Index: this.index };
  }

  /** scale sets one group's count as a new job version and evaluates it. */
  scale(ns: string, id: string, group: string, count: number, message: string, meta: Obj | null): Obj {
    const job = this.currentJob(ns, id);
    if (!job) throw new DoubleError(404, 'job not found');
    if (isObj(job.Periodic) || isObj(job.ParameterizedJob)) throw new DoubleError(400, 'cannot scale a periodic or parameterized job');
    const next = clone(job);
    const g = arr(next.TaskGroups).find((x) => x.Name === group);
    if (!g) throw new DoubleError(400, `task group "${group}" specified for scaling does not exist in job`);
    if (count < 0) throw new DoubleError(400, 'scaling action count can\'t be negative');
    const scaling = isObj(g.Scaling) ? g.Scaling : undefined;
    if (scaling && typeof scaling.Max === 'number' && count > scaling.Max) throw new DoubleError(400, `group count was greater than scaling policy maximum: ${count} > ${scaling.Max}`);
    if (scaling && typeof scaling.Min === 'number' && count < scaling.Min) throw new DoubleError(400, `group count was less than scaling policy minimum: ${count} < ${scaling.Min}`);
    const previous = num(g.Count);
    g.Count = count;
    const r = this.register(next, { triggeredBy: 'job-scaling' });
    const entry = this.jobEntry(ns, id);
    if (entry) (entry.scaleEvents[group] ??= []).unshift({ Count: count, PreviousCount: previous, Message: message, Meta: meta, Error: false, EvalID: r.EvalID || null, Time: nowNs(), CreateIndex: this.index });
    return r;
  }

  /** revert registers a copy of an earlier version as a new version. */
  revert(ns: string, id: string, version: number, enforcePrior: number | undefined): Obj {
    const entry = this.jobEntry(ns, id);
    const cur = this.currentJob(ns, id);
    if (!entry || !cur) throw new DoubleError(404, 'job not found');
    if (enforcePrior !== undefined && num(cur.Version) !== enforcePrior) throw new DoubleError(400, `current job has version ${num(cur.Version)}; enforcing version ${enforcePrior}`);
    if (version === num(cur.Version)) throw new DoubleError(400, `can't revert to current version`);
    const target = entry.versions.find((v) => num(v.Version) === version);
    if (!target) throw new DoubleError(400, `job "${id}" in namespace "${ns}" at version ${version} not found`);
    const copy = clone(target);
    copy.Stop = false;
    return this.register(copy, { triggeredBy: 'job-register' });
  }

  /** deregister stops a job (a new version with Stop) or purges it, and evaluates it. */
  deregister(ns: string, id: string, purge: boolean): Obj {
    const job = this.currentJob(ns, id);
    if (!job) throw new DoubleError(404, 'job not found');
    let evalId = '';
    let evalIndex = 0;
    if (purge) {
      this.jobs.delete(key(ns, id));
      const idx = this.bump('jobs', 'summary');
      this.publish('Job', 'JobDeregistered', id, ns, { Job: job });
      if (!isObj(job.Periodic) && !isObj(job.ParameterizedJob)) {
        const ev = this.createEval({ ...job, JobModifyIndex: idx }, 'job-deregister');
        evalId = str(ev.ID);
        evalIndex = num(ev.CreateIndex);
      }
      return { EvalID: evalId, EvalCreateIndex: evalIndex, JobModifyIndex: idx, Index: this.index };
    }
    const stopped = clone(job);
    stopped.Stop = true;
    const r = this.register(stopped, { triggeredBy: 'job-deregister' });
    const cur = this.currentJob(ns, id);
    if (cur && (isObj(cur.Periodic) || isObj(cur.ParameterizedJob))) this.setJobStatus(cur, 'dead');
    return { EvalID: r.EvalID, EvalCreateIndex: r.EvalCreateIndex, JobModifyIndex: r.JobModifyIndex, Index: this.index };
  }

  /** nextPeriodicLaunch returns the next launch of a periodic job as RFC 3339, or Go's zero time. */
  nextPeriodicLaunch(job: Obj): string {
    if (!isObj(job.Periodic)) return ZERO_TIME;
    const next = nextLaunch(job.Periodic, new Date());
    return next ? next.toISOString() : ZERO_TIME;
  }

  /** planFailures computes, without changing state, the placements a job would fail (FailedTGAllocs). */
  planFailures(job: Obj): Obj | null {
    const out: Obj = {};
    for (const g of arr(job.TaskGroups)) {
      const live = this.liveAllocs(str(job.Namespace), str(job.ID), str(g.Name)).length;
      const need = Math.max(1, num(g.Count) - live);
      const f = num(g.Count) > 0 ? this.placementFailure(job, g, need) : undefined;
      if (f) out[str(g.Name)] = f;
    }
    return Object.keys(out).length ? out : null;
  }

  /** desiredUpdates computes the plan's per-group annotations (place, stop, in-place, destructive, canary, ignore). */
  desiredUpdates(old: Obj | undefined, job: Obj): Record<string, Obj> {
    const out: Record<string, Obj> = {};
    for (const g of arr(job.TaskGroups)) {
      const name = str(g.Name);
      const live = old ? this.liveAllocs(str(job.Namespace), str(job.ID), name) : [];
      const changed = old ? groupChanged(old, job, name) : true;
      const count = num(g.Count);
      const canary = changed && live.length > 0 && isObj(g.Update) ? Math.min(num(g.Update.Canary), count) : 0;
      const u: Obj = { Ignore: 0, Place: 0, Migrate: 0, Stop: 0, InPlaceUpdate: 0, DestructiveUpdate: 0, Canary: canary, Preemptions: 0, Reconnect: 0, RescheduleNow: 0, RescheduleLater: 0, Disconnect: 0 };
      if (!changed) {
        u.Ignore = Math.min(live.length, count);
        u.Place = Math.max(0, count - live.length);
        u.Stop = Math.max(0, live.length - count);
      } else if (canary > 0) {
        u.Ignore = live.length;
      } else {
        // The plan shows the scheduler's first pass: with an update block at most MaxParallel destructive updates,
        // the rest ignored until the deployment watcher gets to them.
        const replace = Math.min(live.length, count);
        const limit = isObj(g.Update) && num(g.Update.MaxParallel) > 0 && job.Type === 'service' ? num(g.Update.MaxParallel) : replace;
        u.DestructiveUpdate = Math.min(limit, replace);
        u.Ignore = replace - num(u.DestructiveUpdate);
        u.Place = Math.max(0, count - live.length);
        u.Stop = Math.max(0, live.length - count);
      }
      out[name] = u;
    }
    return out;
  }
}

/** nextLaunch is the earliest next time of a periodic config's `Spec` (deprecated `cron`) or `Specs` (`crons`) after `from`. */
function nextLaunch(pc: Obj, from: Date): Date | undefined {
  const specs = [str(pc.Spec), ...(Array.isArray(pc.Specs) ? pc.Specs.map((x) => str(x)) : [])].filter((x) => x !== '');
  let best: Date | undefined;
  for (const spec of specs) {
    try {
      const next = nextCronTime(parseCron(spec), from);
      if (next && (!best || next.getTime() < best.getTime())) best = next;
    } catch {
      // an invalid spec never launches (validation rejects it on register)
    }
  }
  return best;
}

function nodeMemory(node: Obj): number {
  return num((node.NodeResources as { Memory?: { MemoryMB?: number } } | undefined)?.Memory?.MemoryMB);
}

function groupMemory(group: Obj): number {
  return arr(group.Tasks).reduce((s, t) => s + num((t.Resources as Obj | undefined)?.MemoryMB, 300), 0);
}

/** combinedTaskMeta ports `Job.CombinedTaskMeta`: the job's Meta, overridden by the group's, then by the task's. */
function combinedTaskMeta(job: Obj, group: Obj, task: Obj): Record<string, unknown> {
  const m = (v: unknown): Obj => (isObj(v) ? v : {});
  return { ...m(job.Meta), ...m(group.Meta), ...m(task.Meta) };
}

/**
 * groupChanged ports the part of Nomad's `tasksUpdated` (scheduler/util.go) the double needs: a group needs new
 * allocations when anything in it but Count, Update and Scaling differs, or when the combined job+group+task Meta
 * of one of its tasks differs — so a change to job-level Meta alone is destructive, unless a group or task key
 * with the same name hides it.
 */
function groupChanged(oldJob: Obj, newJob: Obj, name: string): boolean {
  const a = arr(oldJob.TaskGroups).find((g) => g.Name === name);
  const b = arr(newJob.TaskGroups).find((g) => g.Name === name);
  if (!a || !b) return true;
  const strip = (g: Obj): string => JSON.stringify(sortKeys({ ...g, Count: 0, Update: null, Scaling: null }));
  if (strip(a) !== strip(b)) return true;
  for (const tb of arr(b.Tasks)) {
    const ta = arr(a.Tasks).find((t) => t.Name === tb.Name);
    if (!ta) return true;
    if (JSON.stringify(sortKeys(combinedTaskMeta(oldJob, a, ta))) !== JSON.stringify(sortKeys(combinedTaskMeta(newJob, b, tb)))) return true;
  }
  return false;
}

const SPEC_IGNORED = ['Status', 'StatusDescription', 'Stable', 'Version', 'CreateIndex', 'ModifyIndex', 'JobModifyIndex', 'SubmitTime'];

/** specChanged ports `Job.SpecChanged`: whether two versions differ other than in status, version and indexes. */
export function specChanged(a: Obj, b: Obj): boolean {
  const strip = (j: Obj): Obj => Object.fromEntries(Object.entries(j).filter(([k]) => !SPEC_IGNORED.includes(k)));
  return JSON.stringify(sortKeys(strip(a))) !== JSON.stringify(sortKeys(strip(b)));
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (isObj(v)) return Object.fromEntries(Object.keys(v).sort().filter((k) => v[k] !== undefined).map((k) => [k, sortKeys(v[k])]));
  return v;
}

function taskEvent(type: string, message: string, extra: Obj = {}): Obj {
  return {
    Type: type, Time: nowNs(), DisplayMessage: message, Message: extra.DriverError ? '' : message, Details: (extra.Details as Obj | undefined) ?? { message },
    FailsTask: false, RestartReason: '', SetupError: '', DriverError: '', DriverMessage: '', ExitCode: 0, Signal: 0, KillReason: '', KillTimeout: 0, KillError: '',
    StartDelay: 0, DownloadError: '', ValidationError: '', DiskLimit: 0, DiskSize: 0, FailedSibling: '', VaultError: '', TaskSignalReason: '', TaskSignal: '', GenericSource: '',
    ...extra, ...(extra.Details ? {} : {}),
  };
}
