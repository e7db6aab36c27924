/**
 * The reconciler: one active among replicas (a Postgres advisory lock held for the pass), it compares what Postgres
 * wants with the Nomad jobs that carry Drover's Meta. After Nomad auto-reverts, the deployment whose job version runs
 * becomes the service's current one; drift (a job stopped, missing or scaled outside Drover) is reported and, when
 * repair is on, repaired by re-registering the CURRENT deployment's stored job — always one that became healthy,
 * never one that just failed. Jobs with Drover's Meta and no record are orphans: reported, and purged only when
 * configured. It also tracks the runs of cron services. Deployments a crash left in flight are resumed by the worker
 * as soon as their lease expires.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { Job } from '@drover/scheduler/nomad/types.ts';
import type { EventBus } from '../platform/coordination/types.ts';
import { captureOutput } from './diagnose.ts';
import { publishDeploymentEvent } from './events.ts';
import type { DeploymentStore } from './store.ts';

/** RECONCILER_LOCK is the advisory lock key that elects the active reconciler. */
export const RECONCILER_LOCK = 0x44524f56 + 4;

/** ReconcileReport is what one pass found and did. */
export interface ReconcileReport {
  /** ran is false when another replica holds the lock. */
  ran: boolean;
  /** drift lists `<jobId>: <what>` for every service whose job differs from what it should be. */
  drift: string[];
  /** repaired lists the job IDs re-registered or rescaled. */
  repaired: string[];
  /** orphans lists `<namespace>/<jobId>` of Drover jobs without a record. */
  orphans: string[];
  /** removedOrphans lists the orphans purged. */
  removedOrphans: string[];
  /** adopted lists `<serviceId> → <deploymentId>` where an auto-revert made another deployment current. */
  adopted: string[];
  /** runs is the number of cron runs recorded or updated. */
  runs: number;
}

/** ReconcilerOptions configure repairs. */
export interface ReconcilerOptions {
  /** repairDrift re-registers or rescales drifted jobs (default true). */
  repairDrift?: boolean;
  /** removeOrphans purges orphaned jobs (default false: report only). */
  removeOrphans?: boolean;
  /** intervalMs is the pause between passes when started (default 30 s). */
  intervalMs?: number;
}

/** Reconciler compares desired and actual state. */
export class Reconciler {
  private readonly db: DataSource;
  private readonly store: DeploymentStore;
  private readonly nomad: NomadClient;
  private readonly bus: EventBus;
  private readonly logger: Logger;
  private readonly o: Required<ReconcilerOptions>;
  private timer: NodeJS.Timeout | null = null;
  private current: Promise<unknown> | null = null;
  private aborter = new AbortController();
  private failing = false;

  constructor(d: { dataSource: DataSource; store: DeploymentStore; nomad: NomadClient; bus: EventBus; logger: Logger }, o: ReconcilerOptions = {}) {
    this.db = d.dataSource;
    this.store = d.store;
    this.nomad = d.nomad;
    this.bus = d.bus;
    this.logger = d.logger;
    this.o = { repairDrift: o.repairDrift ?? true, removeOrphans: o.removeOrphans ?? false, intervalMs: o.intervalMs ?? 30_000 };
  }

  /** start runs a pass now and then every intervalMs. */
  start(): void {
    if (this.timer) return;
    // A cluster that stays unreachable (or `npm start` without one) is logged once when passes start failing and once
    // when they recover, not every interval; repeats go to debug.
    // A pass still running when the interval fires (a slow cluster) is not overlapped by another one.
    let busy = false;
    const tick = () => {
      if (busy) return;
      busy = true;
      this.current = this.reconcileOnce().then(
        () => {
          if (this.failing) this.logger.info('reconcile passes succeed again');
          this.failing = false;
        },
        (e: unknown) => {
          if (this.failing) this.logger.debug({ err: e }, 'reconcile pass failed again');
          else this.logger.warn({ err: e }, 'reconcile pass failed; further failures are logged at debug until a pass succeeds');
          this.failing = true;
        },
      ).finally(() => { busy = false; });
    };
    tick();
    this.timer = setInterval(tick, this.o.intervalMs);
  }

  /** stop ends the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.aborter.abort();
    await this.current;
    this.aborter = new AbortController();
  }

  /** reconcileOnce runs one pass if this replica wins the advisory lock. */
  async reconcileOnce(): Promise<ReconcileReport> {
    const report: ReconcileReport = { ran: false, drift: [], repaired: [], orphans: [], removedOrphans: [], adopted: [], runs: 0 };
    const qr = this.db.createQueryRunner();
    await qr.connect();
    try {
      const [{ ok }] = (await qr.query('SELECT pg_try_advisory_lock($1) AS ok', [RECONCILER_LOCK])) as [{ ok: boolean }];
      if (!ok) return report;
      report.ran = true;
      try {
        await this.pass(report);
      } finally {
        await qr.query('SELECT pg_advisory_unlock($1)', [RECONCILER_LOCK]);
      }
    } finally {
      await qr.release();
    }
    return report;
  }

