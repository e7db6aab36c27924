/**
 * The deployment worker: claims queued deployments (`FOR UPDATE SKIP LOCKED`, a lease renewed by a heartbeat) and
 * runs the pipeline as explicit steps — ensure the team namespace → write the deployment's variable items (merged
 * with check-and-set, older sets pruned beyond the rollback history, refused over 64 KiB) → create missing host
 * volumes → plan (diff and warnings kept) → register with EnforceIndex → follow the evaluation, the Nomad deployment
 * and its allocations → a terminal state with a human reason. Every step records its result before the next, so a
 * worker that takes over after a crash resumes; a job whose live Meta already names the deployment is never
 * registered again. Every write of a run is fenced on its claim (owner and `lease_epoch`, in the same statement): a
 * worker that stalled past its lease finds its next write refused, abandons the deployment (watchers aborted, no
 * further Nomad call) and leaves it to the replica that claimed it since. The register follows a fenced write and
 * uses the EnforceIndex that write stored, so a stale worker's register is refused by Nomad if it was not refused here.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { isNomadNotFound, NomadCasConflictError, NomadJobModifyIndexConflictError, NomadUnexpectedResponseError } from '@drover/scheduler/nomad/index.ts';
import type { Job } from '@drover/scheduler/nomad/types.ts';
import type { JobRegisterRequest } from '@drover/scheduler/compiler/nomad-types.ts';
import type { NamespaceProvisioner } from '../cluster/nomad.ts';
import { DomainError } from '../core/errors.ts';
import type { EventBus } from '../platform/coordination/types.ts';
import type { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import { openValues, pinVaultVersion, variablesBackend } from './build.ts';
import { diagnose } from './diagnose.ts';
import { publishDeploymentEvent } from './events.ts';
import type { Control, DeploymentRow, DeploymentState, DeploymentStore, Failure, FencedControl, Lease, Progress, StepEvent } from './store.ts';

/** NOMAD_VARIABLE_LIMIT is Nomad's size limit of one variable's items. */
export const NOMAD_VARIABLE_LIMIT = 64 * 1024;

/** WorkerOptions tune the worker. */
export interface WorkerOptions {
  /** leaseMs is how long a claim lasts without a heartbeat (default 15 s). */
  leaseMs?: number;
  /** pollMs is the pause between claims when the queue is empty (default 1 s; a local queueing wakes the loops at once). */
  pollMs?: number;
  /** concurrency is how many deployments one worker runs at once (default 256: following one is mostly waiting on Nomad). */
  concurrency?: number;
  /** claimBatch is how many deployments one claim takes at most (default 8; a burst of queued work is claimed in few statements). */
  claimBatch?: number;
  /** history is how many healthy deployments keep their variable sets for rollback (default 10). */
  history?: number;
  /** progressDeadlineMs bounds one deployment from its first claim (default 15 minutes). */
  progressDeadlineMs?: number;
  /** volumePlugin is the dynamic host volume plugin of service volumes (DROVER_VOLUME_PLUGIN; default `mkdir`, which enforces no size). */
  volumePlugin?: string;
  /** owner names this worker in leases (default a random ID). */
  owner?: string;
  /**
   * pause is for tests only: awaited at each `WorkerPausePoint` of a run (never set in production), so a test can stall
   * a worker — its heartbeat included — past its lease, as a GC pause or a partition from Postgres would.
   */
  pause?: (point: WorkerPausePoint, deploymentId: string) => Promise<void>;
}

/**
 * WorkerPausePoint names where `WorkerOptions.pause` is awaited: `renew` before each heartbeat's renewal, `variables`
 * after the variable values were written and before that is recorded, `register` after the fenced "about to
 * register" write and before the register call.
 */
export type WorkerPausePoint = 'renew' | 'variables' | 'register';

/** WorkerDeps are the adapters the worker uses. */
export interface WorkerDeps {
  /** store is the deployment store. */
  store: DeploymentStore;
  /** nomad is the everyday Nomad client. */
  nomad: NomadClient;
  /** namespaces creates team namespaces (the only user of the management token). */
  namespaces: NamespaceProvisioner;
  /** bus publishes state changes. */
  bus: EventBus;
  /** logger logs steps (never values). */
  logger: Logger;
  /** secretKey opens the sealed item values. */
  secretKey: Buffer;
  /** vault writes the values of Vault-mode jobs (KV v2 under `drover/<namespace>/<job ID>`); absent when the cluster has no Vault. */
  vault?: Pick<VaultAdapter, 'writeSecret' | 'readMetadata' | 'setMaxVersions'>;
  /**
   * prepare runs before the job is planned, until it is registered (so it must be idempotent): managed databases of
   * the environment deployed (volumes created once, never deleted), removed ones deregistered. Returns what it did
   * (a PrepareOutcome), or null when there is nothing to note.
   */
  prepare?: (row: DeploymentRow) => Promise<PrepareOutcome | null>;
}

