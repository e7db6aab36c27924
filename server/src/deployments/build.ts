/**
 * Build: turns an environment snapshot (configuration and variable values read at the moment of the request) into
 * the compiler's desired state, compiles it for one deployment of one service, and resolves the values of the data
 * items the job's templates read. The values are sealed (AES-256-GCM under a key derived from DROVER_SECRET_KEY) on
 * the deployment record, so the snapshot is immutable: the worker writes exactly these values, and a rollback writes
 * them again, whatever the variables hold by then. Values never appear in job JSON, logs, events or API answers.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { compile, CompileError } from '@drover/scheduler/compiler/index.ts';
import type { ClusterSettings, DesiredState, Service, Variable } from '@drover/scheduler/compiler/model.ts';
import type { JobRegisterRequest } from '@drover/scheduler/compiler/nomad-types.ts';
import type { ItemSource } from '@drover/scheduler/compiler/variables.ts';
import { planSettings } from '@drover/scheduler/manifest/to-state.ts';
import { parseValue } from '@drover/scheduler/manifest/references.ts';
import { parseDuration, parseSize } from '@drover/scheduler/manifest/units.ts';
import { DomainError } from '../core/errors.ts';
import type { EnvironmentSnapshot, ServiceSnapshot } from '../environments/snapshot.ts';
import { toModel } from '../databases/service.ts';
import { PUBLIC_OFF, withPublicAccess, type DatabasePublicSettings } from '../databases/public.ts';

/** TeamIdentity is what the compiler needs of the owning team. */
export interface TeamIdentity {
  /** id is the team's ID. */
  id: string;
  /** slug is its immutable slug. */
  slug: string;
}

/** DEFAULT_TEAM_LIMITS are the per-service maximums the compiler clamps to (teams carry no limits yet). */
export const DEFAULT_TEAM_LIMITS = { maxCpu: 64_000, maxMemoryMB: 262_144, maxMemoryMaxMB: 524_288, maxReplicas: 100 } as const;

/**
 * clusterSettings are the operator's cluster settings Drover compiles with; `appsDomain` comes from the configuration.
 * With `vault` (the cluster has Vault) job variables travel through KV v2 under `vault.kvMount`, read by the tasks'
 * workload identity through the JWT role `nomad-workloads` (audience `vault.io`, see scheduler/src/vault/README.md).
 */
export function clusterSettings(appsDomain: string, vault?: { kvMount: string }): ClusterSettings {
  return planSettings({
    appsDomain,
    secrets: vault ? { kind: 'vault', kvMount: vault.kvMount, role: 'nomad-workloads', cluster: 'default', audience: ['vault.io'] } : { kind: 'nomad' },
  });
}

/**
 * VAULT_VERSION_UNPINNED is the KV version a Vault-mode job is compiled with before its values are written; the
 * worker writes them and pins the version Vault returned (pinVaultVersion) before planning. Vault never reaches it.
 */
export const VAULT_VERSION_UNPINNED = 2_147_483_647;

/** BuiltDeployment is one service's compiled job and the resolved values of its data items. */
export interface BuiltDeployment {
  /** request is the JobRegisterRequest body as compiled (its Meta names the deployment). */
  request: JobRegisterRequest;
  /** namespace is the team's Nomad namespace. */
  namespace: string;
  /** jobId is the Nomad job ID. */
  jobId: string;
  /** periodic says the job is a cron (periodic batch) job. */
  periodic: boolean;
  /** variablesPath is the Nomad Variables path the items go to, or null when the job reads none. */
  variablesPath: string | null;
  /** values maps each item key (prefixed with the deployment ID) to its value. Secret: seal before storing. */
  values: Record<string, string>;
  /** volumes are the dynamic host volumes the job mounts. */
  volumes: { name: string; sizeBytes: number }[];
  /** warnings are the compiler's warnings. */
  warnings: string[];
}

function toVariable(name: string, text: string, path: string): Variable {
  const parts = parseValue(text);
  if (typeof parts === 'string') throw new DomainError('deployment/invalid', `${path}: ${parts}`, { errors: [{ path, message: parts }] });
  return { name, value: { kind: 'text', parts } };
}

