/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * A database deployed on its own, and an environment of databases only, through the deployment engine: the real app
 * over HTTP on a fresh Postgres, the worker running, the Nomad double over HTTP. A database deployment is a durable
 * record with the same states as a service's; its job is registered with the deployment's Meta, pinned to the node of
 * its sticky single-writer volume, and followed to healthy; redeploying keeps the volume; no volume delete ever
 * reaches the double.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectStatus, waitForDeployment, type Client, type TestApp } from '../testing/app.ts';
import { startDeployStack, type DeployStack } from '../testing/stack.ts';

const ok = expectStatus;
let stack: DeployStack;
let nomad: DeployStack['nomad'];
let sut: TestApp;
let owner: Client;
let teamId: string;

before(async () => {
  stack = await startDeployStack();
  ({ nomad, sut, owner, teamId } = stack);
});

after(async () => {
  await stack?.close();
});

async function newEnvironment(slug: string): Promise<string> {
  const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug }), 201);
  return (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
}

/** registrations lists the job bodies the double accepted for the database `databaseId`. */
const registrations = (databaseId: string): any[] => nomad.control.requests()
  .filter((c) => (c.method === 'PUT' || c.method === 'POST') && c.status === 200 && /^\/v1\/jobs?(\/[^/]+)?$/.test(c.path))
  .map((c) => (c.body as { Job?: any })?.Job).filter((j) => j?.Meta?.['drover.database'] === databaseId && j?.Type === 'service');
const volumeCreates = (): string[] => nomad.control.requests()
  .filter((c) => c.method === 'PUT' && /\/v1\/volume\/host\/create/.test(c.path) && c.status === 200).map((c) => (c.body as any)?.Volume?.Name ?? '');

describe('database deployments', () => {
  it('deploys a database on its own to healthy, pinned to its volume; a redeploy keeps the volume; a removed database cannot be deployed', async () => {
    const envId = await newEnvironment('solo');
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'main', engine: 'postgres' }), 201);

    const d = await ok(owner.post(`/api/databases/${db.id}/deployments`, { reason: 'first' }), 202);
    assert.equal(d.serviceId, db.id);
    assert.equal(d.kind, 'database', 'the record says it deployed a database');
    assert.equal(d.state, 'queued');
    const done = await waitForDeployment(owner, d.id, ['healthy', 'failed', 'cancelled']);
    assert.equal(done.state, 'healthy', done.reason);
    assert.match(done.reason, /healthy/);
    assert.ok(done.nomadDeploymentId, 'the Nomad deployment of the database job was followed');

    const jobs = registrations(db.id);
    assert.equal(jobs.length, 1, 'registered once (the worker follows the job the database hook registered)');
    const job = jobs[0];
    assert.equal(job.ID, done.jobId);
    assert.equal(job.Meta['drover.deployment'], d.id, 'the job carries this deployment');
    const pin = (job.Constraints ?? []).find((c: any) => c.LTarget === '${node.unique.id}');
    assert.ok(pin?.RTarget, 'pinned to the node of its volume');
    const vol = Object.values(job.TaskGroups[0].Volumes ?? {})[0] as any;
    assert.equal(vol.Sticky, true);
    assert.equal(vol.AccessMode, 'single-node-single-writer');
    const mine = volumeCreates().filter((n) => job.TaskGroups[0].Volumes && n === vol.Source);
    assert.equal(mine.length, 1, 'its volume was created once');
    const events = (await ok(owner.get(`/api/deployments/${d.id}/events`))).items.map((e: any) => e.kind);
    for (const k of ['created', 'namespace', 'databases', 'registered', 'healthy']) assert.ok(events.includes(k), `event ${k} in ${events.join(', ')}`);
    // A database's deployment is no service runtime: the reconciler never re-registers a database job.
    assert.deepEqual(await sut.db.dataSource.query('SELECT service_id FROM service_runtime WHERE service_id = $1', [db.id]), []);

    const again = await waitForDeployment(owner, (await ok(owner.post(`/api/databases/${db.id}/deployments`, {}), 202)).id, ['healthy', 'failed', 'cancelled']);
    assert.equal(again.state, 'healthy', again.reason);
    assert.equal(volumeCreates().filter((n) => n === vol.Source).length, 1, 'a redeploy keeps the volume');
    assert.equal(registrations(db.id).at(-1).Meta['drover.deployment'], again.id);

    const rollback = await owner.post(`/api/deployments/${d.id}/rollback`, {});
    assert.equal(rollback.status, 409, rollback.text);
    assert.match(rollback.text, /restore one of its backups/, 'a database is not rolled back to an older stored job');

    const listed = await ok(owner.get(`/api/databases/${db.id}/deployments`));
    assert.deepEqual(listed.items.map((x: any) => [x.id, x.state]), [[again.id, 'healthy'], [d.id, 'healthy']], 'its own deployments, newest first');

    await ok(owner.request('DELETE', `/api/databases/${db.id}`), 204);
    const refused = await owner.post(`/api/databases/${db.id}/deployments`, {});
    assert.equal(refused.status, 404, refused.text);
    assert.deepEqual(nomad.control.volumeDeletes(), [], 'no volume delete reaches Nomad');
    assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400).map((c) => `${c.method} ${c.path}`), []);
  });

  it('deploys an environment that holds only databases: one deployment per live database, each healthy; an empty environment is refused', async () => {
    const envId = await newEnvironment('data-only');
    const pg = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'pg', engine: 'postgres' }), 201);
    const cache = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'cache', engine: 'redis' }), 201);
    const gone = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'gone', engine: 'redis' }), 201);
    await ok(owner.request('DELETE', `/api/databases/${gone.id}`), 204);

    const r = await ok(owner.post(`/api/environments/${envId}/deployments`, {}), 202);
    assert.deepEqual(r.items.map((x: any) => x.serviceId).sort(), [pg.id, cache.id].sort(), 'the live databases, not the removed one');
    assert.ok(r.items[0].batchId && r.items.every((x: any) => x.batchId === r.items[0].batchId), 'one batch');
    for (const item of r.items) {
      const done = await waitForDeployment(owner, item.id, ['healthy', 'failed', 'cancelled']);
      assert.equal(done.state, 'healthy', done.reason);
    }
    assert.equal(registrations(pg.id).length, 1);
    assert.equal(registrations(cache.id).length, 1);
    assert.equal(registrations(gone.id).length, 0, 'a removed database is not deployed');

    const empty = await newEnvironment('empty');
    const refused = await owner.post(`/api/environments/${empty}/deployments`, {});
    assert.equal(refused.status, 422, refused.text);
    assert.match(refused.text, /no services or databases/);
    assert.deepEqual(nomad.control.volumeDeletes(), [], 'no volume delete reaches Nomad');
  });
});
