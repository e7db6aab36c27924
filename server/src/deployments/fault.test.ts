/**
 * Fault test: with the Nomad double injecting faults on 20% of requests (503s, slow answers, writes applied whose
 * answer is lost), plus an index reset and a short leader loss, 100 deployments across 10 teams all converge to the
 * right terminal state (healthy, or failed with the scenario's cause), none registered twice, every body valid.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { setupOwner, startTestApp, type Client, type TestApp } from '../testing/app.ts';

const TOKEN = 'fault-test-nomad-token';
let nomad: NomadDouble;
let sut: TestApp;

before(async () => {
  nomad = await startNomadDouble({ token: TOKEN, stepMs: 80, seed: 7 });
  sut = await startTestApp({ env: { NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN } });
});

after(async () => {
  await sut?.services.deployments.stop();
  await sut?.close();
  await nomad?.close();
});

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
    out.push({ id: String(s.id), fails });
  }
  return out;
}

test('100 deployments across 10 teams converge under 20% Nomad faults, an index reset and a leader loss', { timeout: 300_000 }, async () => {
  const o = await setupOwner(sut);
  const all: { id: string; fails: boolean }[] = [];
  for (let t = 0; t < 10; t++) {
    const teamId = t === 0 ? o.teamId : String((await body(o.client.post('/api/teams', { name: `Fault team ${t}` }), 201)).id);
    all.push(...await services(o.client, teamId, t));
  }
  nomad.control.setFaults({ errorRate: 0.1, slowRate: 0.05, slowMs: 1_500, dropRate: 0.05 });
  sut.services.deployments.worker.start();
  const deployments = new Map<string, boolean>();
  for (const [i, s] of all.entries()) {
    const d = await body(o.client.post(`/api/services/${s.id}/deployments`, {}), 202);
    deployments.set(String(d.id), s.fails);
    // While deployments are in flight: an index reset (a snapshot restore), then a leader loss of one second.
    if (i === 40) nomad.control.resetIndex();
    if (i === 70) {
      nomad.control.setFaults({ leaderLoss: true });
      await sleep(1_000);
      nomad.control.setFaults({ errorRate: 0.1, slowRate: 0.05, slowMs: 1_500, dropRate: 0.05 });
    }
  }
  const inFlight = ((await sut.db.dataSource.query("SELECT count(*) AS n FROM deployments WHERE state IN ('queued', 'deploying')")) as { n: string }[])[0]?.n;
  const started = Date.now();
  let rows: { id: string; state: string; failure: { cause: string } | null; reason: string }[] = [];
  while (Date.now() - started < 180_000) {
    rows = (await sut.db.dataSource.query('SELECT id, state, failure, reason FROM deployments')) as typeof rows;
    if (rows.every((r) => !['queued', 'deploying'].includes(r.state))) break;
    await sleep(500);
  }
  nomad.control.setFaults({});
  assert.equal(rows.length, 100);
  const wrong = rows.filter((r) => (deployments.get(r.id)
    ? !(r.state === 'failed' && r.failure?.cause === 'pull_failed')
    : r.state !== 'healthy'));
  assert.deepEqual(wrong.map((r) => `${r.id} ${r.state}: ${r.reason}`), []);
  const registers = new Map<string, number>();
  for (const c of nomad.control.requests()) {
    const b = c.body as { EnforceIndex?: boolean; Job?: { Meta?: Record<string, string> } } | null;
    if (c.method !== 'PUT' || c.path !== '/v1/jobs' || c.status !== 200 || !b?.EnforceIndex) continue;
    const id = b.Job?.Meta?.['drover.deployment'] ?? '';
    registers.set(id, (registers.get(id) ?? 0) + 1);
  }
  assert.deepEqual([...registers].filter(([, n]) => n > 1), [], 'no deployment registered twice');
  assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400).map((c) => c.path), []);
  const faults = nomad.control.requests().filter((c) => c.status >= 500).length;
  const [ev] = (await sut.db.dataSource.query(
    "SELECT count(*) FILTER (WHERE kind = 'step_error') AS retried, count(*) FILTER (WHERE kind = 'registered' AND message LIKE '%earlier attempt%') AS adopted FROM deployment_events",
  )) as { retried: string; adopted: string }[];
  assert.ok(Number(ev?.retried) > 0, 'faults made steps fail and be retried');
  console.log(`fault test: 100 deployments converged ${Date.now() - started} ms after the last was queued (${inFlight} then in flight); ${faults} faulted answers of ${nomad.control.requests().length} requests; ${ev?.retried} step retries, ${ev?.adopted} registrations whose answer was lost found already made (not sent again)`);
});
