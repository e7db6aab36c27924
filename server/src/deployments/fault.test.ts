/**
 * Fault test, in both variable modes (Nomad Variables; Vault KV v2 on the loopback KV server): with the Nomad double
 * injecting faults on 20% of requests (503s, slow answers, writes applied whose answer is lost), plus an index reset
 * and a short leader loss — and in Vault mode the KV server failing 20% of the job-value requests too (503s, a sealed
 * Vault's 503, slow answers, lost answers, timeouts) — 100 deployments across 10 teams all converge to the right
 * terminal state (healthy, or failed with the scenario's cause), none registered twice, every body valid, the
 * reconciler (a pass every second beside the worker) repairs no drift that is not there, and every registered job
 * reads exactly its deployment's values (in Vault mode: the KV version its template pins, read back).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { startKvTestServer, type KvTestServer } from '../secrets/kv-test-server.ts';
import { setupOwner, startTestApp, type Client, type TestApp } from '../testing/app.ts';
import { KV_FAULTS, kvWritesPerDeployment, liveValueProblems, modeEnv, registeredTwice, VARIABLES_MODES, vaultPinProblems, type VariablesMode } from '../testing/deploy-checks.ts';

const TOKEN = 'fault-test-nomad-token';
const NOMAD_FAULTS = { errorRate: 0.1, slowRate: 0.05, slowMs: 1_500, dropRate: 0.05 };

async function body(p: Promise<{ status: number; body: unknown; text: string }>, status: number): Promise<Record<string, unknown>> {
  const r = await p;
  assert.equal(r.status, status, r.text);
  return r.body as Record<string, unknown>;
}

async function services(owner: Client, teamId: string, team: number): Promise<{ id: string; fails: boolean }[]> {
  const p = await body(owner.post(`/api/teams/${teamId}/projects`, { slug: `p${team}` }), 201);
  const envs = await body(owner.get(`/api/projects/${String(p.id)}/environments`), 200);
  const envId = (envs.items as { id: string }[])[0]?.id ?? '';
  const out: { id: string; fails: boolean }[] = [];
  for (let i = 0; i < 10; i++) {
    const fails = i === 9;
    const s = await body(owner.post(`/api/environments/${envId}/services`, { slug: `s${i}`, image: fails ? `ghcr.io/acme/scenario-pull-fail:${team}` : `ghcr.io/acme/s${i}:${team}`, port: 8080 }), 201);
    // Values unique to the service, so a job reading another deployment's values is caught.
    await body(owner.request('PUT', `/api/services/${String(s.id)}/variables`, { variables: { COLOR: `c-${team}-${i}`, TOKEN: randomBytes(6).toString('hex') } }), 200);
    out.push({ id: String(s.id), fails });
  }
  return out;
}

/** faultSuite runs the fault test in one variable mode, on its own double, KV server and app. */
function faultSuite(mode: VariablesMode): void {
  let nomad: NomadDouble;
  let kv: KvTestServer | undefined;
  let sut: TestApp;
  const secretKey = randomBytes(32);

  before(async () => {
    nomad = await startNomadDouble({ token: TOKEN, stepMs: 80, seed: 7 });
    if (mode === 'vault') kv = await startKvTestServer();
    sut = await startTestApp({ env: { NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN, DROVER_SECRET_KEY: secretKey.toString('hex'), DROVER_RECONCILE_INTERVAL: '1s', ...modeEnv(mode, kv) } });
  });

  after(async () => {
    await sut?.services.deployments.stop();
    await sut?.services.deployments.closeNomad();
    await sut?.close();
    await nomad?.close();
    await kv?.close();
  });

  it(`100 deployments across 10 teams converge under 20% Nomad faults, an index reset and a leader loss${mode === 'vault' ? ', and 20% Vault faults' : ''}`, { timeout: 300_000 }, async () => {
    const o = await setupOwner(sut);
    const all: { id: string; fails: boolean }[] = [];
    for (let t = 0; t < 10; t++) {
      const teamId = t === 0 ? o.teamId : String((await body(o.client.post('/api/teams', { name: `Fault team ${t}` }), 201)).id);
      all.push(...await services(o.client, teamId, t));
    }
    nomad.control.setFaults(NOMAD_FAULTS);
    kv?.setFaults(KV_FAULTS);
    // The worker and the reconciler, as main.ts runs them; a reconciler pass every second races the worker.
    sut.services.deployments.start();
    const deployments = new Map<string, boolean>();
    for (const [i, s] of all.entries()) {
      const d = await body(o.client.post(`/api/services/${s.id}/deployments`, {}), 202);
      deployments.set(String(d.id), s.fails);
      // While deployments are in flight: an index reset (a snapshot restore), then a leader loss of one second.
      if (i === 40) nomad.control.resetIndex();
      if (i === 70) {
        nomad.control.setFaults({ leaderLoss: true });
        await sleep(1_000);
        nomad.control.setFaults(NOMAD_FAULTS);
      }
    }
    const inFlight = ((await sut.db.dataSource.query("SELECT count(*) AS n FROM deployments WHERE state IN ('queued', 'deploying')")) as { n: string }[])[0]?.n;
    const started = Date.now();
    let rows: { id: string; state: string; failure: { cause: string } | null; reason: string; namespace: string; jobId: string }[] = [];
    while (Date.now() - started < 180_000) {
      rows = (await sut.db.dataSource.query('SELECT id, state, failure, reason, namespace, job_id AS "jobId" FROM deployments')) as typeof rows;
      if (rows.every((r) => !['queued', 'deploying'].includes(r.state))) break;
      await sleep(500);
    }
    const tookMs = Date.now() - started;
    nomad.control.setFaults({});
    kv?.setFaults({});
    assert.equal(rows.length, 100);
    const wrong = rows.filter((r) => (deployments.get(r.id)
      ? !(r.state === 'failed' && r.failure?.cause === 'pull_failed')
      : r.state !== 'healthy'));
    assert.deepEqual(wrong.map((r) => `${r.id} ${r.state}: ${r.reason}`), [], 'every deployment ends in the right terminal state');
    assert.deepEqual(registeredTwice(nomad), [], 'no deployment registered twice');
    const repairs = (await sut.db.dataSource.query("SELECT deployment_id AS id, message FROM deployment_events WHERE kind = 'drift_repaired'")) as { id: string; message: string }[];
    assert.deepEqual(repairs.map((r) => `${r.id}: ${r.message}`), [], 'the reconciler repaired no drift (there was none)');
    assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400).map((c) => c.path), []);
    const checks = { nomad, kv, db: sut.db.dataSource, secretKey };
    const healthy = rows.filter((r) => r.state === 'healthy');
    assert.deepEqual(await liveValueProblems({ ...checks, mode, jobs: healthy }), [], 'every healthy job reads its own deployment\'s values');
    let kvNote = '';
    if (kv) {
      assert.deepEqual(await vaultPinProblems({ ...checks, kv }), [], 'every registered job pins the KV version holding its own values');
      assert.deepEqual(kv.violations, [], 'every Vault call is in vault-openapi.json');
      const writes = kvWritesPerDeployment(kv);
      const kvFaults = kv.requests.filter((r) => r.fault).length;
      const rewritten = [...writes.values()].filter((n) => n > 1).length;
      assert.ok(kvFaults > 0, 'the KV server injected faults');
      kvNote = `; Vault: ${kvFaults} faulted of ${kv.requests.filter((r) => r.path.includes('/drover/t-')).length} KV requests for job values (${kv.requests.filter((r) => r.fault === 'timeout').length} timed out), ${[...writes.values()].reduce((a, b) => a + b, 0)} versions written for ${writes.size} deployments (${rewritten} rewrote theirs after a lost answer or a crash, never changing what a registered job pins)`;
    }
    const faults = nomad.control.requests().filter((c) => c.status >= 500).length;
    const [ev] = (await sut.db.dataSource.query(
      "SELECT count(*) FILTER (WHERE kind = 'step_error') AS retried, count(*) FILTER (WHERE kind = 'registered' AND message LIKE '%earlier attempt%') AS adopted FROM deployment_events",
    )) as { retried: string; adopted: string }[];
    assert.ok(Number(ev?.retried) > 0, 'faults made steps fail and be retried');
    console.log(`fault test (${mode}): 100 deployments converged ${tookMs} ms after the last was queued (${inFlight} then in flight); ${faults} faulted answers of ${nomad.control.requests().length} Nomad requests; ${ev?.retried} step retries, ${ev?.adopted} registrations whose answer was lost found already made (not sent again)${kvNote}`);
  });
}

// Both modes run at once (separate doubles, databases and apps): the file takes as long as the longer one.
describe('fault test', { concurrency: true }, () => {
  for (const mode of VARIABLES_MODES) describe(`variables in ${mode}`, () => faultSuite(mode));
});