function toService(s: ServiceSnapshot, appsDomain: string): Service {
  // Custom domains keep their real IDs (the compiler names Traefik routers from them); the generated one is implicit.
  const custom = s.domains.filter((d) => d.kind !== 'generated' && d.hostname !== appsDomain && !d.hostname.endsWith(`.${appsDomain}`));
  const c = s.service.config;
  const slug = s.service.slug;
  return {
    id: s.service.id,
    slug,
    source: c.artifact
      ? { kind: 'artifact', url: c.artifact.url, checksum: c.artifact.checksum }
      : {
        kind: 'image', reference: c.image ?? '', ...(c.port !== undefined ? { port: c.port } : {}),
        ...(s.registry ? { registryCredentialId: s.service.id } : {}),
      },
    ...(c.artifact ? { command: c.artifact.command } : c.command ? { command: c.command } : {}),
    public: c.public,
    // Only routable hostnames reach the compiler: the generated one is implicit, custom ones are verified (or allowed).
    domains: custom.map((d) => ({ id: d.id, hostname: d.hostname, verified: true })),
    ...(c.healthcheck ? { healthcheck: { path: c.healthcheck.path, intervalMs: parseDuration(c.healthcheck.interval) ?? 10_000, timeoutMs: parseDuration(c.healthcheck.timeout) ?? 2_000 } } : {}),
    replicas: c.replicas,
    resources: { cpu: c.resources.cpu, memoryMB: c.resources.memory, ...(c.resources.memory_max !== undefined ? { memoryMaxMB: c.resources.memory_max } : {}) },
    restart: c.restart,
    volumes: c.volumes.map((v, i) => ({
      id: s.service.id.replace(/.{4}$/, `f${i.toString(16).padStart(3, '0')}`), name: v.name, mount: v.mount, sizeBytes: parseSize(v.size) ?? 0,
    })),
    ...(c.cron ? { cron: { schedule: c.cron, timezone: c.timezone ?? 'UTC' } } : {}),
    variables: [...s.variables.entries()].map(([k, v]) => toVariable(k, v, `services.${slug}.variables.${k}`)),
  };
}

/**
 * desiredState builds the compiler input of an environment snapshot for one deployment ID; `publicSettings` (default:
 * off) give public databases their public access, so `${{ db.DATABASE_PUBLIC_URL }}` resolves for them.
 */
export function desiredState(team: TeamIdentity, snap: EnvironmentSnapshot, deploymentId: string, settings: ClusterSettings, publicSettings: DatabasePublicSettings = PUBLIC_OFF): DesiredState {
  return {
    team: { id: team.id, slug: team.slug, limits: { ...DEFAULT_TEAM_LIMITS } },
    project: { id: snap.project.id, slug: snap.project.slug },
    environment: { id: snap.environment.id, slug: snap.environment.slug },
    deployment: { id: deploymentId, ...(settings.secrets.kind === 'vault' ? { vaultKvVersion: VAULT_VERSION_UNPINNED } : {}) },
    services: snap.services.map((s) => toService(s, settings.appsDomain)),
    databases: snap.databases.map((row) => withPublicAccess(toModel(row), row, publicSettings)),
    shared: [...snap.shared.entries()].map(([k, v]) => toVariable(k, v, `shared.${k}`)),
    settings,
  };
}

function itemValue(src: ItemSource, snap: EnvironmentSnapshot): string {
  switch (src.kind) {
    case 'literal': return src.value;
    case 'registry': {
      const s = snap.services.find((x) => x.service.id === src.credentialId);
      if (!s?.registry) throw new DomainError('deployment/invalid', 'registry credentials are missing', { errors: [{ path: 'registryCredentials', message: 'are missing' }] });
      return s.registry[src.field];
    }
    case 'secret': {
      const map = src.owner === 'shared' ? snap.shared : snap.services.find((x) => x.service.id === src.ownerId)?.variables;
      const v = map?.get(src.name);
      if (v === undefined) throw new DomainError('deployment/invalid', `variable ${src.name} has no value`, { errors: [{ path: `variables.${src.name}`, message: 'has no value' }] });
      return v;
    }
    case 'database': {
      // The credentials were generated when the database was created (DatabaseCredentials.ensure), read with the snapshot.
      const v = snap.databaseCredentials.get(src.databaseId)?.get(src.field);
      if (v === undefined) throw new DomainError('deployment/invalid', `the database's ${src.field} credential is missing`, { errors: [{ path: `databases.${src.databaseId}.${src.field}`, message: 'is missing' }] });
      return v;
    }
  }
}

/**
 * buildDeployment compiles the environment for `deploymentId` and returns the job of `serviceId` with its item
 * values. Unknown references and cycles are `deployment/invalid` naming the variable's path, as is a reference to
 * DATABASE_PUBLIC_URL of a database that is not public (with `publicSettings`, default off).
 */
