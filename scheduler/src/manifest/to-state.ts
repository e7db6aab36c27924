/**
 * manifestToState builds the compiler's desired state from a valid manifest, with deterministic IDs (UUID-shaped
 * hashes of the project, environment and object names), so `drover plan` prints the same jobs every time.
 * Custom domains are unverified (a plan cannot know ownership), so they are listed in warnings, not routed.
 */
import { createHash } from 'node:crypto';
import type { ClusterSettings, Database, DesiredState, Service, Variable } from '../compiler/model.ts';
import type { Manifest, ManifestService, ManifestVariableValue } from './types.ts';
import { parseDuration, parseSize } from './units.ts';
import { parseValue } from './references.ts';

/** planId returns a deterministic UUID-shaped ID for the named object. */
export function planId(...parts: string[]): string {
  const h = createHash('sha256').update(`drover-plan\0${parts.join('\0')}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** planSettings are the cluster settings `drover plan` assumes unless told otherwise. */
export function planSettings(o: Partial<ClusterSettings> = {}): ClusterSettings {
  return {
    region: 'global',
    datacenters: ['dc1'],
    nodePool: 'default',
    constraints: [],
    networkMode: 'bridge',
    serviceProvider: 'consul',
    consulCluster: 'default',
    appsDomain: 'apps.drover.localhost',
    traefik: { entrypoints: ['websecure'], certResolver: 'letsencrypt' },
    secrets: { kind: 'nomad' },
    allowRawExec: false,
    memoryOversubscription: false,
    defaults: { cpu: 100, memoryMB: 256 },
    ...o,
  };
}

/** PlanOptions says whose plan it is and on which cluster. */
export interface PlanOptions {
  /** team is the team slug (default `default`). */
  team?: string;
  /** settings override planSettings. */
  settings?: Partial<ClusterSettings>;
}

/** DEFAULT_VOLUME_SIZE is the size of a volume or database that names none. */
export const DEFAULT_VOLUME_SIZE = '1GiB';

function toVariable(name: string, v: ManifestVariableValue): Variable {
  if (typeof v === 'object') return { name, value: { kind: 'secret' } };
  const parts = parseValue(String(v));
  if (typeof parts === 'string') throw new Error(`internal: unvalidated reference in ${name}`);
  return { name, value: { kind: 'text', parts } };
}

function toService(project: string, env: string, slug: string, s: ManifestService): Service {
  const id = planId('service', project, env, slug);
  const listens = !s.cron && (s.artifact !== undefined || s.port !== undefined);
  return {
    id,
    slug,
    source: s.artifact
      ? { kind: 'artifact', url: s.artifact.url, checksum: s.artifact.checksum }
      : { kind: 'image', reference: s.image ?? '', ...(s.port !== undefined ? { port: s.port } : {}) },
    ...(s.artifact ? { command: s.artifact.command } : s.command ? { command: s.command } : {}),
    public: s.public ?? listens,
    domains: (s.domains ?? []).map((hostname) => ({ id: planId('domain', hostname), hostname, verified: false })),
    ...(s.healthcheck
      ? { healthcheck: {
        ...(s.healthcheck.path !== undefined ? { path: s.healthcheck.path } : {}),
        intervalMs: parseDuration(s.healthcheck.interval ?? '10s') ?? 10_000,
        timeoutMs: parseDuration(s.healthcheck.timeout ?? '2s') ?? 2_000,
      } }
      : {}),
    replicas: s.replicas ?? 1,
    resources: {
      ...(s.resources?.cpu !== undefined ? { cpu: s.resources.cpu } : {}),
      ...(s.resources?.memory !== undefined ? { memoryMB: s.resources.memory } : {}),
      ...(s.resources?.memory_max !== undefined ? { memoryMaxMB: s.resources.memory_max } : {}),
    },
    restart: s.restart ?? (s.cron ? 'on-failure' : 'always'),
    volumes: (s.volumes ?? []).map((v) => ({
      id: planId('volume', project, env, slug, v.name), name: v.name, mount: v.mount, sizeBytes: parseSize(v.size ?? DEFAULT_VOLUME_SIZE) ?? 0,
    })),
    ...(s.cron ? { cron: { schedule: s.cron, timezone: s.timezone ?? 'UTC' } } : {}),
    variables: Object.entries(s.variables ?? {}).map(([k, v]) => toVariable(k, v)),
  };
}

/** manifestToState converts a manifest that passed validation into desired state. */
export function manifestToState(m: Manifest, opts: PlanOptions = {}): DesiredState {
  const env = m.environment ?? 'production';
  const team = opts.team ?? 'default';
  const databases: Database[] = Object.entries(m.databases ?? {}).map(([name, d]) => ({
    id: planId('database', m.project, env, name),
    name,
    engine: d.engine,
    version: String(d.version),
    volume: { id: planId('database-volume', m.project, env, name), sizeBytes: parseSize(d.size ?? DEFAULT_VOLUME_SIZE) ?? 0 },
    resources: {
      ...(d.resources?.cpu !== undefined ? { cpu: d.resources.cpu } : {}),
      ...(d.resources?.memory !== undefined ? { memoryMB: d.resources.memory } : {}),
      ...(d.resources?.memory_max !== undefined ? { memoryMaxMB: d.resources.memory_max } : {}),
    },
  }));
  return {
    team: { id: planId('team', team), slug: team, limits: { maxCpu: 64_000, maxMemoryMB: 262_144, maxMemoryMaxMB: 524_288, maxReplicas: 100 } },
    project: { id: planId('project', team, m.project), slug: m.project },
    environment: { id: planId('environment', team, m.project, env), slug: env },
    deployment: { id: planId('deployment', team, m.project, env), vaultKvVersion: 1 },
    services: Object.entries(m.services ?? {}).map(([slug, s]) => toService(m.project, env, slug, s)),
    databases,
    shared: Object.entries(m.shared ?? {}).map(([k, v]) => toVariable(k, v)),
    settings: planSettings(opts.settings),
  };
}
