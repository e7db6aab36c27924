/**
 * The deployment engine's composition: the API service, the worker and the reconciler over one Nomad client, with
 * `start`/`stop` for the process (main.ts) — the HTTP-only test harness never starts them.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { readFileSync } from 'node:fs';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import { createNomadClient, NamespaceProvisioner } from '../cluster/nomad.ts';
import type { AccessChecker } from '../core/access.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { secretKeyBytes, type Config } from '../platform/config.ts';
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { subscribeDeploymentEvents, type DeploymentBusEvent } from './events.ts';
import { Reconciler, type ReconcilerOptions } from './reconciler.ts';
import { DeploymentsService } from './service.ts';
import { DeploymentStore, type DeploymentRow } from './store.ts';
import { clusterSettings } from './build.ts';
import { DatabaseDeployer } from '../databases/deploy.ts';
import { DomainError } from '../core/errors.ts';
import { DeploymentWorker, type DatabasesEventData, type PrepareOutcome, type WorkerOptions } from './worker.ts';

/** DeploymentEngineDeps are the adapters the engine is built from. */
export interface DeploymentEngineDeps {
  /** dataSource is the initialised DataSource. */
  dataSource: DataSource;
  /** config gives the Nomad settings, the management token, the secret key and the apps domain. */
  config: Pick<Config, 'nomad' | 'nomadManagementToken' | 'secretKey' | 'appsDomain' | 'allowUnverifiedDomains'> & Partial<Pick<Config, 'deployments' | 'vault' | 'databasePublic' | 'volumePlugin'>>;
  /** secrets is the SecretStore of variable values. */
  secrets: SecretStore;
  /** access decides what callers may do. */
  access: AccessChecker;
  /** audit records mutations. */
  audit: AuditRecorder;
  /** clock stamps records. */
  clock: Clock;
  /** bus publishes deployment and service events. */
  bus: EventBus;
  /** logger logs (never values). */
  logger: Logger;
  /** nomad replaces the client built from the configuration. */
  nomad?: NomadClient;
  /** vault replaces the Vault adapter built from `config.vault` (job variables in KV v2). */
  vault?: Pick<VaultAdapter, 'writeSecret' | 'readMetadata' | 'setMaxVersions'>;
  /** worker tunes the worker (overrides the configuration's progress deadline). */
  worker?: WorkerOptions;
  /** reconciler tunes the reconciler (overrides the configuration's interval and orphan removal). */
  reconciler?: ReconcilerOptions;
}