  private async pass(report: ReconcileReport): Promise<void> {
    const jobs = (await this.nomad.jobs.list({ namespace: '*', signal: this.aborter.signal })).data;
    // Jobs the backup runner registers carry a backup's or a restore's ID (backup, restore and verify jobs, and a
    // database it deploys for a restore): they are Drover's too, never orphans.
    const known = new Set(((await this.db.query('SELECT id FROM deployments UNION ALL SELECT id FROM backups UNION ALL SELECT id FROM backup_checks')) as { id: string }[]).map((r) => r.id));
    const runtimes = new Map((await this.store.allRuntimes()).map((r) => [`${r.namespace}\0${r.jobId}`, r]));
    const seen = new Set<string>();
    for (const stub of jobs) {
      const meta = stub.Meta ?? {};
      const dep = meta['drover.deployment'];
      if (!dep || !meta['drover.service'] && !meta['drover.database']) continue;
      const ns = stub.Namespace ?? 'default';
      const id = stub.ID ?? '';
      if (stub.ParentID) {
        if (meta['drover.service']) report.runs += await this.recordRun(ns, stub.ParentID, id, stub.Status ?? '', meta['drover.service'], dep);
        continue;
      }
      if (!known.has(dep)) {
        report.orphans.push(`${ns}/${id}`);
        await this.db.query(`INSERT INTO cluster_findings (kind, namespace, job_id, detail, at) VALUES ('orphan', $1, $2, $3, now())
          ON CONFLICT (kind, namespace, job_id) DO UPDATE SET detail = $3, at = now()`, [ns, id, `deployment ${dep} is unknown`]);
        if (this.o.removeOrphans) {
          await this.nomad.jobs.deregister(id, { purge: true }, { namespace: ns });
          report.removedOrphans.push(`${ns}/${id}`);
        }
        continue;
      }
      const rt = runtimes.get(`${ns}\0${id}`);
      if (!rt) continue;
      seen.add(rt.serviceId);
      // After an auto-revert the running version carries an older deployment's Meta: that deployment is current.
      if (dep !== rt.currentDeploymentId && rt.desired === 'running') {
        const d = await this.store.get(dep);
        const open = (await this.db.query("SELECT 1 FROM deployments WHERE service_id = $1 AND state IN ('queued', 'deploying')", [rt.serviceId])) as unknown[];
        if (d && open.length === 0 && (d.state === 'healthy' || (d.progress as { healthyAt?: string }).healthyAt)) {
          await this.store.setRuntime({ ...rt, currentDeploymentId: dep });
          await this.store.addEvent(dep, 'current', 'this deployment runs again (Nomad rolled back to it)');
          report.adopted.push(`${rt.serviceId} → ${dep}`);
          rt.currentDeploymentId = dep;
        }
      }
      await this.checkDrift(rt, stub.Stop === true, id, ns, report);
    }
    for (const rt of runtimes.values()) {
      if (rt.desired !== 'running' || seen.has(rt.serviceId) || !rt.currentDeploymentId) continue;
      await this.checkDrift(rt, null, rt.jobId, rt.namespace, report);
    }
  }

  /**
   * adoptLive makes `runs`, the deployment the live job runs, the service's current one when it is a healthy
   * deployment of the service; the runtime is changed only if it still names `was`. False when `runs` is not such one.
   */
  private async adoptLive(rt: { serviceId: string; currentDeploymentId: string | null }, was: string, runs: string, report: ReconcileReport): Promise<boolean> {
    const d = await this.store.get(runs);
    if (!d || d.serviceId !== rt.serviceId || !(d.state === 'healthy' || (d.progress as { healthyAt?: string }).healthyAt)) return false;
    const changed = (await this.db.query(
      'UPDATE service_runtime SET current_deployment_id = $2, updated_at = now() WHERE service_id = $1 AND current_deployment_id = $3 RETURNING service_id',
      [rt.serviceId, d.id, was],
    )) as unknown[];
    if ((Array.isArray(changed[0]) ? (changed[0] as unknown[]) : changed).length > 0) report.adopted.push(`${rt.serviceId} → ${d.id}`);
    rt.currentDeploymentId = d.id;
    return true;
  }

