/**
 * The deployment store: plain SQL over the `deployments`, `deployment_events`, `deployment_runs` and
 * `service_runtime` tables. Claiming uses `SELECT … FOR UPDATE SKIP LOCKED`, so replicas share the queue, and a lease
 * (owner + expiry, renewed by a heartbeat) lets another replica take over the work of one that crashed. Every claim
 * increments `lease_epoch`; the worker's writes (steps, events, the terminal state, renewals) are fenced on the claim's
 * owner and epoch in the same statement, so a worker that stalled past its lease writes nothing after a re-claim.
 */
import type { DataSource, EntityManager } from 'typeorm';

/** DeploymentState is a deployment's state; every state but `queued` and `deploying` is terminal. */
export type DeploymentState = 'queued' | 'deploying' | 'healthy' | 'failed' | 'cancelled' | 'superseded' | 'removed';

/** TERMINAL_STATES are the states a deployment never leaves (except healthy → removed). */
export const TERMINAL_STATES: readonly DeploymentState[] = ['healthy', 'failed', 'cancelled', 'superseded', 'removed'];

/** DeploymentTrigger says why a deployment was made. */
export type DeploymentTrigger = 'manual' | 'api' | 'rollback' | 'config_change';

/** Progress is what the pipeline recorded so far; each step reads it to resume instead of redoing work. */
export interface Progress {
  /** namespace is set once the team namespace exists. */
  namespace?: boolean;
  /** variables is set once the items are written: the Nomad variable's ModifyIndex, or the KV v2 version written to Vault. */
  variables?: { modifyIndex?: number; vaultVersion?: number };
  /** volumes is set once the missing host volumes were created. */
  volumes?: boolean;
  /** plan holds the JobModifyIndex observed when planning (the EnforceIndex of the register). */
  plan?: { jobModifyIndex: number };
  /** registered is set once Nomad accepted the job. */
  registered?: { evalId: string; jobModifyIndex: number; jobVersion: number | null };
  /** nomadDeploymentId is the Nomad deployment followed. */
  nomadDeploymentId?: string;
  /** hadStable says the job existed with a stable version before this deployment (cancel reverts instead of stopping). */
  hadStable?: boolean;
}

/** DeploymentRow is one deployment record. */
export interface DeploymentRow {
  id: string;
  teamId: string;
  projectId: string;
  environmentId: string;
  serviceId: string;
  batchId: string | null;
  state: DeploymentState;
  reason: string;
  trigger: DeploymentTrigger;
  rollbackOf: string | null;
  createdBy: string | null;
  namespace: string;
  jobId: string;
  periodic: boolean;
  job: Record<string, unknown>;
  config: Record<string, unknown>;
  image: string | null;
  artifactChecksum: string | null;
  variablesPath: string | null;
  variableKeys: string[];
  sealedValues: string | null;
  volumes: { name: string; sizeBytes: number }[];
  compileWarnings: string[];
  planDiff: unknown;
  nomadWarnings: string[];
  failure: Failure | null;
  outputTail: string | null;
  step: string;
  progress: Progress;
  cancelRequested: boolean;
  supersedeRequested: boolean;
  leaseOwner: string | null;
  leaseExpiresAt: Date | null;
  /** leaseEpoch is the fencing token of the current claim (incremented by every claim; absent on rows not yet read back). */
  leaseEpoch?: number;
  attempts: number;
  deadlineAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
}

/** Failure explains a failed deployment: the cause class, the task events and the placement metrics. */
export interface Failure {
  /** cause is `pull_failed`, `oom`, `crashed`, `unhealthy`, `no_capacity`, `missing_volume`, `deadline`, `rejected`, `error`. */
  cause: string;
  /** events are the task events that explain it (`<task>: <type>: <message>`). */
  events: string[];
  /** placement are the placement metrics of failed evaluations (dimension → count). */
  placement: Record<string, number>;
  /** allocationId is the failed allocation whose output was captured. */
  allocationId: string | null;
}

