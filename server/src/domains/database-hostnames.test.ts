/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * A public database's hostname is taken for service domains, across teams, over HTTP on a fresh Postgres: a service
 * made public again cannot get back a generated name a database opened meanwhile (409 `domain/taken` naming
 * body.public, nothing half-written), a custom domain equal to a database's hostname is refused (409 naming
 * body.hostname), a removed or closed database frees the name, and concurrent claims of one name never both win.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, expectStatus as ok, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';

const APPS = 'apps.example.com';
let sut: TestApp;
let owner: Client;
let envA: string;
let envB: string;

before(async () => {
  sut = await startTestApp({ env: { DROVER_APPS_DOMAIN: APPS, DROVER_DB_PUBLIC_ACCESS: 'true' } });
  const o = await setupOwner(sut);
  owner = o.client;
  const p = await ok(owner.post(`/api/teams/${o.teamId}/projects`, { slug: 'shop' }), 201);
  envA = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
  // A second team: the name space is the cluster's, not a team's.
  const team = await ok(owner.post('/api/teams', { name: 'Other', slug: 'other' }), 201);
  const q = await ok(owner.post(`/api/teams/${team.id}/projects`, { slug: 'lab' }), 201);
  envB = (await ok(owner.get(`/api/projects/${q.id}/environments`))).items[0].id;
});

after(async () => {
  await sut?.close();
});

const setPublic = (serviceId: string, pub: boolean) => owner.request('PATCH', `/api/services/${serviceId}`, { public: pub });
const openDb = (dbId: string, hostname: string) => owner.request('PATCH', `/api/databases/${dbId}`, { public: { enabled: true, hostname } });
const closeDb = (dbId: string) => ok(owner.request('PATCH', `/api/databases/${dbId}`, { public: { enabled: false } }));

describe('a public database hostname is taken for service domains', () => {
  it('a service made public again cannot take back a generated name that a database of another team holds now', async () => {
    const svc = await ok(owner.post(`/api/environments/${envA}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1', port: 8080 }), 201);
    const generated: string = svc.generatedHostname;
    assert.ok(generated.endsWith(`.${APPS}`), generated);
    await ok(setPublic(svc.id, false));
    const db = await ok(owner.post(`/api/environments/${envB}/databases`, { name: 'db', engine: 'postgres' }), 201);
    await ok(openDb(db.id, generated));

    const r = await setPublic(svc.id, true);
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.code, 'domain/taken');
    assert.equal(r.body.errors[0].path, 'body.public');
    assert.match(r.body.errors[0].message, /public database's hostname/);
    const after = await ok(owner.get(`/api/services/${svc.id}`));
    assert.equal(after.public, false, 'nothing half-written');
    assert.equal(after.generatedHostname, null);
    assert.deepEqual((await ok(owner.get(`/api/services/${svc.id}/domains`))).items, []);

    await closeDb(db.id);
    assert.equal((await ok(setPublic(svc.id, true))).generatedHostname, generated, 'a closed database frees the name');
  });

  it('a custom domain equal to a public database\'s hostname is refused across teams; a removed database frees it', async () => {
    const svc = await ok(owner.post(`/api/environments/${envA}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1', port: 8080 }), 201);
    const db = await ok(owner.post(`/api/environments/${envB}/databases`, { name: 'legacy', engine: 'redis' }), 201);
    // Custom domains may not sit under the apps domain, so only a database opened under an earlier apps domain
    // (the operator changed DROVER_APPS_DOMAIN since) can hold a name one could add: its row is set as it would be.
    const hostname = 'cache.example.org';
    await sut.db.dataSource.query('UPDATE databases SET public_hostname = $1 WHERE id = $2', [hostname, db.id]);

    const r = await owner.post(`/api/services/${svc.id}/domains`, { hostname });
    assert.equal(r.status, 409, r.text);
    assert.equal(r.body.code, 'domain/taken');
    assert.equal(r.body.errors[0].path, 'body.hostname');
    assert.match(r.body.errors[0].message, /public database's hostname/);
    assert.deepEqual((await ok(owner.get(`/api/services/${svc.id}/domains`))).items.map((d: any) => d.hostname).filter((h: string) => h === hostname), []);

    await ok(owner.request('DELETE', `/api/databases/${db.id}`), 204);
    assert.equal((await ok(owner.post(`/api/services/${svc.id}/domains`, { hostname }), 201)).hostname, hostname, 'a removed database holds no name');
  });

  it('a service and a database claiming one name at the same moment never both get it', async () => {
    const svc = await ok(owner.post(`/api/environments/${envA}/services`, { slug: 'race', image: 'ghcr.io/acme/race:1', port: 8080 }), 201);
    const generated: string = svc.generatedHostname;
    const db = await ok(owner.post(`/api/environments/${envB}/databases`, { name: 'race', engine: 'postgres' }), 201);
    for (let round = 0; round < 12; round++) {
      await ok(setPublic(svc.id, false));
      const [s, d] = await Promise.all([setPublic(svc.id, true), openDb(db.id, generated)]);
      assert.deepEqual([s.status, d.status].sort(), [200, 409], `round ${round}: ${s.status} ${d.status}`);
      if (d.status === 200) await closeDb(db.id);
    }
  });
});