/**
 * DatabaseEventEntry is what a deployment did with one database of its environment: `registered` (volume ensured, job
 * registered), `unchanged` (nothing registered; `runningDeploymentId` is the deployment its job still runs, when known)
 * or `removed` (job deregistered, volume kept). `volume` is the data volume's name (not for removed databases).
 */
export type DatabaseEventEntry = {
  databaseId: string; name: string; outcome: 'registered' | 'unchanged' | 'removed'; jobId: string; volume?: string; runningDeploymentId?: string;
};

/** DatabasesEventData is the `data` of a `databases` event: one entry per database the deployment synced. */
export type DatabasesEventData = { databases: DatabaseEventEntry[] };

/**
 * PrepareOutcome is what `prepare` did: `note` for the deployment's event log, and `done` when nothing is left to do
 * (a database's own deployment whose database is unchanged and still running): the deployment then ends healthy with
 * `done` as its reason and an `unchanged` event (with `data`), and nothing is registered.
 */
export interface PrepareOutcome {
  /** note is the event log entry (null: none). */
  note: string | null;
  /** done is the reason the deployment ends healthy without registering, when set. */
  done?: string;
  /** noteData goes with the `databases` event of `note` (see DatabasesEventData). */
  noteData?: DatabasesEventData;
  /** data goes with the `unchanged` event (e.g. the deployment the job still runs). */
  data?: Record<string, unknown>;
}

class LeaseLost extends Error {}

/** Run is one claimed deployment in flight: its claim (the fencing token of every write) and what aborts its work. */
interface Run {
  lease: Lease;
  abort: AbortController;
}
class Stop extends Error {
  readonly state: DeploymentState;
  readonly reason: string;
  readonly failure: Failure | null;
  readonly output: string | null;
  constructor(state: DeploymentState, reason: string, failure: Failure | null = null, output: string | null = null) {
    super(reason);
    this.state = state;
    this.reason = reason;
    this.failure = failure;
    this.output = output;
  }
}

const sleep = (ms: number, signal?: AbortSignal) => new Promise<void>((r) => {
  const t = setTimeout(r, ms);
  signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true });
});

/** DeploymentWorker runs deployments from the queue until stopped. */
export class DeploymentWorker {
  private readonly d: WorkerDeps;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly concurrency: number;
  private readonly claimBatch: number;
  private readonly history: number;
  private readonly deadlineMs: number;
  private readonly pause: WorkerOptions['pause'];
  private readonly volumePlugin: string;
  /** owner is this worker's lease name. */
  readonly owner: string;
  private running = false;
  private loops: Promise<void>[] = [];
  private stopping = new AbortController();
  private readonly wakers = new Set<() => void>();

  constructor(d: WorkerDeps, o: WorkerOptions = {}) {
    this.d = d;
    this.leaseMs = o.leaseMs ?? 15_000;
    this.pollMs = o.pollMs ?? 1_000;
    this.concurrency = o.concurrency ?? 256;
    this.claimBatch = Math.max(1, o.claimBatch ?? 8);
    this.history = o.history ?? 10;
    this.deadlineMs = o.progressDeadlineMs ?? 15 * 60_000;
    this.owner = o.owner ?? `worker-${randomUUID()}`;
    this.pause = o.pause;
    this.volumePlugin = o.volumePlugin ?? 'mkdir';
  }

  /** start begins claiming work (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loops.push(this.loop());
  }

  /** poke makes the idle dispatcher look for work now (after a deployment was queued). */
  poke(): void {
    this.poked = true;
    for (const w of this.wakers) w();
  }

  private poked = false;

