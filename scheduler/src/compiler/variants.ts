/**
 * Variants: a family of desired states that together exercise every branch of the compiler (drivers, network modes,
 * providers, secrets backends, cron, volumes, registry credentials, every database engine and version). The contract
 * and Nomad-rule tests compile each one, so "every job the compiler can produce" is held against both.
 */
import type { DesiredState, Service } from './model.ts';
import { aDatabase, aService, aSettings, aState, aVaultBackend } from './fixtures.ts';
import { ENGINES } from './database.ts';

const lit = (text: string) => ({ kind: 'text' as const, parts: [{ kind: 'literal' as const, text }] });
const ref = (target: string, name: string) => ({ kind: 'ref' as const, target, name });

/** richServices is one service of each shape, referencing each other and a database. */
export function richServices(): Service[] {
  return [
    aService({
      domains: [
        { id: 'f0000000-0000-4000-8000-000000000001', hostname: 'shop.example.com', verified: true },
        { id: 'f0000000-0000-4000-8000-000000000002', hostname: 'xn--bcher-kva.example', verified: false },
      ],
      command: ['node', 'server.js', '--port', '${PORT}', "-w '%{http_code}'"],
      healthcheck: { path: '/healthz', intervalMs: 10_000, timeoutMs: 2_000 },
      resources: { cpu: 500, memoryMB: 512, memoryMaxMB: 1024 },
      variables: [
        { name: 'NODE_ENV', value: lit('production') },
        { name: 'DATABASE_URL', value: { kind: 'text', parts: [ref('db', 'DATABASE_URL')] } },
        { name: 'API', value: { kind: 'text', parts: [{ kind: 'literal', text: 'https://' }, ref('api', 'PRIVATE_HOST'), { kind: 'literal', text: '/v1' }] } },
        { name: 'API_KEY', value: { kind: 'secret' } },
        { name: 'LOG', value: { kind: 'text', parts: [ref('shared', 'LOG_LEVEL')] } },
        { name: 'EMPTY', value: lit('') },
      ],
    }),
    aService({
      id: '3f1c2e9a-0000-4000-8000-000000000002', slug: 'uploads', public: false, replicas: 1,
      source: { kind: 'image', reference: 'ghcr.io/acme/uploads:3', port: 9090, digest: `sha256:${'ab'.repeat(32)}`, registryCredentialId: 'aa000000-0000-4000-8000-0000000000aa' },
      volumes: [{ id: '3f1c2e9a-0000-4000-8000-0000000000f1', name: 'files', mount: '/data', sizeBytes: 1024 ** 3 }],
      restart: 'on-failure',
    }),
    aService({
      id: '3f1c2e9a-0000-4000-8000-000000000003', slug: 'api', public: false, replicas: 1,
      source: { kind: 'artifact', url: 'https://releases.example.com/api-1.2.0-linux-amd64.tar.gz', checksum: `sha256:${'5f'.repeat(32)}` },
      command: ['./local/api', '--listen', ':${PORT}', '--alloc', '${NOMAD_ALLOC_ID}'],
      variables: [{ name: 'WEB', value: { kind: 'text', parts: [ref('web', 'PUBLIC_URL')] } }, { name: 'CACHE', value: { kind: 'text', parts: [ref('cache', 'REDIS_URL')] } }],
      restart: 'never',
    }),
    aService({
      id: '3f1c2e9a-0000-4000-8000-000000000004', slug: 'nightly-report', public: false, replicas: 1,
      source: { kind: 'image', reference: 'ghcr.io/acme/report:2' },
      cron: { schedule: '0 3 * * *', timezone: 'Europe/Berlin' },
      restart: 'on-failure',
      variables: [{ name: 'DB', value: { kind: 'text', parts: [ref('db', 'PGHOST')] } }],
    }),
    aService({
      id: '3f1c2e9a-0000-4000-8000-000000000005', slug: 'worker', public: false, replicas: 3,
      source: { kind: 'image', reference: 'redis' }, command: ['worker'], restart: 'never',
    }),
  ];
}

/** variants returns the named desired states the contract tests compile. */
export function variants(): { name: string; state: DesiredState }[] {
  const databases = Object.entries(ENGINES).flatMap(([engine, spec], i) => spec.versions.map((version, j) => aDatabase({
    id: `d${i}${j}00000-0000-4000-8000-000000000000`, name: i === 0 && j === 0 ? 'db' : i === 2 && j === 0 ? 'cache' : `${engine}-${version.replace('.', '-')}`,
    engine: engine as keyof typeof ENGINES, version, volume: { id: `d${i}${j}00000-0000-4000-8000-0000000000ff`, sizeBytes: 1024 ** 3 },
  })));
  const base = { services: richServices(), databases, shared: [{ name: 'LOG_LEVEL', value: lit('info') }] };
  return [
    { name: 'bridge, consul, nomad variables', state: aState(base) },
    { name: 'host network, nomad provider', state: aState({ ...base, settings: aSettings({ networkMode: 'host', serviceProvider: 'nomad' }) }) },
    { name: 'vault', state: aState({ ...base, settings: aSettings({ secrets: aVaultBackend, constraints: [] }) }) },
    { name: 'raw_exec, no resolver, no oversubscription, no region', state: aState({ ...base, settings: aSettings({ allowRawExec: true, traefik: { entrypoints: ['web', 'websecure'], certResolver: '' }, memoryOversubscription: false, region: '' }) }) },
  ];
}