/** Column is a field stored by insert and settable by update (lease_epoch is changed by claims only). */
type Column = Exclude<keyof DeploymentRow, 'leaseEpoch'>;
const COLUMNS: Record<Column, string> = {
  id: 'id', teamId: 'team_id', projectId: 'project_id', environmentId: 'environment_id', serviceId: 'service_id', batchId: 'batch_id',
  state: 'state', reason: 'reason', trigger: 'trigger', rollbackOf: 'rollback_of', createdBy: 'created_by', namespace: 'namespace',
  jobId: 'job_id', periodic: 'periodic', job: 'job', config: 'config', image: 'image', artifactChecksum: 'artifact_checksum',
  variablesPath: 'variables_path', variableKeys: 'variable_keys', sealedValues: 'sealed_values', volumes: 'volumes',
  compileWarnings: 'compile_warnings', planDiff: 'plan_diff', nomadWarnings: 'nomad_warnings', failure: 'failure', outputTail: 'output_tail',
  step: 'step', progress: 'progress', cancelRequested: 'cancel_requested', supersedeRequested: 'supersede_requested',
  leaseOwner: 'lease_owner', leaseExpiresAt: 'lease_expires_at', attempts: 'attempts', deadlineAt: 'deadline_at',
  createdAt: 'created_at', updatedAt: 'updated_at', startedAt: 'started_at', finishedAt: 'finished_at',
};
const JSON_COLUMNS = new Set<Column>(['job', 'config', 'variableKeys', 'volumes', 'compileWarnings', 'planDiff', 'nomadWarnings', 'failure', 'progress']);
// lease_epoch is read with every row but never inserted (the column's default, 0): only claims change it.
const SELECT = `${Object.entries(COLUMNS).map(([k, c]) => `${c} AS "${k}"`).join(', ')}, lease_epoch AS "leaseEpoch"`;

type Runner = DataSource | EntityManager;

/**
 * appendEvents is the statement, for a CTE after `u` (the updated deployment), that appends the events of parameter
 * `param` (`eventsParam`) to its log in order; nothing when `u` is empty.
 */
function appendEvents(param: string): string {
  return `INSERT INTO deployment_events (deployment_id, at, kind, message, data)
         SELECT u.id, now(), x.kind, x.message, x.data FROM u,
           ROWS FROM (jsonb_to_recordset(${param}::jsonb) AS (kind text, message text, data jsonb)) WITH ORDINALITY AS x(kind, message, data, ord)
         ORDER BY x.ord`;
}

/** eventsParam serialises step events for `appendEvents`. */
function eventsParam(events: readonly StepEvent[]): string {
  return JSON.stringify(events.map((e) => ({ kind: e.kind, message: e.message, data: e.data ?? null })));
}

function toRow(r: Record<string, unknown>): DeploymentRow {
  return r as unknown as DeploymentRow;
}

/** DeploymentStore reads and writes deployment records. */
export class DeploymentStore {
  readonly db: DataSource;
  constructor(db: DataSource) {
    this.db = db;
  }

  /**
   * insertCreated stores a new record and its `created` event, and row-locks (FOR UPDATE, in the caller's transaction
   * `m`) the service's other open deployments, in ONE statement; it returns those open deployments' IDs, for the
   * caller to supersede in the same transaction.
   */
  async insertCreated(row: DeploymentRow, message: string, data: Record<string, unknown>, m: Runner): Promise<string[]> {
    const keys = Object.keys(COLUMNS) as Column[];
    const values = keys.map((k) => (JSON_COLUMNS.has(k) && row[k] !== null ? JSON.stringify(row[k]) : row[k]));
    const n = keys.length;
    const rows = (await m.query(
      `WITH d AS (INSERT INTO deployments (${keys.map((k) => COLUMNS[k]).join(', ')}) VALUES (${keys.map((_, i) => `$${i + 1}`).join(', ')}) RETURNING id),
         e AS (INSERT INTO deployment_events (deployment_id, at, kind, message, data) SELECT d.id, now(), 'created', $${n + 1}, $${n + 2} FROM d),
         open AS (SELECT id FROM deployments WHERE service_id = $${n + 3} AND id <> $${n + 4} AND state IN ('queued', 'deploying') FOR UPDATE)
       SELECT id FROM open`,
      [...values, message, JSON.stringify(data), row.serviceId, row.id],
    )) as { id: string }[];
    return rows.map((r) => r.id);
  }

