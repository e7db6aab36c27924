/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * Deployment engine integration tests: the real app over HTTP on a fresh Postgres, the worker and reconciler of the
 * engine, and the Nomad double over HTTP (its state machine, scenarios and contract validation). Every body the
 * engine sends must be accepted by the double's contract and Nomad-rule validation (no 400 anywhere).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { Client, setupOwner, startTestApp, type TestApp, expectStatus, waitForDeployment } from '../testing/app.ts';
import { loadEnvironmentSnapshot } from '../environments/snapshot.ts';
import { clusterSettings, desiredState } from './build.ts';
import type { DeploymentBusEvent } from './events.ts';

const TOKEN = 'double-token-for-tests';
let nomad: NomadDouble;
let sut: TestApp;
let owner: Client;
let envId: string;
let teamId: string;
let seq = 0;

const ok = expectStatus;

async function service(fields: Record<string, unknown>): Promise<string> {
  const s = await ok(owner.post(`/api/environments/${envId}/services`, { slug: `svc-${++seq}`, ...fields }), 201);
  return s.id as string;
}

async function deploy(serviceId: string): Promise<Record<string, any>> {
  return ok(owner.post(`/api/services/${serviceId}/deployments`, {}), 202);
}

function waitFor(id: string, states: string[], timeoutMs?: number): Promise<Record<string, any>> {
  return waitForDeployment(owner, id, states, timeoutMs);
}

async function itemsOf(d: Record<string, any>): Promise<Record<string, string>> {
  const v = await sut.services.deployments.nomad.variables.read(`nomad/jobs/${d.jobId}`, { namespace: d.namespace });
  return v.data.Items ?? {};
}

async function waitForStep(id: string, steps: string[], timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const d = await ok(owner.get(`/api/deployments/${id}`));
    if (steps.includes(d.step)) return;
    if (Date.now() > until) assert.fail(`deployment ${id} is at ${d.step} (${d.state}), expected ${steps.join('|')}`);
    await new Promise((r) => setTimeout(r, 30));
  }
}

function restartWorker(): void {
  sut.services.deployments.worker.start();
}

function no400s(): void {
  const bad = nomad.control.requests().filter((c) => c.status === 400);
  assert.deepEqual(bad.map((c) => `${c.method} ${c.path}: ${JSON.stringify(c.body).slice(0, 300)}`), []);
}

before(async () => {
  nomad = await startNomadDouble({ token: TOKEN, stepMs: 150 });
  sut = await startTestApp({ env: { NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN } });
  const o = await setupOwner(sut);
  owner = o.client;
  teamId = o.teamId;
  const p = await ok(owner.post(`/api/teams/${o.teamId}/projects`, { slug: 'shop' }), 201);
  const envs = await ok(owner.get(`/api/projects/${p.id}/environments`));
  envId = envs.items[0].id;
  sut.services.deployments.worker.start();
});

after(async () => {
  await sut?.services.deployments.stop();
  await sut?.close();
  await nomad?.close();
});