  /** stop ends the dispatcher and waits for the runs in flight to notice; their leases let the next claimer resume them. */
  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await Promise.allSettled(this.loops);
    await Promise.allSettled([...this.active]);
    this.loops = [];
    this.stopping = new AbortController();
  }

  private readonly active = new Set<Promise<void>>();

  private idle(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const done = () => { clearTimeout(t); this.wakers.delete(done); r(); };
      const t = setTimeout(done, ms);
      this.wakers.add(done);
      this.stopping.signal.addEventListener('abort', done, { once: true });
    });
  }

  /**
   * loop is the dispatcher: each claim takes up to `claimBatch` queued deployments in one statement (never beyond
   * `concurrency` in flight), and each claimed deployment runs concurrently.
   */
  private async loop(): Promise<void> {
    while (this.running) {
      const room = Math.min(this.concurrency - this.active.size, this.claimBatch);
      if (room <= 0) {
        await Promise.race([...this.active, this.idle(this.pollMs)]);
        continue;
      }
      let rows: DeploymentRow[] = [];
      this.poked = false;
      try {
        rows = await this.d.store.claimMany(this.owner, this.leaseMs, this.deadlineMs, room);
        if (rows.length === 0 || Date.now() - this.sweptAt > 5_000) await this.dropDeleted();
      } catch (e) {
        if (!this.running) return;
        this.d.logger.warn({ err: e }, 'deployment claim failed');
      }
      if (rows.length === 0) {
        // Work queued while this claim ran is claimed at once; otherwise wait for a poke or the poll interval.
        if (!this.poked) await this.idle(this.pollMs);
        continue;
      }
      for (const row of rows) {
        const run = this.runOne(row).finally(() => { this.active.delete(run); this.poke(); });
        this.active.add(run);
      }
    }
  }

  private sweptAt = 0;

  /** dropDeleted cancels the queued deployments of deleted services (claim skips them) and announces it. */
  private async dropDeleted(): Promise<void> {
    this.sweptAt = Date.now();
    for (const r of await this.d.store.dropDeletedServices()) await this.publish(r, 'deployment.cancelled', r.reason);
  }

  /** runs are the deployments in flight, by the row object of their claim (a stale run and a newer claim never share one). */
  private readonly runs = new Map<DeploymentRow, Run>();

  /**
   * runOne runs one claimed deployment to a terminal state (or until its lease is lost or the worker stops). `row`
   * must come from a claim (its `leaseEpoch` is the fencing token of every write the run makes).
   */
  async runOne(row: DeploymentRow): Promise<void> {
    const run: Run = { lease: { owner: this.owner, epoch: row.leaseEpoch ?? 0 }, abort: new AbortController() };
    this.runs.set(row, run);
    const beat = setInterval(() => { void this.heartbeat(row, run); }, Math.max(200, Math.floor(this.leaseMs / 3)));
    const signal = AbortSignal.any([run.abort.signal, this.stopping.signal]);
    let announced: Promise<void> = Promise.resolve();
    try {
      if (row.attempts > 1) this.later(row, { kind: 'resumed', message: `resumed by ${this.owner} at step ${row.step} (attempt ${row.attempts})` });
      // Announcing runs beside the pipeline (publish never throws); finish waits for it so events stay in order.
      announced = row.attempts === 1 ? this.publish(row, 'deployment.deploying', 'deploying') : announced;
      await this.pipeline(row, signal);
    } catch (e) {
      if (e instanceof LeaseLost || signal.aborted) {
        // A stopping worker leaves its lease to expire (the next claimer resumes); otherwise a fenced write was refused.
        if (e instanceof LeaseLost && !this.stopping.signal.aborted) this.abandon(row, run, `at step ${row.step}`);
        return;
      }
      await announced;
      if (e instanceof Stop) await this.finish(row, e.state, e.reason, e.failure, e.output);
      else {
        this.d.logger.error({ err: e, deploymentId: row.id }, 'deployment step failed');
        // Transient errors (Nomad 5xx, connection loss) are retried by whoever claims the row after the lease expires;
        // past the deadline the deployment fails with the error.
        if (row.deadlineAt && Date.now() > new Date(row.deadlineAt).getTime()) {
          await this.finish(row, 'failed', `the deployment did not finish before its deadline: ${(e as Error).message}`, { cause: 'deadline', events: [], placement: {}, allocationId: null }, null);
        } else {
          // Both fenced: a worker that lost the lease meanwhile neither logs nor shortens the new owner's lease.
          const logged = await this.event(row, 'step_error', `step ${row.step} failed: ${(e as Error).message}; retrying`).then(() => true, () => false);
          if (logged) await this.d.store.renew(row.id, run.lease, 1_000).catch(() => undefined);
          else this.abandon(row, run, `after step ${row.step} failed`);
        }
      }
    } finally {
      clearInterval(beat);
      this.pending.delete(row);
      this.controlAt.delete(row);
      this.runs.delete(row);
    }
  }

  /** heartbeat renews a run's lease (fenced on its claim); a refused renewal abandons the run. */
  private async heartbeat(row: DeploymentRow, run: Run): Promise<void> {
    try {
      if (this.pause) await this.pause('renew', row.id);
      if (run.abort.signal.aborted) return;
      if (!(await this.d.store.renew(row.id, run.lease, this.leaseMs))) this.abandon(row, run, 'at a lease renewal');
    } catch {
      // A failed renewal is retried by the next beat; the lease expires if none succeeds.
    }
  }

  /**
   * abandon gives the deployment up once a fenced write was refused: another claim took it (or it is terminal). The
   * run's watchers are aborted and it makes no further Nomad call; the new owner continues. Logged once per run.
   */
  private abandon(row: DeploymentRow, run: Run, where: string): void {
    if (run.abort.signal.aborted) return;
    run.abort.abort();
    this.d.logger.warn({ deploymentId: row.id, owner: run.lease.owner, epoch: run.lease.epoch, step: row.step },
      `deployment abandoned ${where}: its lease (epoch ${run.lease.epoch}) was lost to a newer claim; the new owner continues`);
  }

  /** runOf returns the run of a claimed row (an internal error otherwise). */
  private runOf(row: DeploymentRow): Run {
    const run = this.runs.get(row);
    if (!run) throw new Error('internal: a deployment step outside its run');
    return run;
  }

  /** alive throws LeaseLost once the run was abandoned: called before each call that changes the cluster. */
  private alive(row: DeploymentRow): void {
    if (this.runOf(row).abort.signal.aborted) throw new LeaseLost();
  }

  /** pending are events kept for the next step's write (one round trip fewer each), by claimed row. */
  private readonly pending = new Map<DeploymentRow, StepEvent[]>();
  /** controlAt is when each running deployment's control flags were last read, by claimed row. */
  private readonly controlAt = new Map<DeploymentRow, number>();

  /**
   * later keeps an event for the next step's write: for work that is idempotent on resume (a crash before that write
   * repeats it and logs it again), so it costs no round trip of its own.
   */
  private later(row: DeploymentRow, e: StepEvent): void {
    const list = this.pending.get(row) ?? [];
    list.push(e);
    this.pending.set(row, list);
  }

  /**
   * step records a step (with the events kept by `later`, then `events`) in one round trip, fenced on the run's claim,
   * and returns the control flags the same statement read. LeaseLost when the write was refused (nothing written).
   */
  private async step(row: DeploymentRow, step: string, progress: Partial<Progress>, fields: Partial<DeploymentRow> = {}, events: StepEvent[] = []): Promise<FencedControl> {
    const run = this.runOf(row);
    if (run.abort.signal.aborted) throw new LeaseLost();
    row.step = step;
    row.progress = { ...row.progress, ...progress };
    const kept = this.pending.get(row) ?? [];
    this.pending.delete(row);
    let c: FencedControl | null;
    try {
      c = await this.d.store.stepWithEvents(row.id, run.lease, { step, progress: row.progress, ...fields }, [...kept, ...events]);
    } catch (e) {
      if (kept.length > 0) this.pending.set(row, [...kept, ...(this.pending.get(row) ?? [])]);
      throw e;
    }
    if (!c) throw new LeaseLost();
    row.cancelRequested = c.cancelRequested;
    row.supersedeRequested = c.supersedeRequested;
    this.controlAt.set(row, Date.now());
    return c;
  }

  /** stepLogged records a step and its event in one round trip. */
  private async stepLogged(row: DeploymentRow, step: string, progress: Partial<Progress>, fields: Partial<DeploymentRow>, kind: string, message: string, data?: Record<string, unknown>): Promise<FencedControl> {
    return this.step(row, step, progress, fields, [{ kind, message, ...(data ? { data } : {}) }]);
  }

  /** event appends to the event log, fenced on the run's claim (LeaseLost when refused). */
  private async event(row: DeploymentRow, kind: string, message: string, data?: Record<string, unknown>): Promise<void> {
    const run = this.runOf(row);
    if (run.abort.signal.aborted || !(await this.d.store.addFencedEvent(row.id, run.lease, kind, message, data))) throw new LeaseLost();
  }

  private async publish(row: DeploymentRow, type: string, reason: string): Promise<void> {
    try {
      await publishDeploymentEvent(this.d.bus, { type, teamId: row.teamId, serviceId: row.serviceId, deploymentId: row.id, reason });
    } catch (e) {
      this.d.logger.warn({ err: e }, 'could not publish a deployment event');
    }
  }

  /**
   * requests reads the cancel/supersede requests (LeaseLost when this worker no longer runs the deployment); with
   * `maxAgeMs`, flags read that recently (by a step's write or an earlier read) are reused instead of read again.
   */
  private async requests(row: DeploymentRow, maxAgeMs = 0): Promise<{ cancel: boolean; supersede: boolean }> {
    const at = this.controlAt.get(row);
    if (maxAgeMs > 0 && at !== undefined && Date.now() - at < maxAgeMs) {
      this.alive(row);
      return { cancel: row.cancelRequested, supersede: row.supersedeRequested };
    }
    const fresh = await this.d.store.control(row.id);
    this.controlAt.set(row, Date.now());
    return this.applyControl(row, fresh);
  }

  private applyControl(row: DeploymentRow, fresh: Control | null): { cancel: boolean; supersede: boolean } {
    const { lease, abort } = this.runOf(row);
    if (abort.signal.aborted || !fresh || fresh.leaseOwner !== lease.owner || fresh.leaseEpoch !== lease.epoch || fresh.state !== 'deploying') throw new LeaseLost();
    row.cancelRequested = fresh.cancelRequested;
    row.supersedeRequested = fresh.supersedeRequested;
    return { cancel: fresh.cancelRequested, supersede: fresh.supersedeRequested };
  }

  /** beforeRegister stops on a cancel or supersede request, read now or returned by the step write just made (`fresh`). */
  private async beforeRegister(row: DeploymentRow, fresh?: Control | null): Promise<void> {
    const r = fresh === undefined ? await this.requests(row) : this.applyControl(row, fresh);
    if (r.cancel) throw new Stop('cancelled', 'cancelled before it was registered; nothing changed in the cluster');
    if (r.supersede) throw new Stop('superseded', 'superseded by a newer deployment before it was registered');
  }

  private async pipeline(row: DeploymentRow, signal: AbortSignal): Promise<void> {
    let job = (row.job as unknown as { Job: Job }).Job;
    const ns = row.namespace;
    // The claim just read the row: its cancel/supersede requests are fresh (re-read from the database before register).
    if (row.cancelRequested) throw new Stop('cancelled', 'cancelled before it was registered; nothing changed in the cluster');
    if (row.supersedeRequested) throw new Stop('superseded', 'superseded by a newer deployment before it was registered');
    if (!row.progress.namespace) {
      this.alive(row);
      const r = await this.d.namespaces.ensure(ns, `Drover team ${row.teamId}`);
      // Recorded with the next step: a crash before it only repeats the (idempotent) ensure.
      row.progress = { ...row.progress, namespace: true };
      this.later(row, { kind: 'namespace', message: r.created ? `created namespace ${ns}` : `namespace ${ns} exists` });
    }
    if (!row.progress.variables && row.variablesPath && row.sealedValues) {
      if (variablesBackend(row.variablesPath) === 'vault') {
        const { version, maxVersions } = await this.writeVault(row);
        if (this.pause) await this.pause('variables', row.id);
        // The job's templates read exactly this version: later writes never change what its allocations see.
        const pinned = pinVaultVersion(row.job as unknown as JobRegisterRequest, row.variablesPath, version);
        row.job = pinned as unknown as Record<string, unknown>;
        job = pinned.Job as Job;
        await this.stepLogged(row, 'variables', { variables: { vaultVersion: version } }, { job: row.job },
          'variables', `wrote ${row.variableKeys.length} variable item(s) as version ${version} of ${row.variablesPath} (max_versions ${maxVersions})`, { vaultVersion: version, maxVersions });
      } else {
        const modifyIndex = await this.writeVariables(row);
        if (this.pause) await this.pause('variables', row.id);
        await this.stepLogged(row, 'variables', { variables: { modifyIndex } }, {}, 'variables', `wrote ${row.variableKeys.length} variable item(s) to ${row.variablesPath}`, { modifyIndex });
      }
    }
    if (!row.progress.volumes && row.volumes.length > 0) {
      await this.ensureVolumes(row);
      await this.step(row, 'volumes', { volumes: true });
    }
    if (!row.progress.registered && this.d.prepare) {
      let r: PrepareOutcome | null;
      try {
        this.alive(row);
        r = await this.d.prepare(row);
      } catch (e) {
        // A refusal (an unsafe database change, a failed upgrade) ends the deployment with its reason; outages retry.
        if (e instanceof DomainError && e.code !== 'nomad/unavailable') throw new Stop('failed', e.message, { cause: 'database', events: [], placement: {}, allocationId: null });
        throw e;
      }
      if (r?.note) this.later(row, { kind: 'databases', message: r.note, ...(r.noteData ? { data: r.noteData } : {}) });
      if (r?.done) {
        this.later(row, { kind: 'unchanged', message: r.done, ...(r.data ? { data: r.data } : {}) });
        throw new Stop('healthy', r.done);
      }
    }
    if (!row.progress.registered) await this.planAndRegister(row, job);
    if (signal.aborted) throw new LeaseLost();
    if (row.periodic) {
      throw new Stop('healthy', 'registered: the cron service runs on its schedule');
    }
    await this.follow(row, signal);
  }

  /**
   * writeVault writes this deployment's items as a NEW KV v2 version of the job's secret, after raising the path's
   * `max_versions` so every version a kept deployment pins (the rollback history, what auto-revert may return to)
   * outlives the write. Returns the version Vault answered and the max_versions in force.
   */
  private async writeVault(row: DeploymentRow): Promise<{ version: number; maxVersions: number }> {
    const vault = this.d.vault;
    if (!vault) {
      throw new Stop('failed', 'the job reads its variables from Vault, but Drover has no Vault configured (VAULT_ADDR)',
        { cause: 'error', events: [], placement: {}, allocationId: null });
    }
    const values = openValues(this.d.secretKey, row.sealedValues ?? '', row.id);
    const [kept, meta] = await Promise.all([this.d.store.keptRows(row.serviceId, this.history), vault.readMetadata(row.namespace, row.jobId)]);
    const pinned = kept.flatMap((r) => (r.progress.variables?.vaultVersion !== undefined ? [r.progress.variables.vaultVersion] : []));
    const next = (meta?.currentVersion ?? 0) + 1;
    // Keep the new version, every version since the oldest pinned one, and at least history + 1 versions.
    const needed = Math.max(this.history + 1, next - Math.min(next, ...pinned) + 1);
    let maxVersions = meta?.maxVersions ?? 0;
    if (maxVersions === 0 || maxVersions < needed) {
      this.alive(row);
      await vault.setMaxVersions(row.namespace, row.jobId, needed);
      maxVersions = needed;
    }
    this.alive(row);
    const written = await vault.writeSecret(row.namespace, row.jobId, values);
    return { version: written.version, maxVersions };
  }

  /** writeVariables merges this deployment's items into the job's variable (check-and-set), pruning old sets. */
  private async writeVariables(row: DeploymentRow): Promise<number> {
    const values = openValues(this.d.secretKey, row.sealedValues ?? '', row.id);
    const path = row.variablesPath ?? '';
    const peek = () => this.d.nomad.variables.peek(path, { namespace: row.namespace }).then((r) => r.data);
    // The kept sets (one query) and the current variable are read concurrently.
    const [keptRows, first] = await Promise.all([this.d.store.keptRows(row.serviceId, this.history), peek()]);
    const kept = new Set<string>();
    for (const r of keptRows) for (const k of r.variableKeys) kept.add(k.split('.')[0] ?? '');
    for (const k of Object.keys(values)) kept.add(k.split('.')[0] ?? '');
    for (let attempt = 0; attempt < 8; attempt++) {
      const cur = attempt === 0 ? first : await peek();
      const items: Record<string, string> = {};
      for (const [k, v] of Object.entries(cur?.Items ?? {})) if (kept.has(k.split('.')[0] ?? '')) items[k] = v;
      Object.assign(items, values);
      const size = Object.entries(items).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
      if (size > NOMAD_VARIABLE_LIMIT) {
        throw new Stop('failed', `the variable values take ${size} bytes with the kept rollback history; Nomad allows ${NOMAD_VARIABLE_LIMIT} bytes per job`,
          { cause: 'variables_too_large', events: [], placement: {}, allocationId: null });
      }
      try {
        this.alive(row);
        const r = await this.d.nomad.variables.upsert({ Path: path, Namespace: row.namespace, Items: items }, { checkIndex: cur?.ModifyIndex ?? 0 });
        return r.data.ModifyIndex ?? r.meta.lastIndex;
      } catch (e) {
        if (e instanceof NomadCasConflictError) continue;
        throw e;
      }
    }
    throw new Error('the job variable kept changing under concurrent writers');
  }

  private async ensureVolumes(row: DeploymentRow): Promise<void> {
    const existing = (await this.d.nomad.hostVolumes.list({}, { namespace: row.namespace })).data;
    const names = new Set(existing.map((v) => v.Name));
    for (const v of row.volumes) {
      if (names.has(v.name)) continue;
      this.alive(row);
      await this.d.nomad.hostVolumes.create({
        Name: v.name, Namespace: row.namespace, PluginID: this.volumePlugin, NodePool: 'default',
        RequestedCapacityMinBytes: v.sizeBytes, RequestedCapacityMaxBytes: v.sizeBytes,
        RequestedCapabilities: [{ AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system' }],
      });
      await this.event(row, 'volume', `created host volume ${v.name}`);
    }
  }

  private async liveJob(row: DeploymentRow): Promise<Job | null> {
    try {
      return (await this.d.nomad.jobs.info(row.jobId, { namespace: row.namespace })).data;
    } catch (e) {
      if (isNomadNotFound(e)) return null;
      throw e;
    }
  }

  private async markRegistered(row: DeploymentRow, evalId: string, live: Job): Promise<void> {
    await this.step(row, 'registered', { registered: { evalId, jobModifyIndex: live.JobModifyIndex ?? 0, jobVersion: live.Version ?? null } });
  }

  private async planAndRegister(row: DeploymentRow, job: Job): Promise<void> {
    for (let attempt = 0; attempt < 4; attempt++) {
      // Planning (read-only) runs beside the live job's read; the plan is redone when the job must be purged first.
      const planOf = () => this.d.nomad.jobs.plan(job, { diff: true }, { namespace: row.namespace }).then((r) => ({ plan: r.data }), (e: unknown) => ({ error: e }));
      let planning = !row.progress.plan || attempt > 0 ? planOf() : null;
      let live = await this.liveJob(row);
      if (live && live.Meta?.['drover.deployment'] === row.id && !live.Stop) {
        // A previous attempt registered the job and crashed before recording it: never register twice.
        await this.markRegistered(row, '', live);
        await this.event(row, 'registered', `job ${row.jobId} version ${live.Version ?? '?'} was registered by an earlier attempt`);
        return;
      }
      if (live && (live.Periodic != null) !== row.periodic) {
        // Nomad cannot turn a job periodic (or back) in place: purge it and register anew.
        this.alive(row);
        await this.d.nomad.jobs.deregister(row.jobId, { purge: true }, { namespace: row.namespace });
        await this.event(row, 'purged', `deregistered ${row.jobId} with purge: the service ${row.periodic ? 'became' : 'is no longer'} a cron service`);
        live = null;
        if (planning) planning = planOf();
      }
      let fresh: FencedControl;
      if (!row.progress.plan || attempt > 0) {
        const hadStable = live !== null && !live.Stop && (live.Stable === true || (live.Version ?? 0) > 0);
        const planned = await (planning ?? planOf());
        if ('error' in planned) throw this.rejected(planned.error, 'plan');
        const plan = planned.plan;
        const warnings = (plan.Warnings ?? '').trim() === '' ? [] : [plan.Warnings ?? ''];
        // The plan's write also reads the cancel/supersede requests: nothing else stands between it and the register.
        fresh = await this.stepLogged(row, 'planned', { plan: { jobModifyIndex: live?.JobModifyIndex ?? 0 }, hadStable }, { planDiff: plan.Diff ?? null, nomadWarnings: warnings },
          'planned', `planned against job modify index ${live?.JobModifyIndex ?? 0}`, { diffType: plan.Diff?.Type ?? null });
      } else {
        // Resuming a planned deployment: the fenced "about to register" write (it reads the requests and the stored plan).
        fresh = await this.step(row, 'registering', {});
      }
      // Only a worker whose fenced write just succeeded registers, with the EnforceIndex that write stored: a stale
      // worker's register is refused by Nomad (the new owner's register changed the job's modify index).
      await this.beforeRegister(row, fresh);
      if (fresh.planIndex === null) throw new Error('internal: register before plan');
      if (this.pause) await this.pause('register', row.id);
      this.alive(row);
      try {
        const r = await this.d.nomad.jobs.register(job, { enforceIndex: true, modifyIndex: fresh.planIndex });
        const after = await this.liveJob(row);
        const nomadWarnings = [...row.nomadWarnings, ...r.data.warnings];
        row.nomadWarnings = nomadWarnings;
        await this.stepLogged(row, 'registered', {
          registered: { evalId: r.data.evalId, jobModifyIndex: r.data.jobModifyIndex, jobVersion: after?.Meta?.['drover.deployment'] === row.id ? after.Version ?? null : null },
        }, { nomadWarnings }, 'registered', `registered ${row.jobId} (evaluation ${r.data.evalId || 'none'}, version ${after?.Version ?? '?'})`, { warnings: r.data.warnings });
        return;
      } catch (e) {
        if (e instanceof NomadJobModifyIndexConflictError) {
          await this.event(row, 'register_conflict', 'the job changed since it was planned; planning again');
          continue;
        }
        throw this.rejected(e, 'register');
      }
    }
    throw new Error('the job kept changing while it was planned');
  }

  private rejected(e: unknown, what: string): unknown {
    if (e instanceof NomadUnexpectedResponseError && (e.status === 400 || (e.status === 500 && /validat|cannot update|invalid/i.test(e.body)))) {
      return new Stop('failed', `Nomad rejected the job at ${what}: ${e.body.trim().slice(0, 2000)}`, { cause: 'rejected', events: [], placement: {}, allocationId: null });
    }
    return e;
  }

  /** follow watches the evaluation, then the Nomad deployment of the registered version, until a terminal state. */
  private async follow(row: DeploymentRow, signal: AbortSignal): Promise<void> {
    const reg = row.progress.registered;
    if (!reg) throw new Error('internal: follow before register');
    const ns = row.namespace;
    const evalIds = reg.evalId ? [reg.evalId] : [];
    if (reg.evalId && row.step === 'registered') {
      let index = 0;
      for (;;) {
        await this.checkInFlight(row, undefined, evalIds);
        const r = await this.d.nomad.evaluations.info(reg.evalId, { namespace: ns, index, wait: 500, signal });
        index = r.meta.lastIndex < index ? 0 : r.meta.lastIndex;
        const st = r.data.Status ?? '';
        if (st === 'complete' || st === 'failed' || st === 'canceled') {
          const failed = Object.keys(r.data.FailedTGAllocs ?? {});
          await this.step(row, 'evaluated', {}, {}, [{ kind: 'evaluated', message: `evaluation ${st}${failed.length ? `; could not place group(s) ${failed.join(', ')} yet` : ''}` }]);
          break;
        }
        if (signal.aborted) throw new LeaseLost();
      }
    }
    let version = reg.jobVersion;
    if (version === null) {
      const live = await this.liveJob(row);
      if (live?.Meta?.['drover.deployment'] === row.id) version = live.Version ?? null;
    }
    let depId = row.progress.nomadDeploymentId;
    let index = 0;
    let polls = 0;
    for (;;) {
      if (signal.aborted) throw new LeaseLost();
      if (!depId) {
        const deps = (await this.d.nomad.jobs.deployments(row.jobId, {}, { namespace: ns })).data;
        const mine = deps.find((x) => version !== null && x.JobVersion === version);
        if (mine?.ID) {
          depId = mine.ID;
          await this.step(row, 'watching', { nomadDeploymentId: depId }, {}, [{ kind: 'nomad_deployment', message: `following Nomad deployment ${depId}` }]);
        } else {
          await this.checkInFlight(row, undefined, evalIds);
          if (++polls > 40) {
            const allocs = (await this.d.nomad.jobs.allocations(row.jobId, {}, { namespace: ns })).data;
            if (allocs.some((a) => a.ClientStatus === 'running' && a.JobVersion === version)) throw new Stop('healthy', 'running (Nomad made no deployment for this version)');
          }
          await sleep(250, signal);
          continue;
        }
      }
      const r = await this.d.nomad.deployments.info(depId, { namespace: ns, index, wait: 500, signal });
      index = r.meta.lastIndex < index ? 0 : r.meta.lastIndex;
      const st = r.data.Status ?? '';
      const desc = r.data.StatusDescription ?? '';
      if (st === 'successful') throw new Stop('healthy', `healthy: ${desc || 'all allocations are healthy'}`);
      if (st === 'failed') {
        const fresh = await this.requests(row);
        if (fresh.cancel && /fail(ed)? by user/i.test(desc)) throw new Stop('cancelled', `cancelled; Nomad rolls back to the last good version (${desc})`);
        const dx = await diagnose(this.d.nomad, ns, row.jobId, depId, desc, evalIds);
        throw new Stop('failed', dx.reason, dx.failure, dx.output);
      }
      if (st === 'cancelled') {
        const fresh = await this.requests(row);
        if (fresh.supersede) throw new Stop('superseded', `superseded by a newer deployment (${desc})`);
        throw new Stop('failed', `Nomad cancelled the deployment: ${desc}`, { cause: 'error', events: [], placement: {}, allocationId: null });
      }
      await this.checkInFlight(row, depId, evalIds);
      // Levant's pattern: the job asks for auto-promotion; once every canary is healthy, promote them.
      const groups = Object.values(r.data.TaskGroups ?? {});
      const canaries = groups.filter((g) => (g?.DesiredCanaries ?? 0) > 0 && !g?.Promoted);
      if (st === 'running' && canaries.length > 0 && canaries.every((g) => (g?.HealthyAllocs ?? 0) >= (g?.DesiredCanaries ?? 0)) && this.autoPromote(row)) {
        this.alive(row);
        await this.d.nomad.deployments.promote(depId, 'all', { namespace: ns }).then(
          () => this.event(row, 'promoted', 'every canary is healthy: promoted'),
          // Lost races (the deployment finished or was promoted meanwhile) are answered 4xx or "terminal deployment".
          (e: unknown) => { if (!(e instanceof NomadUnexpectedResponseError && (e.status < 500 || /terminal|no canaries/i.test(e.body)))) throw e; },
        );
      }
    }
  }

  private autoPromote(row: DeploymentRow): boolean {
    const job = (row.job as unknown as { Job: Job }).Job;
    return job.Update?.AutoPromote === true || (job.TaskGroups ?? []).some((g) => g?.Update?.AutoPromote === true);
  }

  /** checkInFlight acts on cancel, supersede and the deadline while the registered job rolls out. */
  private async checkInFlight(row: DeploymentRow, depId: string | undefined, evalIds: string[]): Promise<void> {
    // Read at most every 500 ms: a blocking query returns at every change of a busy cluster, and a cancel waits at
    // most that much longer (the register itself is always preceded by a fresh read).
    const r = await this.requests(row, 500);
    const ns = row.namespace;
    if (r.supersede) throw new Stop('superseded', 'superseded by a newer deployment of the service');
    const pastDeadline = row.deadlineAt !== null && Date.now() > new Date(row.deadlineAt).getTime();
    if (r.cancel || pastDeadline) {
      // With a good version to return to, wait for the Nomad deployment to exist, then fail it (auto-revert).
      if (row.progress.hadStable && !depId && row.progress.registered) return;
      this.alive(row);
      if (row.progress.hadStable && depId) {
        await this.d.nomad.deployments.fail(depId, { namespace: ns }).catch((e: unknown) => { if (!isNomadNotFound(e)) throw e; });
      } else {
        // A first deployment that never became healthy has nothing to revert to: stop it.
        await this.d.nomad.jobs.deregister(row.jobId, {}, { namespace: ns }).catch((e: unknown) => { if (!isNomadNotFound(e)) throw e; });
      }
      if (r.cancel) {
        throw new Stop('cancelled', row.progress.hadStable
          ? 'cancelled; the Nomad deployment was failed so auto-revert restores the last good version'
          : 'cancelled; the first deployment never became healthy, so its job was stopped');
      }
      const dx = await diagnose(this.d.nomad, ns, row.jobId, depId, 'the progress deadline passed', evalIds);
      throw new Stop('failed', `the deployment did not become healthy before its deadline: ${dx.reason}`, { ...dx.failure, cause: dx.failure.cause === 'error' ? 'deadline' : dx.failure.cause }, dx.output);
    }
  }

  /** finish records a terminal state, its event and the service's runtime in one statement (only while the run's claim is current). */
  private async finish(row: DeploymentRow, state: DeploymentState, reason: string, failure: Failure | null, output: string | null): Promise<void> {
    const progress: Progress & { healthyAt?: string } = state === 'healthy' ? { ...row.progress, healthyAt: new Date().toISOString() } : row.progress;
    // A database's own deployment is no service runtime: the reconciler must never re-register a database's job.
    const runtime = row.config['kind'] === 'database' ? null
      : state === 'healthy' ? 'current' : state === 'cancelled' && !row.progress.hadStable && row.progress.registered ? 'stopped' : null;
    const events: StepEvent[] = [...(this.pending.get(row) ?? []), { kind: state, message: reason, ...(failure ? { data: { cause: failure.cause } } : {}) }];
    this.pending.delete(row);
    const run = this.runOf(row);
    const done = !run.abort.signal.aborted && await this.d.store.finish(row, run.lease, { state, reason, failure, output, progress, events, runtime });
    if (!done) {
      this.abandon(row, run, `instead of ending ${state}`);
      return;
    }
    this.d.logger.info({ deploymentId: row.id, state }, 'deployment finished');
    await this.publish(row, `deployment.${state}`, reason);
  }
}
