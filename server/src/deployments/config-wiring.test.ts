/**
 * The engine's settings reach it from the parsed configuration: the app is built the production way (loadConfig →
 * createApp → createServices → createDeploymentEngine) with DROVER_DEPLOY_PROGRESS_DEADLINE, DROVER_RECONCILE_INTERVAL
 * and DROVER_REMOVE_ORPHANS set, and the behaviour each one controls is observed — a deployment failing on a 10 s
 * deadline (the default is 15 min), orphans found within seconds of appearing (the default interval is 30 s), and
 * purged only when removal is on. Real Postgres, the Nomad double over HTTP; nothing is passed to the engine directly.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { aServiceJob } from '@drover/scheduler/nomad-validate/fixtures.ts';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { expectStatus, setupOwner, startTestApp, waitForDeployment, type TestApp } from '../testing/app.ts';

const TOKEN = 'double-token-for-config-tests';

/** anOrphan registers, straight in Nomad, a job carrying Drover's Meta for a deployment no record knows. */
async function anOrphan(sut: TestApp, id: string): Promise<void> {
  const job = aServiceJob(id);
  job.Meta = { 'drover.service': '00000000-0000-4000-8000-000000000001', 'drover.deployment': '00000000-0000-4000-8000-0000000000ff' };
  job.TaskGroups[0].Services[0].Name = id;
  await sut.services.deployments.nomad.jobs.register(job);
}

async function findingAt(sut: TestApp, jobId: string): Promise<Date | null> {
  const rows = (await sut.db.dataSource.query("SELECT at FROM cluster_findings WHERE kind = 'orphan' AND job_id = $1", [jobId])) as { at: Date }[];
  return rows[0]?.at ?? null;
}

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) assert.fail(`${what} within ${timeoutMs} ms`);
    await sleep(50);
  }
}

describe('DROVER_DEPLOY_PROGRESS_DEADLINE, DROVER_RECONCILE_INTERVAL and DROVER_REMOVE_ORPHANS=true', () => {
  let nomad: NomadDouble;
  let sut: TestApp;
  before(async () => {
    // Slow steps: the double fails an unhealthy deployment on its own progress deadline only after (10 min → 12
    // steps) 24 s, so the configured 10 s deadline of Drover comes first.
    nomad = await startNomadDouble({ token: TOKEN, stepMs: 2_000 });
    sut = await startTestApp({
      env: {
        NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN,
        DROVER_DEPLOY_PROGRESS_DEADLINE: '10s', DROVER_RECONCILE_INTERVAL: '1s', DROVER_REMOVE_ORPHANS: 'true',
      },
    });
  });
  after(async () => {
    await sut?.services.deployments.stop();
    await sut?.close();
    await nomad?.close();
  });

  it('a deployment that never becomes healthy fails when the configured 10 s deadline passes', async () => {
    const o = await setupOwner(sut);
    const p = await expectStatus(o.client.post(`/api/teams/${o.teamId}/projects`, { slug: 'deadline' }), 201);
    const envId = (await expectStatus(o.client.get(`/api/projects/${p.id}/environments`))).items[0].id as string;
    // Its checks never pass (the double's unhealthy scenario): only a deadline can end the deployment.
    const s = await expectStatus(o.client.post(`/api/environments/${envId}/services`, { slug: 'stuck', image: 'ghcr.io/acme/scenario-unhealthy:1', port: 8080 }), 201);
    sut.services.deployments.start();
    const queued = await expectStatus(o.client.post(`/api/services/${s.id}/deployments`, {}), 202);
    const d = await waitForDeployment(o.client, queued.id, ['healthy', 'failed', 'cancelled', 'superseded'], 40_000);
    assert.equal(d.state, 'failed', d.reason);
    assert.match(d.reason, /did not become healthy before its deadline/);
    const row = await sut.services.deployments.store.get(queued.id);
    assert.ok(row?.deadlineAt && row.startedAt && row.finishedAt);
    assert.equal(new Date(row.deadlineAt).getTime() - new Date(row.startedAt).getTime(), 10_000, 'the deadline is 10 s after the first claim');
    const took = new Date(row.finishedAt).getTime() - new Date(row.startedAt).getTime();
    assert.ok(took >= 10_000 && took < 22_000, `failed ${took} ms after the claim`);
  });

  it('the reconciler passes every second and purges an orphan', async () => {
    // The pass at start may or may not have run yet; an orphan that appears later is found by a later pass.
    await sleep(1_500);
    const appeared = Date.now();
    await anOrphan(sut, 'orphan-on-1a2b3c4d');
    await until('the orphan is purged', 6_000, async () => nomad.control.job('orphan-on-1a2b3c4d') === undefined);
    assert.ok(Date.now() - appeared < 6_000);
    assert.ok(await findingAt(sut, 'orphan-on-1a2b3c4d'), 'the orphan was reported too');
  });
});

describe('DROVER_RECONCILE_INTERVAL with DROVER_REMOVE_ORPHANS=false', () => {
  let nomad: NomadDouble;
  let sut: TestApp;
  before(async () => {
    nomad = await startNomadDouble({ token: TOKEN, stepMs: 100 });
    sut = await startTestApp({ env: { NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN, DROVER_RECONCILE_INTERVAL: '1s', DROVER_REMOVE_ORPHANS: 'false' } });
    sut.services.deployments.start();
  });
  after(async () => {
    await sut?.services.deployments.stop();
    await sut?.close();
    await nomad?.close();
  });

  it('an orphan is reported within seconds and kept', async () => {
    await sleep(1_500);
    await anOrphan(sut, 'orphan-off-1a2b3c4d');
    await until('the orphan is reported', 6_000, () => findingAt(sut, 'orphan-off-1a2b3c4d'));
    // Several more passes run; none removes it.
    await sleep(2_500);
    const job = nomad.control.job('orphan-off-1a2b3c4d') as { Stop?: boolean } | undefined;
    assert.ok(job, 'the orphan is still registered');
    assert.notEqual(job.Stop, true);
    assert.ok(!nomad.control.requests().some((c) => c.method === 'DELETE' && c.path.includes('orphan-off')), 'no deregister reached Nomad');
  });
});
