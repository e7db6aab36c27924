/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API and jobs the double holds */
/**
 * The `databases` event of a service deployment carries what it did with each database as data, not only as text.
 * The real app over HTTP on a fresh Postgres, the worker running, the Nomad double over HTTP: an environment deploy
 * with a service and a database records the database `registered` (its ID, job and volume); deploying again records it
 * `unchanged` with the deployment whose job still runs; after the database is removed, the next deploy records it
 * `removed` (ID, name and job).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { Client, expectStatus as ok, waitForDeployment } from '../testing/app.ts';
import { startDeployStack, type DeployStack } from '../testing/stack.ts';

const TERMINAL = ['healthy', 'failed', 'cancelled', 'superseded'];

describe('structured data of the databases event', () => {
  let nomad: NomadDouble;
  let owner: Client;
  let teamId: string;
  let stack: DeployStack;
  before(async () => {
    stack = await startDeployStack({ stepMs: 40 });
    ({ nomad, owner, teamId } = stack);
  });
  after(async () => { await stack?.close(); });

  const deployEnvironment = async (envId: string): Promise<any> => {
    const r = await ok(owner.post(`/api/environments/${envId}/deployments`, {}), 202);
    assert.equal(r.items.length, 1, 'one service, one deployment');
    const d = await waitForDeployment(owner, r.items[0].id, TERMINAL);
    assert.equal(d.state, 'healthy', d.reason);
    return d;
  };
  /** databasesEvent is the single `databases` event of a deployment, as the events API returns it. */
  const databasesEvent = async (deploymentId: string): Promise<any> => {
    const items = (await ok(owner.get(`/api/deployments/${deploymentId}/events`))).items as any[];
    const found = items.filter((e) => e.kind === 'databases');
    assert.equal(found.length, 1, items.map((e) => `${e.kind}: ${e.message}`).join('\n'));
    return found[0];
  };

  it('registered, then unchanged with the running deployment, then removed', async () => {
    const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' }), 201);
    const envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'pg', engine: 'postgres' }), 201);
    await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1', port: 8080 }), 201);

    const first = await deployEnvironment(envId);
    const job = nomad.control.requests()
      .filter((c) => (c.method === 'PUT' || c.method === 'POST') && c.status === 200 && /^\/v1\/jobs?(\/[^/]+)?$/.test(c.path))
      .map((c) => (c.body as { Job?: any })?.Job).find((j) => j?.Meta?.['drover.database'] === db.id);
    assert.ok(job, 'the database job was registered');
    const volume = (Object.values(job.TaskGroups[0].Volumes)[0] as any).Source;
    const registered = await databasesEvent(first.id);
    assert.deepEqual(registered.data, { databases: [{ databaseId: db.id, name: 'pg', outcome: 'registered', jobId: job.ID, volume }] });
    assert.match(registered.message, /^database \S+ registered on volume/, 'the message is still written');

    const second = await deployEnvironment(envId);
    const unchanged = await databasesEvent(second.id);
    assert.deepEqual(unchanged.data, { databases: [{ databaseId: db.id, name: 'pg', outcome: 'unchanged', jobId: job.ID, volume, runningDeploymentId: first.id }] });

    await ok(owner.request('DELETE', `/api/databases/${db.id}`), 204);
    const third = await deployEnvironment(envId);
    const removed = await databasesEvent(third.id);
    assert.deepEqual(removed.data, { databases: [{ databaseId: db.id, name: 'pg', outcome: 'removed', jobId: job.ID }] });

    // Events without structured details answer data null.
    const items = (await ok(owner.get(`/api/deployments/${first.id}/events`))).items as any[];
    assert.ok(items.some((e) => e.data === null), items.map((e) => `${e.kind}: ${JSON.stringify(e.data)}`).join('\n'));
  });
});
