import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import { setupOwner, type Client, startTestApp, type TestApp } from '../testing/app.ts';
import { currentValues, startKvTestServer, type KvTestServer } from '../secrets/kv-test-server.ts';
import { VaultAdapterKv } from '../secrets/vault-kv.ts';
import { VaultSecretStore } from '../secrets/vault-store.ts';

/** seed makes a project whose production environment has two services, service and shared variables, and credentials. */
async function seed(owner: Client, teamId: string) {
  const p = await owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' });
  const prod = (await owner.get(`/api/projects/${p.body.id}/environments`)).body.items[0];
  const web = await owner.post(`/api/environments/${prod.id}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1', port: 8080, registry: { username: 'bot', password: 'reg-secret-1' } });
  const worker = await owner.post(`/api/environments/${prod.id}/services`, { slug: 'worker', image: 'ghcr.io/acme/worker:1', volumes: [{ name: 'data', mount: '/data', size: '1GiB' }] });
  assert.equal(web.status, 201, web.text);
  assert.equal(worker.status, 201, worker.text);
  assert.equal((await owner.request('PUT', `/api/services/${web.body.id}/variables`, { variables: { API_KEY: 'web-secret-1', MODE: 'prod' } })).status, 200);
  assert.equal((await owner.request('PUT', `/api/services/${worker.body.id}/variables`, { variables: { QUEUE: 'jobs' } })).status, 200);
  assert.equal((await owner.request('PUT', `/api/environments/${prod.id}/variables`, { variables: { LOG_LEVEL: 'info' } })).status, 200);
  return { projectId: p.body.id as string, prod, web: web.body, worker: worker.body };
}

describe('environment duplicate (Postgres secret store)', () => {
  let sut: TestApp;
  let owner: Client;
  let teamId: string;
  before(async () => {
    sut = await startTestApp();
    const o = await setupOwner(sut);
    owner = o.client;
    teamId = o.teamId;
  });
  after(async () => {
    await sut.close();
  });

  it('copies services (new IDs and generated domains), their variables and values, shared variables and credentials', async () => {
    const s = await seed(owner, teamId);
    const r = await owner.post(`/api/environments/${s.prod.id}/duplicate`, { slug: 'staging', name: 'Staging' });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.slug, 'staging');
    const services = (await owner.get(`/api/environments/${r.body.id}/services`)).body.items as { id: string; slug: string; generatedHostname: string | null; volumes: unknown[]; registryCredentials: boolean }[];
    assert.deepEqual(services.map((x) => x.slug), ['web', 'worker']);
    const web = services[0]!;
    assert.notEqual(web.id, s.web.id);
    assert.match(web.generatedHostname ?? '', /^web-staging-[0-9a-f]{8}\.apps\.example\.test$/);
    assert.equal(web.registryCredentials, true);
    assert.deepEqual(services[1]?.volumes, s.worker.volumes);
    assert.equal((await owner.post(`/api/services/${web.id}/variables/API_KEY/reveal`)).body.value, 'web-secret-1');
    assert.equal((await owner.post(`/api/services/${services[1]!.id}/variables/QUEUE/reveal`)).body.value, 'jobs');
    assert.equal((await owner.post(`/api/environments/${r.body.id}/variables/LOG_LEVEL/reveal`)).body.value, 'info');
    const reg = await sut.services.projectDomains.secrets.read({ teamId, kind: 'registry', id: web.id });
    assert.equal(reg.get('password'), 'reg-secret-1');
    // The copy is independent: changing it leaves the source alone.
    await owner.request('PUT', `/api/services/${web.id}/variables`, { variables: { API_KEY: 'staging-key' } });
    assert.equal((await owner.post(`/api/services/${s.web.id}/variables/API_KEY/reveal`)).body.value, 'web-secret-1');
    const dup = await owner.post(`/api/environments/${s.prod.id}/duplicate`, { slug: 'staging' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.errors[0].path, 'body.slug');
    const audit = (await sut.db.dataSource.query(`SELECT details FROM audit_entries WHERE action = 'environment.duplicate'`)) as { details: { services: number; variables: number } }[];
    assert.deepEqual(audit.map((a) => [a.details.services, a.details.variables]), [[2, 4]]);
  });

  it('deleting the copy drops its values and leaves the source intact', async () => {
    const envs = (await owner.get(`/api/projects/${(await owner.get(`/api/teams/${teamId}/projects`)).body.items[0].id}/environments`)).body.items as { id: string; slug: string }[];
    const staging = envs.find((e) => e.slug === 'staging')!;
    const stagingServices = (await owner.get(`/api/environments/${staging.id}/services`)).body.items as { id: string }[];
    assert.equal((await owner.del(`/api/environments/${staging.id}`)).status, 204);
    for (const svc of stagingServices) {
      assert.equal((await sut.services.projectDomains.secrets.read({ teamId, kind: 'service', id: svc.id })).size, 0);
      assert.equal((await sut.services.projectDomains.secrets.read({ teamId, kind: 'registry', id: svc.id })).size, 0);
    }
    assert.equal((await sut.services.projectDomains.secrets.read({ teamId, kind: 'environment', id: staging.id })).size, 0);
    const prod = envs.find((e) => e.slug === 'production')!;
    assert.equal((await owner.post(`/api/environments/${prod.id}/variables/LOG_LEVEL/reveal`)).body.value, 'info');
  });
});

describe('environment duplicate (Vault secret store) is all or nothing', () => {
  let kv: KvTestServer;
  let vault: VaultAdapter;
  let sut: TestApp;
  let owner: Client;
  let teamId: string;
  before(async () => {
    kv = await startKvTestServer();
    vault = new VaultAdapter({ address: kv.url, token: kv.token, kvMount: 'secret', timeoutMs: 2000 });
    sut = await startTestApp({ secretStore: () => new VaultSecretStore(new VaultAdapterKv(vault)) });
    const o = await setupOwner(sut);
    owner = o.client;
    teamId = o.teamId;
  });
  after(async () => {
    // Optional: a failed before hook must not leave the KV server holding the test process open.
    await sut?.close();
    await vault?.close();
    await kv?.close();
  });

  it('when a later Vault write fails, the earlier copies are undone and no row of the new environment remains', async () => {
    const s = await seed(owner, teamId);
    const before = new Map(currentValues(kv));
    let posts = 0;
    kv.failWhen = (r) => r.method === 'POST' && ++posts === 3;
    let r;
    try {
      r = await owner.post(`/api/environments/${s.prod.id}/duplicate`, { slug: 'staging' });
    } finally {
      kv.failWhen = undefined;
    }
    assert.equal(r.status, 503, r.text);
    assert.ok(posts >= 3);
    const envs = (await owner.get(`/api/projects/${s.projectId}/environments`)).body.items.map((e: { slug: string }) => e.slug);
    assert.deepEqual(envs, ['production']);
    assert.deepEqual(new Map(currentValues(kv)), before, 'the values copied before the failure were removed again');
    const rows = (await sut.db.dataSource.query('SELECT count(*) AS n FROM services')) as { n: string }[];
    assert.equal(Number(rows[0]?.n), 2);
    const ok = await owner.post(`/api/environments/${s.prod.id}/duplicate`, { slug: 'staging' });
    assert.equal(ok.status, 201, ok.text);
    assert.equal(currentValues(kv).size, before.size * 2);
    assert.deepEqual(kv.violations, []);
  });
});

describe('environment snapshot for the deployment engine', () => {
  it('returns configuration, values, credentials and only routable hostnames', async () => {
    const { loadEnvironmentSnapshot } = await import('./snapshot.ts');
    const sut = await startTestApp();
    try {
      const o = await setupOwner(sut);
      const s = await seed(o.client, o.teamId);
      await o.client.post(`/api/services/${s.web.id}/domains`, { hostname: 'pending.example.com' });
      const snap = await loadEnvironmentSnapshot(sut.db.dataSource, sut.services.projectDomains.secrets, o.teamId, s.prod.id, { allowUnverifiedDomains: false });
      assert.equal(snap.environment.slug, 'production');
      assert.equal(snap.project.slug, 'shop');
      assert.deepEqual(Object.fromEntries(snap.shared), { LOG_LEVEL: 'info' });
      const [web, worker] = snap.services;
      assert.deepEqual(Object.fromEntries(web!.variables), { API_KEY: 'web-secret-1', MODE: 'prod' });
      assert.deepEqual(web!.registry, { username: 'bot', password: 'reg-secret-1' });
      assert.deepEqual(web!.hostnames, [s.web.generatedHostname]);
      assert.deepEqual(worker!.hostnames, []);
      assert.equal(worker!.registry, null);
      const lab = await loadEnvironmentSnapshot(sut.db.dataSource, sut.services.projectDomains.secrets, o.teamId, s.prod.id, { allowUnverifiedDomains: true });
      assert.deepEqual(lab.services[0]!.hostnames, [s.web.generatedHostname, 'pending.example.com']);
      await assert.rejects(loadEnvironmentSnapshot(sut.db.dataSource, sut.services.projectDomains.secrets, crypto.randomUUID(), s.prod.id, { allowUnverifiedDomains: false }),
        (e: { code?: string }) => e.code === 'environment/not_found');
    } finally {
      await sut.close();
    }
  });
});
