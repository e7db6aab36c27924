/**
 * The lifecycle of a managed database on Nomad, safe for its data by construction: deploying creates the dynamic
 * host volume only when it is missing and pins the job to the volume's node; removing deregisters the job and keeps
 * the volume; redeploying (same major version) keeps the data in place; a major version change dumps the old
 * database, creates a NEW volume for the new version and restores into it, keeping the old volume. The only code that
 * deletes a volume is destroyVolume: owners and admins, with the database's name typed as confirmation, audited.
 *
 * It drives Nomad through the scheduler client directly. Credentials travel as data: Nomad Variables, or — when the
 * cluster keeps secrets in Vault — a new KV v2 version at `<mount>/data/drover/<namespace>/<job ID>` that the job's
 * templates pin (its tasks read it with their workload identity through the `vault` block); never the job JSON.
 */
import { isNomadNotFound, NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { Allocation } from '@drover/scheduler/nomad/index.ts';
import { compile } from '@drover/scheduler/compiler/index.ts';
import type { JobData } from '@drover/scheduler/compiler/index.ts';
import type { Database, DesiredState } from '@drover/scheduler/compiler/model.ts';
import type { JobRegisterRequest } from '@drover/scheduler/compiler/nomad-types.ts';
import { ENGINES } from '@drover/scheduler/compiler/database.ts';
import { namespaceName } from '@drover/scheduler/compiler/names.ts';
import {
  compileBackupJob, compileRestoreJob, compileVerifyJob, hostVolumeCreateRequest, volumeCapacityWarning, CHECK_TASK, DUMP_TASK,
} from '@drover/scheduler/databases/jobs.ts';
import type { BackupItemSource, BackupJobData, CompiledDatabaseJob, Destination } from '@drover/scheduler/databases/jobs.ts';
import { DUMP_FILES, parseCounts } from '@drover/scheduler/databases/argv.ts';
import type { Actor } from '../core/actor.ts';
import type { AccessChecker } from '../core/access.ts';
import type { AuditRecorder } from '../core/audit.ts';
import { DomainError } from '../core/errors.ts';
import { dumpTaskState, judgeBackup, judgeVerification } from '../backups/outcome.ts';
import type { BackupVerdict, FileDigest, TaskStateLike, VerificationVerdict } from '../backups/outcome.ts';
import { digestObject } from '../backups/s3.ts';
import type { S3Credentials } from '../backups/s3.ts';
import { createHash, createHmac } from 'node:crypto';
import type { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import { pinVaultVersion, VAULT_VERSION_UNPINNED } from '../deployments/build.ts';

/** ItemResolver returns the value of one data item (a generated credential, a destination key…) from the secret store. */
export type ItemResolver = (source: BackupItemSource) => Promise<string>;

/** LifecycleDeps are the adapters the lifecycle drives. */
export interface LifecycleDeps {
  /** nomad is the scheduler client. */
  nomad: NomadClient;
  /** volumePlugin is the operator's dynamic host volume plugin (`mkdir` ignores sizes: a warning says so). */
  volumePlugin: string;
  /** resolve gives data item values; they go to Nomad Variables or Vault KV only, never into a job. */
  resolve: ItemResolver;
  /**
   * vault writes the data items of jobs compiled in Vault mode (`settings.secrets.kind === 'vault'`) as a new KV v2
   * version under its mount, which must be the settings' `kvMount`; without it such jobs are refused.
   */
  vault?: Pick<VaultAdapter, 'writeSecret'>;
  /** access checks roles; audit records the destroy. */
  access: AccessChecker;
  /** audit records volume destruction. */
  audit: AuditRecorder;
  /** pollMs is how often batch jobs are polled (default 500). */
  pollMs?: number;
  /** batchTimeoutMs bounds a backup or restore (default 6 h). */
  batchTimeoutMs?: number;
}

/** VolumeInfo is a database volume as Nomad reports it. */
export interface VolumeInfo {
  /** id is Nomad's volume ID (what a delete takes). */
  id: string;
  /** name is the `dv-…` name the job mounts. */
  name: string;
  /** nodeId is the node holding it. */
  nodeId: string;
  /** capacityBytes is what the plugin reported (0: not enforced). */
  capacityBytes: number;
  /** plugin is the PluginID Nomad reports for the volume (an existing volume keeps the plugin that created it). */
  plugin: string;
  /** warning says when the size is not enforced. */
  warning: string | null;
}

/** DeployResult is a deployed database. */
export interface DeployResult {
  /** jobId is the database's job. */
  jobId: string;
  /** database is the database as deployed (volume pinned to its node). */
  database: Database;
  /** volume is its data volume. */
  volume: VolumeInfo;
  /** warnings are the compiler's and the volume's warnings. */
  warnings: string[];
  /**
   * unchanged is set when nothing was written or registered: the running job already has this exact specification
   * and credentials (`drover.spec`) and is in good standing; `deploymentId` is the deployment that job still runs.
   */
  unchanged?: { deploymentId: string };
}

/** SPEC_META is the job Meta key holding a database job's specification digest (see databaseSpec). */
export const SPEC_META = 'drover.spec';

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return Object.fromEntries(Object.keys(o).sort().filter((k) => o[k] !== undefined).map((k) => [k, sortKeys(o[k])]));
  }
  return v;
}