/** createDeploymentEngine builds the engine; nothing runs until `start`. */
export function createDeploymentEngine(d: DeploymentEngineDeps) {
  const nomad = d.nomad ?? createNomadClient(d.config.nomad);
  const store = new DeploymentStore(d.dataSource);
  const secretKey = secretKeyBytes(d.config);
  const logger = d.logger.child({ component: 'deployments' });
  const v = d.config.vault;
  // With Vault configured, job variables are written to KV v2 (a new version per deployment) instead of Nomad Variables.
  const ownVault = !d.vault && v?.token
    ? new VaultAdapter({ address: v.address, token: v.token, kvMount: v.kvMount, ...(v.caCertPath ? { tls: { ca: readFileSync(v.caCertPath, 'utf8') } } : {}) })
    : undefined;
  const vault = d.vault ?? ownVault;
  const tuned = d.config.deployments;
  const workerOptions: WorkerOptions = {
    ...(tuned ? { progressDeadlineMs: tuned.progressDeadlineMs } : {}), ...(d.config.volumePlugin ? { volumePlugin: d.config.volumePlugin } : {}), ...d.worker,
  };
  const reconcilerOptions: ReconcilerOptions = {
    ...(tuned ? { removeOrphans: tuned.removeOrphans, intervalMs: tuned.reconcileIntervalMs } : {}), ...d.reconciler,
  };
  // Databases keep their credentials where the services keep variables: Vault KV when Drover has Vault, else Nomad Variables.
  const kv = v && vault ? { kvMount: v.kvMount } : undefined;
  const databases = new DatabaseDeployer({ dataSource: d.dataSource, secrets: d.secrets, nomad, settings: clusterSettings(d.config.appsDomain, kv), access: d.access, audit: d.audit,
    ...(d.config.volumePlugin ? { volumePlugin: d.config.volumePlugin } : {}),
    ...(kv && vault ? { vault } : {}),
    ...(d.config.databasePublic ? { publicAccess: { ...d.config.databasePublic, appsDomain: d.config.appsDomain } } : {}) });
  const prepare = async (row: DeploymentRow): Promise<PrepareOutcome | null> => {
    // A database's own deployment deploys just that database; its job, registered with this deployment's Meta, is
    // what the worker then follows. An environment deploy leaves an unchanged database alone (no restart); an explicit
    // deploy of the database (POST /api/databases/:id/deployments) registers it anyway.
    const only = row.config['kind'] === 'database' ? row.serviceId : undefined;
    const r = await databases.sync(row.teamId, row.environmentId, row.id, only, { force: only !== undefined && row.config['explicit'] === true });
    const same = r.unchanged.map((x) => `database ${x.name} unchanged: still running deployment ${x.unchanged.deploymentId || '(unknown)'} (nothing registered)`);
    const note = [
      ...r.deployed.map((x) => `database ${x.jobId} registered on volume ${x.volume.name} (node ${x.volume.nodeId})`),
      ...same,
      ...r.removed.map((x) => `removed database ${x.jobId} deregistered (its volume is kept)`),
    ].join('; ') || null;
    // The same outcomes as data, so that readers need not parse the note (DeploymentEvent.data in the API).
    const databasesData: DatabasesEventData = { databases: [
      ...r.deployed.map((x) => ({ databaseId: x.database.id, name: x.database.name, outcome: 'registered' as const, jobId: x.jobId, volume: x.volume.name })),
      ...r.unchanged.map((x) => ({ databaseId: x.database.id, name: x.name, outcome: 'unchanged' as const, jobId: x.jobId, volume: x.volume.name,
        ...(x.unchanged.deploymentId ? { runningDeploymentId: x.unchanged.deploymentId } : {}) })),
      ...r.removed.map((x) => ({ databaseId: x.databaseId, name: x.name, outcome: 'removed' as const, jobId: x.jobId })),
    ] };
    const kept = r.unchanged[0];
    if (only && kept) {
      const running = kept.unchanged.deploymentId || '(unknown)';
      return {
        note: null, noteData: databasesData, done: `unchanged: database ${kept.name} still runs deployment ${running}; nothing was registered, its allocation keeps running`,
        data: { databaseId: only, runningDeploymentId: kept.unchanged.deploymentId, jobId: kept.jobId },
      };
    }
    if (only && r.deployed.length === 0) throw new DomainError('database/not_found', 'the database was removed before its deployment ran');
    return note === null ? null : { note, noteData: databasesData };
  };
  const worker = new DeploymentWorker({ store, nomad, namespaces: new NamespaceProvisioner(nomad, d.config.nomadManagementToken), bus: d.bus, logger, secretKey, prepare, ...(vault ? { vault } : {}) }, workerOptions);
  const reconciler = new Reconciler({ dataSource: d.dataSource, store, nomad, bus: d.bus, logger }, reconcilerOptions);
  const service = new DeploymentsService({
    dataSource: d.dataSource, store, secrets: d.secrets, access: d.access, audit: d.audit, clock: d.clock, nomad, bus: d.bus, secretKey,
    appsDomain: d.config.appsDomain, allowUnverifiedDomains: d.config.allowUnverifiedDomains, ...(v && vault ? { vault: { kvMount: v.kvMount } } : {}),
    ...(d.config.databasePublic ? { databasePublic: { ...d.config.databasePublic, appsDomain: d.config.appsDomain } } : {}),
  });
  let unpoke: Promise<Unsubscribe | undefined> | undefined;
  let warming: { done: Promise<unknown>; abort: AbortController } | undefined;
  // warm opens, at start, what the first deployment would otherwise open on its critical path: the pooled database
  // connections (the API's snapshot reads concurrently) and the keep-alive connection to Nomad. Failures are ignored:
  // the deployment path reports its own.
  const warm = () => {
    const abort = new AbortController();
    const poolSize = (d.dataSource.options as { poolSize?: number }).poolSize ?? 10;
    const done = Promise.allSettled([
      ...Array.from({ length: poolSize }, () => d.dataSource.query('SELECT 1')),
      nomad.status.leader({ signal: AbortSignal.any([abort.signal, AbortSignal.timeout(5_000)]) }),
    ]);
    return { done, abort };
  };
  return {
    /** service is the API side. */
    service,
    /** store is the deployment store. */
    store,
    /** worker runs queued deployments. */
    worker,
    /** reconciler compares desired and actual state. */
    reconciler,
    /** nomad is the client the engine uses. */
    nomad,
    /** vault is the KV v2 adapter job variables and database credentials are written through (undefined: Nomad Variables). */
    vault,
    /** vaultKvMount is the KV v2 mount of `vault` (undefined without Vault). */
    vaultKvMount: kv?.kvMount,
    /** subscribe calls `handler` for every later deployment/service event (of `teamIds` only, when given); for SSE and webhooks. */
    subscribe: (handler: (e: DeploymentBusEvent) => void, teamIds?: ReadonlySet<string>) => subscribeDeploymentEvents(d.bus, handler, teamIds),
    /**
     * start starts the worker and the reconciler, and pokes the worker on every `deployment.queued` event of the bus
     * (from any replica), so queued work is claimed at once rather than at the next poll. It also opens the database
     * pool and the Nomad connection, so the first deployment pays for neither.
     */
    start(): void {
      warming ??= warm();
      worker.start();
      reconciler.start();
      if (!unpoke) {
        unpoke = subscribeDeploymentEvents(d.bus, (e) => { if (e.type === 'deployment.queued') worker.poke(); })
          .catch((err: unknown) => { logger.warn({ err }, 'could not subscribe to deployment events; the worker polls'); return undefined; });
      }
    },
    /**
     * stop stops them (deployments in flight are resumed by the next claimer). The Nomad client stays open: other
     * domains share it; `closeNomad` closes it last.
     */
    async stop(): Promise<void> {
      warming?.abort.abort();
      await warming?.done;
      warming = undefined;
      const u = await unpoke;
      unpoke = undefined;
      await u?.();
      await worker.stop();
      await reconciler.stop();
    },
    /** closeNomad closes the Nomad client and the Vault adapter the engine built (not ones that were passed in). */
    async closeNomad(): Promise<void> {
      if (!d.nomad) await nomad.destroy();
      await ownVault?.close();
    },
  };
}

/** DeploymentEngine is what createDeploymentEngine returns. */
export type DeploymentEngine = ReturnType<typeof createDeploymentEngine>;
