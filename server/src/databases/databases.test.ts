import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, inviteAndJoin, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';

describe('databases over HTTP', () => {
  let sut: TestApp;
  let owner: Client;
  let teamId: string;
  let environmentId: string;

  before(async () => {
    sut = await startTestApp();
    const o = await setupOwner(sut);
    owner = o.client;
    teamId = o.teamId;
    const p = await owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' });
    environmentId = (await owner.get(`/api/projects/${p.body.id}/environments`)).body.items[0].id;
  });
  after(async () => {
    await sut.close();
  });

  it('creates a database with generated credentials, reveals them (audited), names taken and bad versions refused naming the field', async () => {
    const r = await owner.post(`/api/environments/${environmentId}/databases`, { name: 'main', engine: 'postgres', sizeGiB: 5 });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.version, '18');
    assert.equal(r.body.sizeBytes, 5 * 1024 ** 3);
    assert.equal(r.body.status, 'live');
    assert.ok(r.body.variables.includes('DATABASE_URL') && r.body.variables.includes('PGHOST'));
    const creds = await owner.post(`/api/databases/${r.body.id}/credentials/reveal`, {});
    assert.equal(creds.status, 200, creds.text);
    assert.match(creds.body.password, /^[A-Za-z0-9]{32}$/);
    assert.match(creds.body.catalogService, /^shop-production-main-[0-9a-f]{8}$/);
    const again = await owner.post(`/api/databases/${r.body.id}/credentials/reveal`, {});
    assert.equal(again.body.password, creds.body.password, 'credentials are never regenerated');
    const audit = await owner.get(`/api/teams/${teamId}/audit`);
    assert.ok(JSON.stringify(audit.body).includes('database.credentials_reveal'));
    assert.ok(!JSON.stringify(audit.body).includes(creds.body.password));
    const dup = await owner.post(`/api/environments/${environmentId}/databases`, { name: 'main', engine: 'redis' });
    assert.equal(dup.status, 409);
    const bad = await owner.post(`/api/environments/${environmentId}/databases`, { name: 'other', engine: 'mysql', version: '5.7' });
    assert.equal(bad.status, 422);
    assert.equal(bad.body.errors[0].path, 'body.version');
  });

  it('a major version change keeps the old volume; removing keeps the row and volumes; destroying needs the typed name and an owner or admin', async () => {
    const db = (await owner.post(`/api/environments/${environmentId}/databases`, { name: 'legacy', engine: 'mysql', version: '8.0' })).body;
    const same = await owner.patch(`/api/databases/${db.id}`, { version: '8.0' });
    assert.equal(same.body.keptVolumes, 0);
    const up = await owner.patch(`/api/databases/${db.id}`, { version: '8.4' });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.version, '8.4');
    assert.equal(up.body.keptVolumes, 1);
    assert.equal((await owner.del(`/api/databases/${db.id}`)).status, 204);
    const removed = await owner.get(`/api/databases/${db.id}`);
    assert.equal(removed.body.status, 'removed');
    assert.equal(removed.body.keptVolumes, 1);
    // A member may not destroy data; a wrong name destroys nothing.
    const member = await inviteAndJoin(sut, owner, teamId, 'member@example.test', 'member');
    assert.equal((await member.client.request('DELETE', `/api/databases/${db.id}/volume`, undefined, { 'drover-confirm': 'legacy' })).status, 403);
    const wrong = await owner.request('DELETE', `/api/databases/${db.id}/volume`, undefined, { 'drover-confirm': 'legacy2' });
    assert.equal(wrong.status, 422);
    assert.equal(wrong.body.errors[0].path, 'headers.drover-confirm');
    assert.equal((await owner.get(`/api/databases/${db.id}`)).body.status, 'removed');
    const ok = await owner.request('DELETE', `/api/databases/${db.id}/volume`, undefined, { 'drover-confirm': 'legacy' });
    assert.equal(ok.status, 204, ok.text);
    assert.equal((await owner.get(`/api/databases/${db.id}`)).body.status, 'volume_destroyed');
    const audit = JSON.stringify((await owner.get(`/api/teams/${teamId}/audit`)).body);
    for (const a of ['database.version_change', 'database.remove', 'database.volume_destroy']) assert.ok(audit.includes(a), a);
  });
});
