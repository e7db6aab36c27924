/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * Managed databases through the deployment engine: the real app over HTTP on a fresh Postgres and the Nomad double
 * over HTTP. A service referencing `${{ db.DATABASE_URL }}` deploys healthy, the database's job is registered with its
 * sticky single-writer host volume pinned to the volume's node, and removing the database deregisters its job at the
 * next deploy while no volume delete ever reaches the double.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectStatus, waitForDeployment, type Client, type TestApp } from '../testing/app.ts';
import { startDeployStack, type DeployStack } from '../testing/stack.ts';

let stack: DeployStack;
let nomad: DeployStack['nomad'];
let sut: TestApp;
let owner: Client;
let envId: string;

const ok = expectStatus;

function waitFor(id: string, states: string[], timeoutMs?: number): Promise<Record<string, any>> {
  return waitForDeployment(owner, id, states, timeoutMs);
}

before(async () => {
  stack = await startDeployStack({ stepMs: 100 });
  ({ nomad, sut, owner } = stack);
  const p = await ok(owner.post(`/api/teams/${stack.teamId}/projects`, { slug: 'shop' }), 201);
  envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
});

after(async () => {
  await stack?.close();
});

describe('databases through the deployment engine', () => {
  it('deploys a service referencing ${{ db.DATABASE_URL }} with the database on its sticky single-writer volume; removal keeps the volume', async () => {
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'db', engine: 'postgres' }), 201);
    const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1.0', port: 8080 }), 201);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { DATABASE_URL: '${{ db.DATABASE_URL }}' } }));

    const d = await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202);
    const done = await waitFor(d.id, ['healthy', 'failed']);
    assert.equal(done.state, 'healthy', done.reason);

    // The database job: registered in the team's namespace, its volume request sticky and single-writer, pinned.
    const jobs = nomad.control.requests().filter((c) => (c.method === 'PUT' || c.method === 'POST') && /^\/v1\/jobs?(\/[^/]+)?$/.test(c.path) && c.status === 200);
    const dbJob = jobs.map((c) => (c.body as { Job?: any })?.Job).find((j) => j?.Meta?.['drover.database'] === db.id);
    assert.ok(dbJob, `the database job was registered (saw ${jobs.map((c) => (c.body as { Job?: any })?.Job?.ID).join(', ')})`);
    const volumes = Object.values(dbJob.TaskGroups[0].Volumes ?? {}) as any[];
    assert.equal(volumes.length, 1);
    assert.equal(volumes[0].Type, 'host');
    assert.equal(volumes[0].Sticky, true);
    assert.equal(volumes[0].AccessMode, 'single-node-single-writer');
    const pin = (dbJob.Constraints ?? []).find((c: any) => c.LTarget === '${node.unique.id}');
    assert.ok(pin?.RTarget, 'the job is pinned to the node of its volume');
    const created = nomad.control.requests().filter((c) => c.method === 'PUT' && /\/v1\/volume\/host\/create/.test(c.path));
    assert.equal(created.length, 1, 'the volume is created once');

    // The service reads the database's credentials as data (Nomad Variable items) and its address from the catalog at
    // run time: the URL is rendered by the template, never written into the job.
    const items = (await sut.services.deployments.nomad.variables.read(`nomad/jobs/${done.jobId}`, { namespace: done.namespace })).data.Items ?? {};
    const mine = Object.entries(items).filter(([k]) => k.startsWith(`${d.id}.`)).map(([, v]) => v);
    const password = mine.find((v) => /^[A-Za-z0-9]{32}$/.test(v));
    assert.ok(password, `the generated password is an item (${mine.length} items)`);
    assert.ok(mine.some((v) => /^u[a-z0-9]{15}$/.test(v)), 'the generated user is an item');
    const serviceJob = JSON.stringify(nomad.control.job(done.jobId, done.namespace));
    assert.ok(serviceJob.includes(dbJob.ID), "the service's template reads the database's address from the catalog");
    assert.ok(!JSON.stringify(dbJob).includes(password), 'no credentials in the database job JSON');
    assert.ok(!serviceJob.includes(password), 'no credentials in the service job JSON');
    const events = await ok(owner.get(`/api/deployments/${d.id}/events`));
    assert.ok(events.items.some((e: any) => e.kind === 'databases' && e.message.includes(dbJob.ID)));

    // Redeploying keeps the volume (no second create); removing the database deregisters it at the next deploy.
    const again = await waitFor((await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202)).id, ['healthy', 'failed']);
    assert.equal(again.state, 'healthy', again.reason);
    assert.equal(nomad.control.requests().filter((c) => c.method === 'PUT' && /\/v1\/volume\/host\/create/.test(c.path)).length, 1);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { DATABASE_URL: 'postgres://elsewhere' } }));
    await ok(owner.request('DELETE', `/api/databases/${db.id}`), 204);
    const third = await waitFor((await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202)).id, ['healthy', 'failed']);
    assert.equal(third.state, 'healthy', third.reason);
    const deregs = nomad.control.requests().filter((c) => c.method === 'DELETE' && c.path.startsWith(`/v1/job/${dbJob.ID}`));
    assert.equal(deregs.length, 1, 'the removed database is deregistered once');
    assert.doesNotMatch(deregs[0]?.query ?? '', /purge=true/);
    assert.deepEqual(nomad.control.volumeDeletes(), [], 'no volume delete reaches Nomad');
    assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400).map((c) => `${c.method} ${c.path}`), []);
  });

  it('never runs a major upgrade on an empty new volume: without a backup destination the deploy fails and the data volume stays in use', async () => {
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'orders', engine: 'postgres', version: '16' }), 201);
    const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1.0', port: 8080 }), 201);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { DATABASE_URL: '${{ orders.DATABASE_URL }}' } }));
    const first = await waitFor((await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202)).id, ['healthy', 'failed']);
    assert.equal(first.state, 'healthy', first.reason);
    const creates = (): number => nomad.control.requests().filter((c) => c.method === 'PUT' && /\/v1\/volume\/host\/create/.test(c.path) && c.status === 200).length;
    const before = creates();

    await ok(owner.request('PATCH', `/api/databases/${db.id}`, { version: '17' }));
    const upgraded = await waitFor((await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202)).id, ['healthy', 'failed', 'cancelled']);
    assert.equal(upgraded.state, 'failed');
    assert.match(upgraded.reason, /major upgrade 16 → 17.*backup destination/);
    assert.equal(creates(), before, 'no new (empty) volume was created for the new version');
    const dbJobs = nomad.control.requests().filter((c) => (c.method === 'PUT' || c.method === 'POST') && c.status === 200 && (c.body as { Job?: any })?.Job?.Meta?.['drover.database'] === db.id);
    assert.match(JSON.stringify((dbJobs.at(-1)?.body as { Job?: any }).Job.TaskGroups[0].Tasks[0].Config), /postgres:16/, 'the database still runs 16 on its volume');
    assert.deepEqual(nomad.control.volumeDeletes(), []);
  });
});