  /** get reads one record, or null. */
  async get(id: string, m: Runner = this.db): Promise<DeploymentRow | null> {
    const rows = (await m.query(`SELECT ${SELECT} FROM deployments WHERE id = $1`, [id])) as Record<string, unknown>[];
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** getForUpdate reads one record and row-locks it in the caller's transaction. */
  async getForUpdate(m: EntityManager, id: string): Promise<DeploymentRow | null> {
    const rows = (await m.query(`SELECT ${SELECT} FROM deployments WHERE id = $1 FOR UPDATE`, [id])) as Record<string, unknown>[];
    return rows[0] ? toRow(rows[0]) : null;
  }

  /**
   * stepWithEvents sets the given fields and appends `events` (in order, possibly none) in ONE statement (all or
   * nothing), so a pipeline step costs one database round trip — only while `lease` is the deployment's current claim
   * (same owner and epoch, still deploying), checked in that statement. It returns what may have changed under the
   * running deployment (as `control` reads it, after the update) and the plan's JobModifyIndex as stored, or null when
   * nothing was written (the lease is lost or the record is gone): the update takes the row's lock, so those flags
   * are as fresh as a separate read.
   */
  async stepWithEvents(id: string, lease: Lease, fields: Partial<Pick<DeploymentRow, Column>>, events: readonly StepEvent[]): Promise<FencedControl | null> {
    const keys = Object.keys(fields) as Column[];
    const values = keys.map((k) => (JSON_COLUMNS.has(k) && fields[k] !== null ? JSON.stringify(fields[k]) : fields[k]));
    const n = keys.length;
    const rows = (await this.db.query(
      `WITH u AS (UPDATE deployments SET ${keys.map((k, i) => `${COLUMNS[k]} = $${i + 4}`).join(', ')}${n > 0 ? ', ' : ''}updated_at = now()
         WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 AND state = 'deploying'
         RETURNING id, state, lease_owner, lease_epoch, cancel_requested, supersede_requested, progress),
       e AS (${appendEvents(`$${n + 4}`)})
       SELECT state, lease_owner AS "leaseOwner", lease_epoch AS "leaseEpoch", cancel_requested AS "cancelRequested", supersede_requested AS "supersedeRequested",
         (progress->'plan'->>'jobModifyIndex')::bigint::float8 AS "planIndex" FROM u`,
      [id, lease.owner, lease.epoch, ...values, eventsParam(events)],
    )) as FencedControl[];
    return rows[0] ?? null;
  }

  /**
   * finish records a terminal state, `events` (the terminal one last) and, in the same statement, the service's
   * runtime (`runtime`): `current` makes the deployment the service's current one (desired running, scale override
   * cleared, reported drift kept); `stopped` leaves the service stopped (a cancelled first deployment). Only while `lease`
   * is the current claim of a deploying record (owner and epoch, in the same statement); false (nothing written) otherwise.
   */
  async finish(row: Pick<DeploymentRow, 'id' | 'serviceId' | 'teamId' | 'namespace' | 'jobId'>, lease: Lease, f: {
    state: DeploymentState; reason: string; failure: Failure | null; output: string | null; progress: Progress; events: readonly StepEvent[];
    runtime: 'current' | 'stopped' | null;
  }): Promise<boolean> {
    const rows = (await this.db.query(
      `WITH u AS (UPDATE deployments SET state = $3, reason = $4, failure = $5, output_tail = $6, progress = $7, step = 'done', finished_at = now(),
           lease_owner = NULL, lease_expires_at = NULL, updated_at = now()
         WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $14 AND state = 'deploying' RETURNING id),
       e AS (${appendEvents('$8')}),
       r AS (INSERT INTO service_runtime (service_id, team_id, namespace, job_id, desired, current_deployment_id, replicas, drift, updated_at)
         SELECT $9, $10, $11, $12, 'running', u.id, NULL, NULL, now() FROM u WHERE $13::text = 'current'
         ON CONFLICT (service_id) DO UPDATE SET namespace = EXCLUDED.namespace, job_id = EXCLUDED.job_id, desired = 'running',
           current_deployment_id = EXCLUDED.current_deployment_id, replicas = NULL, updated_at = now()),
       s AS (UPDATE service_runtime SET desired = 'stopped', updated_at = now()
         WHERE service_id = $9 AND $13::text = 'stopped' AND EXISTS (SELECT 1 FROM u))
       SELECT id FROM u`,
      [row.id, lease.owner, f.state, f.reason, f.failure ? JSON.stringify(f.failure) : null, f.output, JSON.stringify(f.progress),
        eventsParam(f.events), row.serviceId, row.teamId, row.namespace, row.jobId, f.runtime ?? 'none', lease.epoch],
    )) as unknown[];
    return rows.length > 0;
  }

  /** update sets the given fields (and updated_at). */
  async update(id: string, fields: Partial<Pick<DeploymentRow, Column>>, m: Runner = this.db): Promise<void> {
    const keys = Object.keys(fields) as Column[];
    if (keys.length === 0) return;
    const values = keys.map((k) => (JSON_COLUMNS.has(k) && fields[k] !== null ? JSON.stringify(fields[k]) : fields[k]));
    await m.query(`UPDATE deployments SET ${keys.map((k, i) => `${COLUMNS[k]} = $${i + 2}`).join(', ')}, updated_at = now() WHERE id = $1`, [id, ...values]);
  }

  /** listForService reads a page of a service's deployments, newest first (keyset on created_at, id). */
  async listForService(serviceId: string, limit: number, after: { key: string; id: string } | null): Promise<DeploymentRow[]> {
    const rows = (await this.db.query(
      `SELECT ${SELECT} FROM deployments WHERE service_id = $1 ${after ? 'AND (created_at, id) < ($3::timestamptz, $4::uuid)' : ''}
       ORDER BY created_at DESC, id DESC LIMIT $2`,
      after ? [serviceId, limit, after.key, after.id] : [serviceId, limit],
    )) as Record<string, unknown>[];
    return rows.map(toRow);
  }

  /**
   * keptRows reads, in one query, the item keys and progress of the deployments whose variable sets are kept: the
   * `history` newest healthy ones and every queued or deploying one (for pruning beyond the rollback history).
   */
  async keptRows(serviceId: string, history: number): Promise<Pick<DeploymentRow, 'id' | 'variableKeys' | 'progress'>[]> {
    return (await this.db.query(
      `SELECT id, variable_keys AS "variableKeys", progress FROM deployments WHERE id IN (
         (SELECT id FROM deployments WHERE service_id = $1 AND state = 'healthy' ORDER BY created_at DESC LIMIT $2)
         UNION SELECT id FROM deployments WHERE service_id = $1 AND state IN ('queued', 'deploying'))`,
      [serviceId, history],
    )) as Pick<DeploymentRow, 'id' | 'variableKeys' | 'progress'>[];
  }

  /** lastHealthy returns the newest healthy deployment of a service other than `exceptId`, or null. */
  async lastHealthy(serviceId: string, exceptId: string | null): Promise<DeploymentRow | null> {
    const rows = (await this.db.query(
      `SELECT ${SELECT} FROM deployments WHERE service_id = $1 AND state = 'healthy' AND id <> $2 ORDER BY created_at DESC LIMIT 1`,
      [serviceId, exceptId ?? '00000000-0000-0000-0000-000000000000'],
    )) as Record<string, unknown>[];
    return rows[0] ? toRow(rows[0]) : null;
  }

  /**
   * claim takes one deployment to work on: a queued one, or a deploying one whose lease expired (its replica
   * crashed). Deployments of a service run one at a time, oldest first; a queued one whose service was deleted is
   * left to dropDeletedServices. Returns null when there is none.
   */
  async claim(owner: string, leaseMs: number, deadlineMs = 15 * 60_000): Promise<DeploymentRow | null> {
    return (await this.claimMany(owner, leaseMs, deadlineMs, 1))[0] ?? null;
  }

  /**
   * claimMany takes up to `limit` deployments (1–256) in one statement, oldest first, by the rules of `claim`: only the
   * oldest open deployment of a service is eligible, so one statement never takes two of the same service, and rows
   * another replica is claiming are skipped (`FOR UPDATE SKIP LOCKED`). Each claim increments the row's `lease_epoch`
   * (the fencing token every later write of the claimer is conditional on, returned as `leaseEpoch`). A burst of queued work costs one round trip
   * (and one wait for a pooled connection) instead of one per deployment.
   */
  async claimMany(owner: string, leaseMs: number, deadlineMs: number, limit: number): Promise<DeploymentRow[]> {
    const n = Math.max(1, Math.min(256, Math.floor(limit)));
    // One statement: pick the oldest claimable rows with SKIP LOCKED and take their leases (the ARRAY(…) sub-select
    // runs once, as an init plan, so the rows locked are exactly the rows updated).
    const rows = (await this.db.query(
      `UPDATE deployments SET lease_owner = $1, lease_expires_at = now() + ($2 || ' milliseconds')::interval, attempts = attempts + 1, lease_epoch = lease_epoch + 1,
         state = CASE WHEN state = 'queued' THEN 'deploying' ELSE state END, started_at = COALESCE(started_at, now()), updated_at = now(),
         deadline_at = COALESCE(deadline_at, now() + ($3 || ' milliseconds')::interval)
       WHERE id = ANY(ARRAY(
         SELECT d.id FROM deployments d
         WHERE (d.state = 'queued' OR (d.state = 'deploying' AND (d.lease_expires_at IS NULL OR d.lease_expires_at < now())))
           AND (d.state <> 'queued' OR EXISTS (SELECT 1 FROM services s WHERE s.id = d.service_id)
                OR EXISTS (SELECT 1 FROM databases db WHERE db.id = d.service_id AND db.removed_at IS NULL))
           AND NOT EXISTS (SELECT 1 FROM deployments o WHERE o.service_id = d.service_id AND o.id <> d.id
                           AND o.state = 'deploying' AND o.lease_expires_at >= now())
           AND NOT EXISTS (SELECT 1 FROM deployments o WHERE o.service_id = d.service_id AND o.id <> d.id
                           AND o.state IN ('queued', 'deploying') AND (o.created_at, o.id) < (d.created_at, d.id))
         ORDER BY d.created_at, d.id LIMIT $4 FOR UPDATE OF d SKIP LOCKED))
       RETURNING ${SELECT}`,
      [owner, String(leaseMs), String(deadlineMs), n],
    )) as unknown[];
    // TypeORM answers an UPDATE … RETURNING with [rows, count].
    const list = (Array.isArray(rows[0]) ? rows[0] : rows) as Record<string, unknown>[];
    return list.map(toRow).sort((a, b) => new Date(a.createdAt).getTime() - new Date(b.createdAt).getTime() || (a.id < b.id ? -1 : 1));
  }

  /**
   * dropDeletedServices cancels, with the reason, the queued deployments whose service was deleted while they
   * waited (claim never takes them), and returns them.
   */
  async dropDeletedServices(): Promise<DeploymentRow[]> {
    const reason = 'cancelled before it started: the service was deleted';
    const rows = (await this.db.query(
      `WITH c AS (UPDATE deployments d SET state = 'cancelled', reason = $1, step = 'done', finished_at = now(), updated_at = now()
         WHERE d.state = 'queued' AND NOT EXISTS (SELECT 1 FROM services s WHERE s.id = d.service_id)
           AND NOT EXISTS (SELECT 1 FROM databases db WHERE db.id = d.service_id AND db.removed_at IS NULL) RETURNING ${SELECT}),
       e AS (INSERT INTO deployment_events (deployment_id, at, kind, message, data) SELECT c.id, now(), 'cancelled', $1, $2 FROM c)
       SELECT * FROM c`,
      [reason, JSON.stringify({ cause: 'service_deleted' })],
    )) as Record<string, unknown>[];
    return rows.map(toRow);
  }

  /** control reads what may change under a running deployment: its state, lease holder and the cancel/supersede requests. */
  async control(id: string): Promise<Control | null> {
    const rows = (await this.db.query(
      'SELECT state, lease_owner AS "leaseOwner", lease_epoch AS "leaseEpoch", cancel_requested AS "cancelRequested", supersede_requested AS "supersedeRequested" FROM deployments WHERE id = $1',
      [id],
    )) as Control[];
    return rows[0] ?? null;
  }

  /**
   * renew extends the lease of the claim `lease` (or sets it to expire in `leaseMs`, shorter, after a transient error);
   * false when the lease was lost (another claim since, or the row is terminal).
   */
  async renew(id: string, lease: Lease, leaseMs: number): Promise<boolean> {
    const r = (await this.db.query(
      `UPDATE deployments SET lease_expires_at = now() + ($3 || ' milliseconds')::interval
       WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $4 AND state = 'deploying' RETURNING id`,
      [id, lease.owner, String(leaseMs), lease.epoch],
    )) as [unknown[], number] | unknown[];
    const list = Array.isArray(r[0]) ? (r[0] as unknown[]) : (r as unknown[]);
    return list.length > 0;
  }

  /**
   * addFencedEvent appends to a deployment's event log only while `lease` is its current claim (owner and epoch, still
   * deploying), checked in the same statement; false (nothing written) otherwise.
   */
  async addFencedEvent(deploymentId: string, lease: Lease, kind: string, message: string, data?: Record<string, unknown>): Promise<boolean> {
    const rows = (await this.db.query(
      `INSERT INTO deployment_events (deployment_id, at, kind, message, data)
       SELECT id, now(), $4, $5, $6 FROM deployments WHERE id = $1 AND lease_owner = $2 AND lease_epoch = $3 AND state = 'deploying' RETURNING id`,
      [deploymentId, lease.owner, lease.epoch, kind, message, data ? JSON.stringify(data) : null],
    )) as unknown[];
    return rows.length > 0;
  }

  /** addEvent appends to a deployment's event log. */
  async addEvent(deploymentId: string, kind: string, message: string, data?: Record<string, unknown>, m: Runner = this.db): Promise<void> {
    await m.query('INSERT INTO deployment_events (deployment_id, at, kind, message, data) VALUES ($1, now(), $2, $3, $4)',
      [deploymentId, kind, message, data ? JSON.stringify(data) : null]);
  }

  /** events reads a deployment's event log in order, after the event ID `after`. */
  async events(deploymentId: string, after: number, limit: number): Promise<{ id: number; at: Date; kind: string; message: string; data: unknown }[]> {
    const rows = (await this.db.query(
      'SELECT id, at, kind, message, data FROM deployment_events WHERE deployment_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [deploymentId, after, limit],
    )) as { id: string; at: Date; kind: string; message: string; data: unknown }[];
    return rows.map((r) => ({ ...r, id: Number(r.id) }));
  }

  /** runtime reads a service's runtime state, or null when it was never deployed. */
  async runtime(serviceId: string, m: Runner = this.db): Promise<RuntimeRow | null> {
    const rows = (await m.query(
      `SELECT service_id AS "serviceId", team_id AS "teamId", namespace, job_id AS "jobId", desired,
        current_deployment_id AS "currentDeploymentId", replicas, drift, updated_at AS "updatedAt" FROM service_runtime WHERE service_id = $1`,
      [serviceId],
    )) as RuntimeRow[];
    return rows[0] ?? null;
  }

  /** allRuntimes reads every service's runtime state. */
  async allRuntimes(): Promise<RuntimeRow[]> {
    return (await this.db.query(
      `SELECT service_id AS "serviceId", team_id AS "teamId", namespace, job_id AS "jobId", desired,
        current_deployment_id AS "currentDeploymentId", replicas, drift, updated_at AS "updatedAt" FROM service_runtime`,
    )) as RuntimeRow[];
  }

  /** setRuntime upserts a service's runtime state. */
  async setRuntime(r: Omit<RuntimeRow, 'updatedAt' | 'drift'> & { drift?: string | null }, m: Runner = this.db): Promise<void> {
    await m.query(
      `INSERT INTO service_runtime (service_id, team_id, namespace, job_id, desired, current_deployment_id, replicas, drift, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now())
       ON CONFLICT (service_id) DO UPDATE SET namespace = $3, job_id = $4, desired = $5, current_deployment_id = $6, replicas = $7,
         drift = COALESCE($8, service_runtime.drift), updated_at = now()`,
      [r.serviceId, r.teamId, r.namespace, r.jobId, r.desired, r.currentDeploymentId, r.replicas, r.drift ?? null],
    );
  }
}

/** Control is what may change under a running deployment: its state, lease holder (owner and epoch) and the cancel/supersede requests. */
export interface Control {
  state: DeploymentState;
  leaseOwner: string | null;
  leaseEpoch: number;
  cancelRequested: boolean;
  supersedeRequested: boolean;
}

/** FencedControl is Control as a fenced step write returns it, with the plan's JobModifyIndex as stored (null: not planned). */
export interface FencedControl extends Control {
  /** planIndex is `progress.plan.jobModifyIndex` as the same statement wrote it: the EnforceIndex of the register. */
  planIndex: number | null;
}

/**
 * Lease is one claim of a deployment: the claimer's `owner` name and the row's `epoch` after that claim (its fencing
 * token). A write fenced on a Lease applies only while no later claim happened and the deployment is still deploying.
 */
export interface Lease {
  owner: string;
  epoch: number;
}

/** StepEvent is one entry of a deployment's event log written with a step (`kind`, human `message`, optional data). */
export interface StepEvent {
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

/** RuntimeRow is a service's runtime state: what the user wants and which deployment is current. */
export interface RuntimeRow {
  serviceId: string;
  teamId: string;
  namespace: string;
  jobId: string;
  /** desired is `running`, `stopped` or `removed`. */
  desired: 'running' | 'stopped' | 'removed';
  currentDeploymentId: string | null;
  /** replicas is a scale override of the current deployment's count, or null. */
  replicas: number | null;
  /** drift is the last drift the reconciler reported, or null. */
  drift: string | null;
  updatedAt: Date;
}