  /** checkDrift compares one service's live job with its current deployment (`stopped` null = the job is missing). */
  private async checkDrift(rt: { serviceId: string; teamId: string; namespace: string; jobId: string; desired: string; currentDeploymentId: string | null; replicas: number | null }, stopped: boolean | null, id: string, ns: string, report: ReconcileReport): Promise<void> {
    if (rt.desired !== 'running' || !rt.currentDeploymentId) return;
    const open = (await this.db.query("SELECT 1 FROM deployments WHERE service_id = $1 AND state IN ('queued', 'deploying')", [rt.serviceId])) as unknown[];
    if (open.length > 0) return;
    const current = await this.store.get(rt.currentDeploymentId);
    if (!current || current.state !== 'healthy') return;
    const stored = (current.job as unknown as { Job: Job }).Job;
    let what: string | null = null;
    let live: Job | null = null;
    if (stopped === null) what = 'the job is missing from Nomad';
    else if (stopped) what = 'the job was stopped outside Drover';
    else {
      live = (await this.nomad.jobs.info(id, { namespace: ns })).data;
      // The pass read the job list and the runtimes before a newer deployment of the service may have finished (or a
      // crash kept the runtime behind): a live job running another healthy deployment of the service means that one
      // is current, as after an auto-revert — never drift, or re-registering `current` would roll the service back.
      const runs = live.Meta?.['drover.deployment'];
      if (runs && runs !== current.id && await this.adoptLive(rt, current.id, runs, report)) return;
      const want = rt.replicas ?? stored.TaskGroups?.[0]?.Count ?? 1;
      const have = live.TaskGroups?.[0]?.Count ?? 0;
      if (!current.periodic && have !== want) what = `the job runs ${have} instance(s) instead of ${want}`;
      else if (live.Meta?.['drover.deployment'] !== current.id) what = `the job runs deployment ${live.Meta?.['drover.deployment'] ?? '?'} instead of ${current.id}`;
    }
    if (!what) {
      if (rt.replicas !== undefined) await this.db.query('UPDATE service_runtime SET drift = NULL WHERE service_id = $1 AND drift IS NOT NULL', [rt.serviceId]);
      return;
    }
    report.drift.push(`${id}: ${what}`);
    await this.db.query('UPDATE service_runtime SET drift = $2, updated_at = now() WHERE service_id = $1', [rt.serviceId, what]);
    await publishDeploymentEvent(this.bus, { type: 'service.drift', teamId: rt.teamId, serviceId: rt.serviceId, deploymentId: current.id, reason: what }).catch(() => undefined);
    if (!this.o.repairDrift) return;
    if (live && !stopped && live.Meta?.['drover.deployment'] === current.id) {
      const group = stored.TaskGroups?.[0]?.Name ?? '';
      await this.nomad.jobs.scale(id, group, rt.replicas ?? stored.TaskGroups?.[0]?.Count ?? 1, { message: 'drover reconciler: repair drift' }, { namespace: ns });
    } else {
      // Re-register the current (healthy) deployment's stored job; its variable set is kept by the history.
      await this.nomad.jobs.register(stored, {});
    }
    report.repaired.push(id);
    await this.store.addEvent(current.id, 'drift_repaired', `drift repaired: ${what}`);
  }

  private async recordRun(ns: string, parent: string, child: string, status: string, serviceId: string, deploymentId: string): Promise<number> {
    const rows = (await this.db.query('SELECT status FROM deployment_runs WHERE service_id = $1 AND nomad_job_id = $2', [serviceId, child])) as { status: string }[];
    const prev = rows[0]?.status;
    let runStatus = status === 'dead' ? 'complete' : status;
    let output: string | null = null;
    if (status === 'dead') {
      const allocs = (await this.nomad.jobs.allocations(child, {}, { namespace: ns })).data;
      if (allocs.some((a) => a.ClientStatus === 'failed')) runStatus = 'failed';
      const a = allocs[0];
      const task = a?.TaskStates ? Object.keys(a.TaskStates)[0] : undefined;
      if (a?.ID && task) output = await captureOutput(this.nomad, ns, a.ID, task);
    }
    if (prev === runStatus) return 0;
    const team = (await this.db.query('SELECT team_id FROM deployments WHERE id = $1', [deploymentId])) as { team_id: string }[];
    await this.db.query(
      `INSERT INTO deployment_runs (id, team_id, service_id, deployment_id, nomad_job_id, status, output_tail, started_at, finished_at)
       VALUES (gen_random_uuid(), $1, $2, $3, $4, $5::text, $6, now(), CASE WHEN $5::text IN ('complete', 'failed') THEN now() END)
       ON CONFLICT (service_id, nomad_job_id) DO UPDATE SET status = $5::text, output_tail = COALESCE($6, deployment_runs.output_tail),
         finished_at = CASE WHEN $5::text IN ('complete', 'failed') THEN now() END`,
      [team[0]?.team_id ?? '00000000-0000-0000-0000-000000000000', serviceId, deploymentId, child, runStatus, output],
    );
    void parent;
    await publishDeploymentEvent(this.bus, { type: 'service.run', teamId: team[0]?.team_id ?? '', serviceId, deploymentId, reason: `run ${child} ${runStatus}` }).catch(() => undefined);
    return 1;
  }
}