describe('deployments', () => {
  it('deploys a service to healthy with its variables written as data before the job', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:1.0', port: 8080 });
    await ok(owner.request('PUT', `/api/services/${sid}/variables`, { variables: { GREETING: 'hello {{ env "X" }}${attr.unique.hostname}' } }));
    const seen: DeploymentBusEvent[] = [];
    const unsubscribe = await sut.services.deployments.subscribe((e) => seen.push(e));
    const d = await deploy(sid);
    assert.equal(d.state, 'queued');
    const done = await waitFor(d.id, ['healthy', 'failed']);
    assert.equal(done.state, 'healthy', done.reason);
    await unsubscribe();
    assert.deepEqual(seen.filter((e) => e.deploymentId === d.id).map((e) => e.type), ['deployment.queued', 'deployment.deploying', 'deployment.healthy']);
    const job = nomad.control.job(done.jobId, done.namespace) as { Meta: Record<string, string> } | undefined;
    assert.equal(job?.Meta['drover.deployment'], d.id);
    const items = await itemsOf(done);
    const mine = Object.entries(items).filter(([k]) => k.startsWith(`${d.id}.`));
    assert.deepEqual(mine.map(([, v]) => v), ['hello {{ env "X" }}${attr.unique.hostname}']);
    const events = await ok(owner.get(`/api/deployments/${d.id}/events`));
    const kinds = events.items.map((e: { kind: string }) => e.kind);
    for (const k of ['created', 'namespace', 'variables', 'planned', 'registered', 'healthy']) assert.ok(kinds.includes(k), `${k} in ${kinds.join(',')}`);
    assert.ok(kinds.indexOf('variables') < kinds.indexOf('registered'));
    assert.doesNotMatch(JSON.stringify(done), /attr\.unique\.hostname/);
    const list = await ok(owner.get(`/api/services/${sid}/deployments`));
    assert.equal(list.items[0].id, d.id);
    no400s();
  });

  for (const [scenario, cause, pattern, output] of [
    ['pull-fail', 'pull_failed', /image pull failed: Failed to pull/, false],
    ['oom', 'oom', /out of memory/, true],
    ['unhealthy', 'unhealthy', /health check failing: .*503 Service Unavailable/, true],
    ['no-capacity', 'no_capacity', /no node with capacity: memory exhausted/, false],
  ] as const) {
    it(`reports the ${scenario} scenario with its reason${output ? ' and captured output' : ''}`, async () => {
      const sid = await service({ image: `ghcr.io/acme/scenario-${scenario}:1`, port: 8080, healthcheck: { path: '/healthz' } });
      const d = await deploy(sid);
      const done = await waitFor(d.id, ['healthy', 'failed'], 30_000);
      assert.equal(done.state, 'failed');
      assert.equal(done.failure.cause, cause, done.reason);
      assert.match(done.reason, pattern);
      if (output) assert.ok((done.outputTail ?? '').length > 0, 'the output tail is kept');
      no400s();
    });
  }

  it('cancels a first deployment in flight by stopping its job', async () => {
    const sid = await service({ image: 'ghcr.io/acme/scenario-unhealthy:2', port: 8080 });
    const d = await deploy(sid);
    await waitFor(d.id, ['deploying']);
    await waitForStep(d.id, ['registered', 'evaluated', 'watching']);
    const c = await ok(owner.post(`/api/deployments/${d.id}/cancel`, undefined));
    assert.ok(c.state === 'cancelled' || c.cancelRequested);
    const done = await waitFor(d.id, ['cancelled', 'failed']);
    assert.equal(done.state, 'cancelled', done.reason);
    assert.match(done.reason, /first deployment/);
    const job = nomad.control.job(done.jobId, done.namespace) as { Stop?: boolean } | undefined;
    assert.equal(job?.Stop, true);
  });

  it('cancels a later deployment by failing it so Nomad reverts to the last good version', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:2.0', port: 8080 });
    const first = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(first.state, 'healthy', first.reason);
    await ok(owner.request('PATCH', `/api/services/${sid}`, { image: 'ghcr.io/acme/scenario-unhealthy:3' }));
    const d = await deploy(sid);
    await waitForStep(d.id, ['watching']);
    await ok(owner.post(`/api/deployments/${d.id}/cancel`, undefined));
    const done = await waitFor(d.id, ['cancelled', 'failed']);
    assert.equal(done.state, 'cancelled', done.reason);
    assert.match(done.reason, /auto-revert/);
    const until = Date.now() + 15_000;
    for (;;) {
      const job = nomad.control.job(first.jobId, first.namespace) as { Meta: Record<string, string> };
      if (job.Meta['drover.deployment'] === first.id) break;
      assert.ok(Date.now() < until, 'Nomad reverted to the first deployment');
      await new Promise((r) => setTimeout(r, 100));
    }
    const report = await sut.services.deployments.reconciler.reconcileOnce();
    assert.ok(report.ran);
    assert.ok(!report.repaired.includes(first.jobId), 'the reconciler does not re-register the cancelled job');
  });

  it('a queued deployment is cancelled at once, and cancelling again answers the same', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:3.0', port: 8080 });
    await sut.services.deployments.worker.stop();
    try {
      const d = await deploy(sid);
      const c = await ok(owner.post(`/api/deployments/${d.id}/cancel`, undefined));
      assert.equal(c.state, 'cancelled');
      assert.equal((await ok(owner.post(`/api/deployments/${d.id}/cancel`, undefined))).state, 'cancelled');
    } finally {
      restartWorker();
    }
  });

  it('a create writes its record, created event and audit entry together, supersedes a queued one, and writes nothing on a bad reference', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:3.05', port: 8080 });
    await sut.services.deployments.worker.stop();
    let a: Record<string, any>;
    let b: Record<string, any>;
    try {
      a = await deploy(sid);
      b = await deploy(sid);
    } finally {
      restartWorker();
    }
    const doneA = await waitFor(a.id, ['superseded', 'deploying', 'healthy', 'failed']);
    assert.equal(doneA.state, 'superseded');
    assert.match(doneA.reason, new RegExp(`superseded by deployment ${b.id}`));
    const kindsOf = async (id: string) => (await ok(owner.get(`/api/deployments/${id}/events`))).items.map((e: { kind: string }) => e.kind);
    assert.deepEqual((await kindsOf(a.id)).slice(0, 2), ['created', 'superseded']);
    assert.equal((await kindsOf(b.id))[0], 'created');
    const audit = (await sut.db.dataSource.query("SELECT target_id AS id, details FROM audit_entries WHERE action = 'deployment.create' AND target_id = ANY($1::text[])", [[a.id, b.id]])) as { id: string; details: { serviceId: string } }[];
    assert.deepEqual(audit.map((r) => r.id).sort(), [a.id, b.id].sort());
    assert.ok(audit.every((r) => r.details.serviceId === sid));

    const bad = await service({ image: 'ghcr.io/acme/web:3.06', port: 8080 });
    await ok(owner.request('PUT', `/api/services/${bad}/variables`, { variables: { X: '$' + '{{ shared.NOT_DEFINED }}' } }));
    const r = await owner.post(`/api/services/${bad}/deployments`, {});
    assert.ok(r.status >= 400 && r.status < 500, `status ${r.status}`);
    assert.match(JSON.stringify(r.body), /NOT_DEFINED/);
    const [{ n }] = (await sut.db.dataSource.query(
      "SELECT (SELECT count(*) FROM deployments WHERE service_id = $1) + (SELECT count(*) FROM audit_entries WHERE action = 'deployment.create' AND details->>'serviceId' = $1::text) AS n", [bad],
    )) as [{ n: string }];
    assert.equal(Number(n), 0, 'nothing half-written');
    // The environment compiles as a whole: the bad reference would fail every later deployment of this environment.
    await ok(owner.request('DELETE', `/api/services/${bad}`, undefined), 204);
  });

  it('a deployment still queued when its service is deleted is dropped with the reason, never run', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:3.1', port: 8080 });
    await sut.services.deployments.worker.stop();
    let d: Record<string, any>;
    try {
      d = await deploy(sid);
      await ok(owner.request('DELETE', `/api/services/${sid}`, undefined), 204);
    } finally {
      restartWorker();
    }
    const done = await waitFor(d.id, ['cancelled', 'deploying', 'healthy', 'failed']);
    assert.equal(done.state, 'cancelled');
    assert.match(done.reason, /the service was deleted/);
    assert.equal(nomad.control.job(done.jobId, done.namespace), undefined, 'nothing was registered');
  });

  it('compiles custom domains with their real domain IDs, the generated one left implicit', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:3.2', port: 8080 });
    const dom = await ok(owner.post(`/api/services/${sid}/domains`, { hostname: 'shop-ids.example.com' }), 201);
    await sut.db.dataSource.query("UPDATE domains SET verification_status = 'verified', verified_at = now() WHERE id = $1", [dom.id]);
    const snap = await loadEnvironmentSnapshot(sut.db.dataSource, sut.services.projectDomains.secrets, teamId, envId, { allowUnverifiedDomains: false });
    const sut2 = desiredState({ id: teamId, slug: 'owner' }, snap, '00000000-0000-4000-8000-000000000001', clusterSettings('apps.example.test'));
    const compiled = sut2.services.find((x) => x.id === sid);
    assert.deepEqual(compiled?.domains, [{ id: dom.id, hostname: 'shop-ids.example.com', verified: true }]);
  });

  it('a newer deployment supersedes an older one in flight', async () => {
    const sid = await service({ image: 'ghcr.io/acme/scenario-unhealthy:4', port: 8080 });
    const a = await deploy(sid);
    await waitForStep(a.id, ['watching']);
    await ok(owner.request('PATCH', `/api/services/${sid}`, { image: 'ghcr.io/acme/web:4.0' }));
    const b = await deploy(sid);
    const doneA = await waitFor(a.id, ['superseded', 'healthy', 'failed']);
    assert.equal(doneA.state, 'superseded', doneA.reason);
    const doneB = await waitFor(b.id, ['healthy', 'failed']);
    assert.equal(doneB.state, 'healthy', doneB.reason);
  });

  it('rolls back to an older deployment with its image and its variable values; N+1 never changes what N reads', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:5.0', port: 8080 });
    await ok(owner.request('PUT', `/api/services/${sid}/variables`, { variables: { COLOR: 'blue' } }));
    const v1 = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(v1.state, 'healthy', v1.reason);
    await ok(owner.request('PATCH', `/api/services/${sid}`, { image: 'ghcr.io/acme/web:6.0' }));
    await ok(owner.request('PUT', `/api/services/${sid}/variables`, { variables: { COLOR: 'green' } }));
    const v2 = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(v2.state, 'healthy', v2.reason);
    const items = await itemsOf(v2);
    assert.deepEqual(Object.entries(items).filter(([k]) => k.startsWith(`${v1.id}.`)).map(([, v]) => v), ['blue'], 'N keeps its values');
    assert.deepEqual(Object.entries(items).filter(([k]) => k.startsWith(`${v2.id}.`)).map(([, v]) => v), ['green']);
    const rb = await ok(owner.post(`/api/deployments/${v1.id}/rollback`, {}), 202);
    assert.equal(rb.trigger, 'rollback');
    const done = await waitFor(rb.id, ['healthy', 'failed']);
    assert.equal(done.state, 'healthy', done.reason);
    assert.equal(done.image, 'ghcr.io/acme/web:5.0');
    const job = nomad.control.job(done.jobId, done.namespace) as { Meta: Record<string, string>; TaskGroups: { Tasks: { Config: { image: string }; Templates: { EmbeddedTmpl: string }[] }[] }[] };
    assert.equal(job.Meta['drover.deployment'], rb.id);
    assert.equal(job.TaskGroups[0]?.Tasks[0]?.Config.image, 'ghcr.io/acme/web:5.0');
    const after = await itemsOf(done);
    const keys = Object.keys(after).filter((k) => k.startsWith(`${v1.id}.`));
    assert.deepEqual(keys.map((k) => after[k]), ['blue'], 'the rolled-back job reads the old values');
    assert.ok(JSON.stringify(job.TaskGroups[0]?.Tasks[0]?.Templates ?? []).includes(v1.id), 'its template selects the old set');
  });

  it('a cron service is healthy once registered and its runs are tracked', async () => {
    const sid = await service({ image: 'ghcr.io/acme/report:1', cron: '0 3 * * *' });
    const d = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(d.state, 'healthy', d.reason);
    assert.match(d.reason, /cron/);
    await sut.services.deployments.nomad.jobs.periodicForce(d.jobId, { namespace: d.namespace });
    const until = Date.now() + 15_000;
    for (;;) {
      await sut.services.deployments.reconciler.reconcileOnce();
      const runs = await ok(owner.get(`/api/services/${sid}/runs`));
      if (runs.items.some((r: { status: string }) => r.status === 'complete' || r.status === 'failed')) break;
      assert.ok(Date.now() < until, `the run finished: ${JSON.stringify(runs.items)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('turning a service into a cron service purges its job and registers it anew (Nomad cannot change it in place)', async () => {
    const sid = await service({ image: 'ghcr.io/acme/worker:1' });
    const first = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(first.state, 'healthy', first.reason);
    await ok(owner.request('PATCH', `/api/services/${sid}`, { cron: '*/5 * * * *' }));
    const second = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(second.state, 'healthy', second.reason);
    const events = await ok(owner.get(`/api/deployments/${second.id}/events`));
    assert.ok(events.items.some((e: { kind: string }) => e.kind === 'purged'), 'the old job was purged');
    const job = (await sut.services.deployments.nomad.jobs.info(second.jobId, { namespace: second.namespace })).data;
    assert.deepEqual((job.Periodic as { Specs?: string[] } | null)?.Specs, ['*/5 * * * *'], JSON.stringify(job.Periodic));
    assert.equal(job.Meta?.['drover.deployment'], second.id);
    no400s();
  });

  it('scales, restarts and removes a service, keeping its volume', async () => {
    const sid = await service({ image: 'ghcr.io/acme/db-ui:1', port: 8080, volumes: [{ name: 'files', mount: '/data', size: '1GiB' }] });
    const d = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(d.state, 'healthy', d.reason);
    const bad = await owner.post(`/api/services/${sid}/scale`, { replicas: 2 });
    assert.equal(bad.status, 400);
    assert.deepEqual((await ok(owner.post(`/api/services/${sid}/scale`, { replicas: 0 }))).replicas, 0);
    const job = nomad.control.job(d.jobId, d.namespace) as { TaskGroups: { Count: number }[] };
    assert.equal(job.TaskGroups[0]?.Count, 0);
    await ok(owner.post(`/api/services/${sid}/scale`, { replicas: 1 }));
    await new Promise((r) => setTimeout(r, 1_500));
    const r = await ok(owner.post(`/api/services/${sid}/restart`, undefined));
    assert.ok(r.restarted >= 1);
    assert.equal((await owner.request('DELETE', `/api/services/${sid}/deployment`)).status, 204);
    assert.equal(nomad.control.job(d.jobId, d.namespace), undefined);
    assert.deepEqual(nomad.control.volumeDeletes(), []);
    const vols = await sut.services.deployments.nomad.hostVolumes.list({}, { namespace: d.namespace });
    assert.ok(vols.data.some((v) => (v.Name ?? '').startsWith('dv-')), 'the volume is still there');
    assert.equal((await ok(owner.get(`/api/deployments/${d.id}`))).state, 'removed');
    assert.equal((await owner.post(`/api/services/${sid}/restart`, undefined)).status, 409);
  });

  it('the reconciler reports and repairs drift, and reports orphans without removing them', async () => {
    const sid = await service({ image: 'ghcr.io/acme/web:7.0', port: 8080 });
    const d = await waitFor((await deploy(sid)).id, ['healthy', 'failed']);
    assert.equal(d.state, 'healthy', d.reason);
    await sut.services.deployments.nomad.jobs.deregister(d.jobId, {}, { namespace: d.namespace });
    const orphan = structuredClone(d.jobId);
    void orphan;
    const stored = (await sut.services.deployments.store.get(d.id))?.job as { Job: Record<string, any> };
    const foreign = structuredClone(stored.Job);
    foreign.ID = 'orphan-web-0a1b2c3d';
    foreign.Name = 'orphan-web-0a1b2c3d';
    foreign.Meta = { ...foreign.Meta, 'drover.deployment': '11111111-2222-4333-8444-555555555555' };
    for (const g of foreign.TaskGroups) for (const svc of g.Services ?? []) svc.Name = 'orphan-web-0a1b2c3d';
    await sut.services.deployments.nomad.jobs.register(foreign as never);
    const report = await sut.services.deployments.reconciler.reconcileOnce();
    assert.ok(report.drift.some((x) => x.startsWith(d.jobId)), JSON.stringify(report));
    assert.ok(report.repaired.includes(d.jobId));
    assert.ok(report.orphans.includes(`${d.namespace}/orphan-web-0a1b2c3d`), JSON.stringify(report));
    assert.deepEqual(report.removedOrphans, []);
    const job = nomad.control.job(d.jobId, d.namespace) as { Stop?: boolean; Meta: Record<string, string> };
    assert.notEqual(job.Stop, true);
    assert.equal(job.Meta['drover.deployment'], d.id);
    no400s();
  });
});