/**
 * databaseSpec is the digest of what a database job runs, without what changes with every deployment: the job as
 * compiled for `deploymentId` with that ID (job and service Meta, the Nomad Variables item keys) and the pinned KV
 * version masked, and the credential values its templates read (keyed by item, so a rotation changes it; mixed in as
 * an HMAC keyed by the job ID, so the digest reveals nothing of them). Two deploys of an unchanged database give the
 * same digest; any change Nomad would see (image, resources, volume, tags, constraints, templates) or a new
 * credential gives another. Format `v1.<32 hex>`.
 */
export function databaseSpec(request: JobRegisterRequest, deploymentId: string, items: Record<string, string>): string {
  const job = structuredClone(request.Job) as unknown as { Meta?: Record<string, string> | null };
  if (job.Meta) delete job.Meta[SPEC_META];
  const masked = deploymentId === '' ? JSON.stringify(sortKeys(job)) : JSON.stringify(sortKeys(job)).split(deploymentId).join('<deployment>');
  const text = masked.replace(/\?version=[0-9]+/g, '?version=<pinned>');
  const creds = createHmac('sha256', request.Job.ID ?? '');
  const byItem = Object.entries(items).map(([k, v]) => [deploymentId !== '' && k.startsWith(`${deploymentId}.`) ? k.slice(deploymentId.length + 1) : k, v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  for (const [k, v] of byItem) creds.update(`${k}\0${v}\0`);
  return `v1.${createHash('sha256').update(text).update(creds.digest()).digest('hex').slice(0, 32)}`;
}

/** BackupRun is the outcome of one backup job. */
export interface BackupRun {
  /** jobId is the backup job. */
  jobId: string;
  /** objectKey is where the dump went. */
  objectKey: string;
  /** verdict is the outcome with its reason. */
  verdict: BackupVerdict;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function withDatabase(state: DesiredState, d: Database): DesiredState {
  return { ...state, services: [], databases: [d] };
}

/** DatabaseLifecycle deploys, removes, upgrades and backs up databases without ever deleting data implicitly. */
export class DatabaseLifecycle {
  private readonly deps: LifecycleDeps;
  constructor(deps: LifecycleDeps) {
    this.deps = deps;
  }

  /** ensureVolume creates the database's volume when Nomad has none of that name in the namespace, else reads it. */
  async ensureVolume(state: DesiredState, d: Database): Promise<VolumeInfo> {
    const req = hostVolumeCreateRequest(state, d, this.deps.volumePlugin);
    const ns = req.Volume.Namespace;
    const existing = (await this.deps.nomad.hostVolumes.list({}, { namespace: ns })).data.find((v) => v.Name === req.Volume.Name);
    let vol: { ID?: string; Name?: string; NodeID?: string; CapacityBytes?: number; PluginID?: string } | null;
    if (existing?.ID) {
      vol = (await this.deps.nomad.hostVolumes.get(existing.ID, { namespace: ns })).data;
    } else {
      vol = (await this.deps.nomad.hostVolumes.create(req.Volume as never)).data.volume;
    }
    if (!vol?.ID || !vol.NodeID) throw new DomainError('nomad/unavailable', 'Nomad did not report the volume it created');
    const capacity = vol.CapacityBytes ?? 0;
    const plugin = vol.PluginID || this.deps.volumePlugin;
    return { id: vol.ID, name: req.Volume.Name, nodeId: vol.NodeID, capacityBytes: capacity, plugin, warning: volumeCapacityWarning(d.volume.sizeBytes, capacity, plugin) };
  }

  /**
   * writeData writes a job's data items before it is registered and returns the request to register: unchanged with
   * Nomad Variables; in Vault mode the items become a new KV version and the job's templates are pinned to it, so a
   * later write never changes what its allocations read.
   */
  private async writeData(data: JobData | BackupJobData, request: JobRegisterRequest, resolved?: Record<string, string>, keep?: string): Promise<JobRegisterRequest> {
    const items = resolved ?? await this.items(data);
    if (data.backend === 'nomad') {
      // The items the running deployment `keep` reads stay beside the new ones: its allocation may restart meanwhile.
      const kept: Record<string, string> = {};
      if (keep) {
        const cur = (await this.deps.nomad.variables.peek(data.path, { namespace: data.namespace })).data;
        for (const [k, v] of Object.entries(cur?.Items ?? {})) if (k.startsWith(`${keep}.`)) kept[k] = v;
      }
      await this.deps.nomad.variables.upsert({ Path: data.path, Namespace: data.namespace, Items: { ...kept, ...items } } as never, {}, { namespace: data.namespace });
      return request;
    }
    if (!this.deps.vault) throw new DomainError('database/invalid', 'the database job reads its credentials from Vault, but Drover has no Vault configured (VAULT_ADDR)');
    const written = await this.deps.vault.writeSecret(data.namespace, request.Job.ID, items);
    return pinVaultVersion(request, data.path, written.version);
  }

  /** items resolves the values of a job's data items (keyed as its templates read them). */
  private async items(data: JobData | BackupJobData): Promise<Record<string, string>> {
    const items: Record<string, string> = {};
    for (const [k, src] of Object.entries(data.items)) items[k] = await this.deps.resolve(src);
    return items;
  }

  /** compiled gives `state` the placeholder KV version Vault-mode jobs compile with until writeData pins the real one. */
  private compiled(state: DesiredState): DesiredState {
    if (state.settings.secrets.kind !== 'vault' || state.deployment.vaultKvVersion !== undefined) return state;
    return { ...state, deployment: { ...state.deployment, vaultKvVersion: VAULT_VERSION_UNPINNED } };
  }

  /** submit writes an auxiliary job's data items (pinning its Vault version) and registers it; returns what was registered. */
  private async submit(job: CompiledDatabaseJob): Promise<JobRegisterRequest> {
    const request = await this.writeData(job.data, job.request);
    await this.register(request);
    return request;
  }

  private async register(req: JobRegisterRequest): Promise<void> {
    await this.deps.nomad.jobs.register(req.Job as never, {}, { namespace: req.Namespace });
  }

  /**
   * deploy creates the volume if missing, pins the job to its node, writes the credentials and registers the job —
   * unless the running job already has the same specification and credentials (databaseSpec, kept in its Meta) and
   * is in good standing (see `running`): then nothing is written or registered (no new KV version, no new variable
   * items, no restart) and the result says which deployment it still runs. `force` registers anyway (an explicit
   * deploy of the database). A registered job carries its digest, so the next deploy can tell.
   */
  async deploy(state: DesiredState, d: Database, o: { force?: boolean } = {}): Promise<DeployResult> {
    const volume = await this.ensureVolume(state, d);
    const pinned: Database = { ...d, volume: { ...d.volume, nodeId: volume.nodeId } };
    const result = compile(withDatabase(this.compiled(state), pinned));
    const compiled = result.jobs[0];
    if (!compiled) throw new Error('internal: no database job');
    const warnings = [...result.warnings, ...(volume.warning ? [volume.warning] : [])];
    const data = result.variables[compiled.Job.ID];
    const items = data ? await this.items(data) : {};
    const spec = databaseSpec(compiled, state.deployment.id, items);
    const live = await this.running(compiled);
    if (!o.force && live?.spec === spec) return { jobId: compiled.Job.ID, database: pinned, volume, warnings, unchanged: { deploymentId: live.deploymentId } };
    const job = data ? await this.writeData(data, compiled, items, live?.deploymentId) : compiled;
    job.Job.Meta = { ...job.Job.Meta, [SPEC_META]: spec };
    await this.register(job);
    return { jobId: job.Job.ID, database: pinned, volume, warnings };
  }

  /**
   * running reads the live job of `request` and says what it runs when it is in good standing: registered and not
   * stopped, the Nomad deployment of its version neither failed nor cancelled, and — once that version has
   * allocations — one of them running or starting (a version registered a moment ago by another deployment of the
   * same environment deploy has none yet). Null otherwise (absent, stopped, failed, nothing running): a deploy then
   * registers again.
   */
  private async running(request: JobRegisterRequest): Promise<{ spec: string | null; deploymentId: string } | null> {
    const q = { namespace: request.Namespace };
    let live;
    try {
      live = (await this.deps.nomad.jobs.info(request.Job.ID, q)).data;
    } catch (e) {
      if (isNomadNotFound(e)) return null;
      throw e;
    }
    if (live.Stop || live.Status === 'dead') return null;
    const version = live.Version ?? 0;
    const [deps, allocs] = await Promise.all([this.deps.nomad.jobs.deployments(request.Job.ID, {}, q), this.deps.nomad.jobs.allocations(request.Job.ID, {}, q)]);
    const dep = deps.data.filter((x) => x.JobVersion === version).sort((a, b) => (b.CreateIndex ?? 0) - (a.CreateIndex ?? 0))[0];
    if (dep && (dep.Status === 'failed' || dep.Status === 'cancelled')) return null;
    const mine = allocs.data.filter((a) => a.JobVersion === version);
    if (mine.length > 0 && !mine.some((a) => a.DesiredStatus === 'run' && (a.ClientStatus === 'running' || a.ClientStatus === 'pending'))) return null;
    return { spec: live.Meta?.[SPEC_META] ?? null, deploymentId: live.Meta?.['drover.deployment'] ?? '' };
  }

  /** remove stops the database's job. The volume, and the data on it, stay until destroyVolume. */
  async remove(state: DesiredState, d: Database): Promise<void> {
    const job = compile(withDatabase(this.compiled(state), d)).jobs[0];
    if (!job) return;
    await this.deps.nomad.jobs.deregister(job.Job.ID, { purge: false }, { namespace: job.Namespace });
  }

  /**
   * changeVersion moves a database to another version. The same version (a redeploy: the image tag follows minor
   * releases) keeps the data in place. Another major version: a backup of the old database, a NEW volume
   * (`newVolumeId`), the job on the new version and volume once it is healthy, a restore into it (the new version's
   * own tools read the old version's dump). The old volume is kept and returned. `onBackup` receives the backup's
   * verdict before anything else happens, whatever follows. When the restore fails, the old version is deployed again
   * on the old volume (the data it holds is untouched) and `backup/failed` says why; the new volume is kept too.
   */
  async changeVersion(state: DesiredState, d: Database, version: string, o: { newVolumeId: string; destination: Destination; backupId: string; restoreId: string; credentials: S3Credentials; onBackup?: (run: BackupRun) => Promise<void> }): Promise<{ deployed: DeployResult; keptVolume: VolumeInfo | null; backup: BackupRun | null }> {
    if (!ENGINES[d.engine].versions.includes(version)) {
      throw new DomainError('database/invalid', `version ${version} is not supported`, { errors: [{ path: 'body.version', message: `must be one of ${ENGINES[d.engine].versions.join(', ')}` }] });
    }
    if (version === d.version) return { deployed: await this.deploy(state, d), keptVolume: null, backup: null };
    // The backup must read the old version's data. After an interrupted attempt the new version can still be the one
    // running (Nomad did not answer when the old one was to be put back), and a backup of it would be the new, empty
    // database restored as if it were the data: the old version goes back on its volume first (nothing is registered
    // when it already runs) and the backup waits until an allocation of that version is healthy.
    const current = await this.deploy(state, d);
    const old = current.volume;
    await this.waitHealthy(state, current.jobId);
    const backup = await this.backup(state, d, { destination: o.destination, backupId: o.backupId, credentials: o.credentials });
    await o.onBackup?.(backup);
    if (backup.verdict.status !== 'succeeded') throw new DomainError('backup/failed', `the backup before the upgrade failed: ${backup.verdict.reason}`);
    const next: Database = { ...d, version, volume: { id: o.newVolumeId, sizeBytes: d.volume.sizeBytes } };
    let failure: string;
    try {
      const deployed = await this.deploy(state, next);
      await this.waitHealthy(state, deployed.jobId);
      const restore = await this.submit(compileRestoreJob(withDatabase(this.compiled(state), deployed.database), deployed.database, { restoreId: o.restoreId, destination: o.destination, objectKey: backup.objectKey }));
      const alloc = await this.waitBatch(restore);
      const t = dumpTaskState((alloc.TaskStates?.restore ?? undefined) as TaskStateLike | undefined);
      if (t?.exitCode === 0 && !t.failed) return { deployed, keptVolume: old, backup };
      failure = `the restore into ${ENGINES[d.engine].image}:${version} ${t ? `exited with code ${t.exitCode}` : 'did not run'}`;
    } catch (e) {
      if (!(e instanceof DomainError) || e.code === 'nomad/unavailable') {
        // An outage: the old version goes back if Nomad answers, and the retry starts from its data again.
        await this.deploy(state, d).catch(() => undefined);
        throw e;
      }
      failure = e.message;
    }
    // The old version goes back on the old volume, whose data nothing has written to; the new volume is kept.
    await this.deploy(state, d);
    throw new DomainError('backup/failed', `${failure}; ${ENGINES[d.engine].image}:${d.version} runs again on its volume ${old.name}, which is kept`);
  }

  /**
   * destroyVolume deletes a database's volume and its data: owners and admins only (`manage`), with the database's
   * name typed as `confirmation`, audited. A volume a running allocation still claims is refused.
   */
  async destroyVolume(actor: Actor, scope: { teamId: string; projectId: string }, state: DesiredState, d: Database, confirmation: string): Promise<void> {
    await this.deps.access.requireProject(actor, scope.teamId, scope.projectId, 'manage');
    if (confirmation !== d.name) throw new DomainError('database/confirmation_mismatch', undefined, { errors: [{ path: 'body.confirmation', message: "must be the database's name" }] });
    const vol = await this.ensureVolumeLookup(state, d);
    if (!vol) return;
    // Nomad lists the allocations that claim the volume: a running or pending one still mounts it.
    const claims = (await this.deps.nomad.hostVolumes.get(vol.id, { namespace: vol.namespace })).data.Allocations ?? [];
    if (claims.some((a) => a?.ClientStatus === 'running' || a?.ClientStatus === 'pending')) throw new DomainError('database/volume_in_use');
    await this.deps.nomad.hostVolumes.delete(vol.id, { namespace: vol.namespace });
    await this.deps.audit.record({ actor, teamId: scope.teamId, action: 'database.volume_destroyed', targetType: 'database', targetId: d.id, details: { volume: vol.name, engine: d.engine } });
  }

  private async ensureVolumeLookup(state: DesiredState, d: Database): Promise<{ id: string; name: string; namespace: string } | null> {
    const req = hostVolumeCreateRequest(state, d, this.deps.volumePlugin);
    const v = (await this.deps.nomad.hostVolumes.list({}, { namespace: req.Volume.Namespace })).data.find((x) => x.Name === req.Volume.Name);
    return v?.ID ? { id: v.ID, name: req.Volume.Name, namespace: req.Volume.Namespace } : null;
  }

  /** waitBatch waits for the batch job's allocation to finish and returns it. */
  private async waitBatch(req: JobRegisterRequest): Promise<Allocation> {
    const deadline = Date.now() + (this.deps.batchTimeoutMs ?? 6 * 3600_000);
    const q = { namespace: req.Namespace };
    while (Date.now() < deadline) {
      const allocs = (await this.deps.nomad.jobs.allocations(req.Job.ID, {}, q)).data;
      const done = allocs.find((a) => a.ClientStatus === 'complete' || a.ClientStatus === 'failed' || a.ClientStatus === 'lost');
      if (done?.ID) return (await this.deps.nomad.allocations.info(done.ID, q)).data;
      await sleep(this.deps.pollMs ?? 500);
    }
    throw new DomainError('backup/failed', `job ${req.Job.ID} did not finish in time`);
  }

  /**
   * waitHealthy waits until the database job `jobId` (as `deploy` registered it) has a running allocation of its current
   * version that Nomad reports healthy. A failed or lost allocation, or none healthy within batchTimeoutMs, throws `backup/failed` with why.
   */
  async waitHealthy(state: DesiredState, jobId: string): Promise<void> {
    const deadline = Date.now() + (this.deps.batchTimeoutMs ?? 6 * 3600_000);
    const q = { namespace: namespaceName(state.team.slug, state.team.id) };
    while (Date.now() < deadline) {
      // Only an allocation of the job's current version counts: the previous version's (same job ID, another image
      // or volume) stays running and healthy for a while after a register.
      const version = (await this.deps.nomad.jobs.info(jobId, q)).data.Version;
      const allocs = (await this.deps.nomad.jobs.allocations(jobId, {}, q)).data.filter((a) => a.JobVersion === version);
      if (allocs.some((a) => a.ClientStatus === 'running' && a.DesiredStatus === 'run' && a.DeploymentStatus?.Healthy === true)) return;
      const dead = allocs.find((a) => a.ClientStatus === 'failed' || a.ClientStatus === 'lost');
      if (dead) throw new DomainError('backup/failed', `the database did not start: its allocation ${dead.ID ?? ''} is ${dead.ClientStatus ?? 'failed'}${dead.ClientDescription ? ` (${dead.ClientDescription})` : ''}`);
      await sleep(this.deps.pollMs ?? 500);
    }
    throw new DomainError('backup/failed', `the database job ${jobId} did not become healthy in time`);
  }

  /**
   * restore restores a backup object into `d` in place (the caller took a safety backup first). Redis is restored
   * into its stopped volume: the database job is stopped (volume kept), the RDB placed, the job deployed again.
   * Throws `backup/failed` when the restore task did not exit 0.
   */
  async restore(state: DesiredState, d: Database, o: { restoreId: string; destination: Destination; objectKey: string }): Promise<void> {
    const volume = await this.ensureVolume(state, d);
    const pinned: Database = { ...d, volume: { ...d.volume, nodeId: volume.nodeId } };
    if (d.engine === 'redis') {
      try {
        await this.remove(state, pinned);
      } catch (e) {
        if (!isNomadNotFound(e)) throw e;
      }
    }
    const job = await this.submit(compileRestoreJob(withDatabase(this.compiled(state), pinned), pinned, { restoreId: o.restoreId, destination: o.destination, objectKey: o.objectKey }));
    const alloc = await this.waitBatch(job);
    const t = dumpTaskState((alloc.TaskStates?.restore ?? undefined) as TaskStateLike | undefined);
    if (d.engine === 'redis') await this.deploy(state, d);
    if (t?.exitCode !== 0 || t.failed) throw new DomainError('backup/failed', `the restore task ${t ? `exited with code ${t.exitCode}` : 'did not run'}`);
  }

  /**
   * verify restores a backup object into a scratch instance inside one batch allocation and judges the `check` task:
   * its own exit code and the counts it printed (read from its stdout log through Nomad's fs API).
   */
  async verify(state: DesiredState, d: Database, o: { verificationId: string; destination: Destination; objectKey: string }): Promise<VerificationVerdict> {
    const job = compileVerifyJob(withDatabase(this.compiled(state), d), d, { verificationId: o.verificationId, destination: o.destination, objectKey: o.objectKey });
    const alloc = await this.waitBatch(await this.submit(job));
    const check = dumpTaskState(alloc.TaskStates?.[CHECK_TASK] as never);
    let stdout = '';
    if (alloc.ID) {
      try {
        const chunks: Buffer[] = [];
        for await (const c of await this.deps.nomad.fs.cat(alloc.ID, `alloc/logs/${CHECK_TASK}.stdout.0`, { namespace: job.request.Namespace })) chunks.push(Buffer.from(c));
        stdout = Buffer.concat(chunks).toString('utf8');
      } catch {
        stdout = '';
      }
    }
    return judgeVerification(check, stdout, (out) => parseCounts(d.engine, out));
  }

  /** digestAllocFile hashes a file of an allocation through Nomad's fs API (stat for presence, cat for the bytes). */
  async digestAllocFile(allocId: string, path: string, namespace: string): Promise<FileDigest | null> {
    try {
      const info = (await this.deps.nomad.fs.stat(allocId, path, { namespace })).data;
      if (info.IsDir) return null;
    } catch {
      return null;
    }
    const h = createHash('sha256');
    let size = 0;
    for await (const chunk of await this.deps.nomad.fs.cat(allocId, path, { namespace })) {
      size += chunk.byteLength;
      h.update(chunk);
    }
    return { size, sha256: h.digest('hex') };
  }

  /**
   * backup runs an on-demand backup job and judges it: the dump task's own exit code, the dump file's size and
   * SHA-256 read through Nomad's fs API, and the object read back from the destination.
   */
  async backup(state: DesiredState, d: Database, o: { destination: Destination; backupId: string; credentials: S3Credentials }): Promise<BackupRun> {
    const job = compileBackupJob(withDatabase(this.compiled(state), d), d, { destination: o.destination, backupId: o.backupId });
    const alloc = await this.waitBatch(await this.submit(job));
    const verdict = await this.judge(alloc, job.request.Namespace, d, o.destination, job.objectKey, o.credentials);
    return { jobId: job.request.Job.ID, objectKey: job.objectKey, verdict };
  }

  /** judge collects the evidence of a finished backup allocation and applies judgeBackup. */
  async judge(alloc: Allocation, namespace: string, d: Database, destination: Destination, objectKey: string, credentials: S3Credentials): Promise<BackupVerdict> {
    const dump = dumpTaskState(alloc.TaskStates?.[DUMP_TASK] as never);
    const file = alloc.ID ? await this.digestAllocFile(alloc.ID, `alloc/data/${DUMP_FILES[d.engine]}`, namespace) : null;
    const read = await digestObject({ endpoint: destination.endpoint, region: destination.region, bucket: destination.bucket, key: objectKey }, credentials);
    return judgeBackup({ dump, file, object: read.ok ? read.digest : null, ...(read.ok ? {} : { objectError: read.error }) });
  }
}
