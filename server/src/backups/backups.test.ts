import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';

describe('backup destinations, schedules and records over HTTP', () => {
  let sut: TestApp;
  let owner: Client;
  let teamId: string;
  let databaseId: string;

  before(async () => {
    sut = await startTestApp();
    const o = await setupOwner(sut);
    owner = o.client;
    teamId = o.teamId;
    const p = await owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' });
    const environmentId = (await owner.get(`/api/projects/${p.body.id}/environments`)).body.items[0].id;
    databaseId = (await owner.post(`/api/environments/${environmentId}/databases`, { name: 'main', engine: 'postgres' })).body.id;
  });
  after(async () => {
    await sut.close();
  });

  it('stores destination keys only in the secret store, schedules with checked cron, queues on-demand backups', async () => {
    const secret = 'sk-very-secret-0123456789';
    const d = await owner.post(`/api/teams/${teamId}/backup-destinations`, { name: 'offsite', endpoint: 'https://s3.eu.example.net/', region: 'eu-1', bucket: 'acme-backups', accessKeyId: 'AKIA1', secretAccessKey: secret });
    assert.equal(d.status, 201, d.text);
    assert.equal(d.body.endpoint, 'https://s3.eu.example.net');
    assert.ok(!d.text.includes(secret) && !d.text.includes('AKIA1'));
    const list = await owner.get(`/api/teams/${teamId}/backup-destinations`);
    assert.ok(!list.text.includes(secret));
    const audit = await owner.get(`/api/teams/${teamId}/audit`);
    assert.ok(!audit.text.includes(secret));
    const rows = await sut.db.dataSource.query('SELECT count(*)::int AS n FROM secret_values WHERE owner_kind = $1 AND owner_id = $2', ['backup_dest', d.body.id]);
    assert.equal(rows[0].n, 2);

    for (const [body, path] of [
      [{ name: 'x', endpoint: 'ftp://s3', bucket: 'acme-backups', accessKeyId: 'a', secretAccessKey: 'b' }, 'body.endpoint'],
      [{ name: 'y', endpoint: 'https://s3.example.net', bucket: 'Bad_Bucket', accessKeyId: 'a', secretAccessKey: 'b' }, 'body.bucket'],
    ] as const) {
      const r = await owner.post(`/api/teams/${teamId}/backup-destinations`, body);
      assert.equal(r.status, 422, r.text);
      assert.equal(r.body.errors[0].path, path);
    }

    const bad = await owner.request('PUT', `/api/databases/${databaseId}/backup-schedule`, { destinationId: d.body.id, cron: '0 99 * * *', keep: 7 });
    assert.equal(bad.status, 422, bad.text);
    assert.equal(bad.body.errors[0].path, 'body.cron');
    const ok = await owner.request('PUT', `/api/databases/${databaseId}/backup-schedule`, { destinationId: d.body.id, cron: '0 2 * * *', keep: 7 });
    assert.equal(ok.status, 200, ok.text);
    assert.deepEqual(ok.body, { destinationId: d.body.id, cron: '0 2 * * *', keep: 7 });

    const b = await owner.post(`/api/databases/${databaseId}/backups`, { destinationId: d.body.id });
    assert.equal(b.status, 202, b.text);
    assert.equal(b.body.status, 'queued');
    const backups = await owner.get(`/api/databases/${databaseId}/backups`);
    assert.deepEqual(backups.body.items.map((x: { id: string }) => x.id), [b.body.id]);
    const foreign = await owner.post(`/api/databases/${databaseId}/backups`, { destinationId: '00000000-0000-4000-8000-000000000000' });
    assert.equal(foreign.status, 422);
    assert.equal(foreign.body.errors[0].path, 'body.destinationId');
  });
});