export function buildDeployment(team: TeamIdentity, snap: EnvironmentSnapshot, serviceId: string, deploymentId: string, settings: ClusterSettings, publicSettings: DatabasePublicSettings = PUBLIC_OFF): BuiltDeployment {
  const svc = snap.services.find((s) => s.service.id === serviceId);
  if (!svc) throw new DomainError('service/not_found');
  let result;
  try {
    result = compile(desiredState(team, snap, deploymentId, settings, publicSettings));
  } catch (e) {
    if (e instanceof CompileError) throw new DomainError('deployment/invalid', `${e.path}: ${e.reason}`, { errors: [{ path: e.path, message: e.reason }] });
    throw e;
  }
  const request = result.jobs.find((j) => j.Job.Meta?.['drover.service'] === serviceId);
  if (!request) throw new Error('internal: the compiler produced no job for the service');
  const jobId = request.Job.ID;
  const data = result.variables[jobId];
  const values: Record<string, string> = {};
  for (const [key, src] of Object.entries(data?.items ?? {})) values[key] = itemValue(src, snap);
  return {
    request,
    namespace: request.Job.Namespace ?? 'default',
    jobId,
    periodic: request.Job.Periodic != null,
    variablesPath: data ? data.path : null,
    values,
    volumes: result.volumes[jobId] ?? [],
    warnings: result.warnings.filter((w) => w.startsWith(`services.${svc.service.slug}`) || w.startsWith(jobId)),
  };
}

function valuesKey(secretKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', secretKey, Buffer.alloc(0), 'drover-deployment-values', 32));
}

/** sealValues encrypts item values (AES-256-GCM, random nonce) into `v1.<nonce>.<tag>.<ciphertext>` (base64url). */
export function sealValues(secretKey: Buffer, values: Record<string, string>, deploymentId: string): string {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', valuesKey(secretKey), nonce);
  c.setAAD(Buffer.from(deploymentId));
  const ct = Buffer.concat([c.update(JSON.stringify(values), 'utf8'), c.final()]);
  return ['v1', nonce.toString('base64url'), c.getAuthTag().toString('base64url'), ct.toString('base64url')].join('.');
}

/** openValues decrypts what sealValues sealed for the same deployment ID; tampering throws. */
export function openValues(secretKey: Buffer, sealed: string, deploymentId: string): Record<string, string> {
  const [v, nonce, tag, ct] = sealed.split('.');
  if (v !== 'v1' || !nonce || !tag || ct === undefined) throw new Error('sealed values: unknown format');
  const d = createDecipheriv('aes-256-gcm', valuesKey(secretKey), Buffer.from(nonce, 'base64url'));
  d.setAAD(Buffer.from(deploymentId));
  d.setAuthTag(Buffer.from(tag, 'base64url'));
  return JSON.parse(Buffer.concat([d.update(Buffer.from(ct, 'base64url')), d.final()]).toString('utf8')) as Record<string, string>;
}

/** variablesBackend tells where a job's data items travel from its compiled path: `nomad/jobs/…` is Nomad Variables, a KV v2 data path Vault. */
export function variablesBackend(path: string): 'nomad' | 'vault' {
  return path.startsWith('nomad/jobs/') ? 'nomad' : 'vault';
}

/**
 * pinVaultVersion returns a copy of a Vault-mode job whose templates read KV `path` at `version`: only the compiler's
 * `{{ with secret "<path>?version=<n>" }}` openers change (the path is checked by the compiler, tenant text is data
 * and never part of the template text). Throws when no template reads `path`, so an unpinned job is never registered.
 */
export function pinVaultVersion(request: JobRegisterRequest, path: string, version: number): JobRegisterRequest {
  if (!Number.isInteger(version) || version < 1) throw new RangeError('the KV version must be a positive integer');
  const out = structuredClone(request);
  const opener = new RegExp(`\\{\\{ with secret "${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\?version=[0-9]+" \\}\\}`, 'g');
  let pinned = 0;
  for (const g of out.Job.TaskGroups ?? []) {
    for (const t of g?.Tasks ?? []) {
      for (const tpl of t?.Templates ?? []) {
        if (!tpl?.EmbeddedTmpl) continue;
        tpl.EmbeddedTmpl = tpl.EmbeddedTmpl.replace(opener, () => {
          pinned++;
          return `{{ with secret "${path}?version=${version}" }}`;
        });
      }
    }
  }
  if (pinned === 0) throw new Error(`internal: no template of job ${out.Job.ID ?? '?'} reads ${path}`);
  return out;
}
