/**
 * Fixtures: factories for the compiler's input, used by the compiler's tests, the property tests and the bench.
 * Every factory returns a fresh, valid object; overrides replace fields shallowly.
 */
import type { ClusterSettings, Database, DesiredState, Service, TeamLimits } from './model.ts';

/** aSettings returns cluster settings with Nomad Variables, Consul registration and bridge networking. */
export function aSettings(o: Partial<ClusterSettings> = {}): ClusterSettings {
  return {
    region: 'global',
    datacenters: ['dc1'],
    nodePool: 'tenants',
    constraints: [{ attribute: '${node.class}', operator: '=', value: 'tenant' }],
    networkMode: 'bridge',
    serviceProvider: 'consul',
    consulCluster: 'default',
    appsDomain: 'apps.drover.test',
    traefik: { entrypoints: ['websecure'], certResolver: 'letsencrypt' },
    secrets: { kind: 'nomad' },
    allowRawExec: false,
    memoryOversubscription: true,
    defaults: { cpu: 100, memoryMB: 256 },
    ...o,
  };
}

/** aVaultBackend is the Vault secrets backend of the fixtures. */
export const aVaultBackend: ClusterSettings['secrets'] = { kind: 'vault', kvMount: 'kv', role: 'drover-workload', cluster: 'default', audience: ['vault.io'] };

/** someLimits are generous team limits. */
export const someLimits: TeamLimits = { maxCpu: 8000, maxMemoryMB: 16384, maxMemoryMaxMB: 32768, maxReplicas: 20 };

/** aService returns a public image service listening on 8080. */
export function aService(o: Partial<Service> = {}): Service {
  return {
    id: '3f1c2e9a-0000-4000-8000-000000000001',
    slug: 'web',
    source: { kind: 'image', reference: 'ghcr.io/acme/web:1.4.2', port: 8080 },
    public: true,
    domains: [],
    replicas: 2,
    resources: {},
    restart: 'always',
    volumes: [],
    variables: [],
    ...o,
  };
}

/** aDatabase returns a postgres 17 database named `db`. */
export function aDatabase(o: Partial<Database> = {}): Database {
  return {
    id: '7d2e4b10-0000-4000-8000-0000000000d1',
    name: 'db',
    engine: 'postgres',
    version: '17',
    volume: { id: '7d2e4b10-0000-4000-8000-0000000000d2', sizeBytes: 10 * 1024 ** 3 },
    resources: {},
    ...o,
  };
}

/** aState returns desired state with one service and no database. */
export function aState(o: Partial<DesiredState> = {}): DesiredState {
  return {
    team: { id: 'a0000000-0000-4000-8000-00000000000a', slug: 'acme', limits: someLimits },
    project: { id: 'b0000000-0000-4000-8000-00000000000b', slug: 'shop' },
    environment: { id: 'c0000000-0000-4000-8000-00000000000c', slug: 'production' },
    deployment: { id: 'e0000000-0000-4000-8000-00000000000e', vaultKvVersion: 3 },
    services: [aService()],
    databases: [],
    shared: [],
    settings: aSettings(),
    ...o,
  };
}
