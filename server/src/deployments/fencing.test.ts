/**
 * Lease fencing of the deployment worker, with two workers on one Postgres database (as two control-plane replicas),
 * the Nomad double over HTTP and the loopback KV v2 server (Vault mode: each deployment pins the KV version it wrote).
 * Worker A claims a deployment and stalls (a test-only pause, heartbeat included, as a GC pause or a partition from
 * Postgres would) past its lease; worker B re-claims it and finishes it; then A is released. A must write nothing
 * after B's claim — the row and the event log stay as B left them, the job is registered once, the version the
 * record pins is the one the registered job reads — make no further Nomad call, and log that it abandoned the
 * deployment. A stale register (A stalled between its "about to register" write and the register call) is refused by
 * Nomad's EnforceIndex. At the store, a write fenced on an older claim of the same owner is refused (the epoch).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { NamespaceProvisioner } from '../cluster/nomad.ts';
import { createMemoryCoordination } from '../platform/coordination/index.ts';
import type { Coordination } from '../platform/coordination/types.ts';
import { createLogger } from '../platform/logger.ts';
import { startKvTestServer, type KvTestServer } from '../secrets/kv-test-server.ts';
import { Client, setupOwner, startTestApp, type TestApp, expectStatus, waitForDeployment } from '../testing/app.ts';
import { registrations, vaultPinProblems } from '../testing/deploy-checks.ts';
import { DeploymentStore } from './store.ts';
import { DeploymentWorker, type WorkerPausePoint } from './worker.ts';

const TOKEN = 'fencing-test-nomad-token';
const ok = expectStatus;
let nomad: NomadDouble;
let kv: KvTestServer;
let sut: TestApp;
let owner: Client;
let envId: string;
let coordination: Coordination;
const secretKey = randomBytes(32);
let seq = 0;

/** Gate holds whoever awaits it until opened. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => undefined as void;
  const wait = new Promise<void>((r) => { open = r; });
  return { wait, open };
}

/** worker builds a worker over the app's database, Nomad client and Vault adapter, logging into `logs`. */
function worker(name: string, logs: string[], o: { leaseMs: number; pause?: (p: WorkerPausePoint, id: string) => Promise<void> }): DeploymentWorker {
  const sink = new Writable({ write(chunk, _enc, cb) { logs.push(String(chunk)); cb(); } });
  const engine = sut.services.deployments;
  assert.ok(engine.vault, 'the app writes job variables to Vault');
  return new DeploymentWorker({
    store: new DeploymentStore(sut.db.dataSource), nomad: engine.nomad, namespaces: new NamespaceProvisioner(engine.nomad, TOKEN),
    bus: coordination.events, logger: createLogger('debug', sink), secretKey, vault: engine.vault,
  }, { owner: name, leaseMs: o.leaseMs, pollMs: 50, concurrency: 1, ...(o.pause ? { pause: o.pause } : {}) });
}

async function queued(): Promise<{ id: string; serviceId: string }> {
  const s = await ok(owner.post(`/api/environments/${envId}/services`, { slug: `fenced-${++seq}`, image: `ghcr.io/acme/fenced:${seq}`, port: 8080 }), 201);
  await ok(owner.request('PUT', `/api/services/${s.id}/variables`, { variables: { COLOR: `c-${seq}`, TOKEN: randomBytes(6).toString('hex') } }));
  const d = await ok(owner.post(`/api/services/${s.id}/deployments`, {}), 202);
  return { id: d.id as string, serviceId: s.id as string };
}

async function until(what: string, f: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await f())) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** snapshot reads the deployment row (every column) and its event log, as A must leave them. */
async function snapshot(id: string): Promise<{ row: Record<string, unknown>; events: unknown[] }> {
  const [row] = (await sut.db.dataSource.query('SELECT to_jsonb(d) AS j FROM deployments d WHERE id = $1', [id])) as { j: Record<string, unknown> }[];
  const events = (await sut.db.dataSource.query('SELECT id, kind, message, data FROM deployment_events WHERE deployment_id = $1 ORDER BY id', [id])) as unknown[];
  return { row: row?.j ?? {}, events };
}

async function leaseExpired(id: string): Promise<boolean> {
  const [r] = (await sut.db.dataSource.query('SELECT lease_expires_at < now() AS expired FROM deployments WHERE id = $1', [id])) as { expired: boolean }[];
  return r?.expired === true;
}

const abandoned = (logs: string[], id: string) => logs.some((l) => l.includes('deployment abandoned') && l.includes(id));
const registersOf = (id: string) => nomad.control.requests().filter((c) => c.method === 'PUT' && c.path === '/v1/jobs'
  && (c.body as { Job?: { Meta?: Record<string, string> } } | null)?.Job?.Meta?.['drover.deployment'] === id);

before(async () => {
  nomad = await startNomadDouble({ token: TOKEN, stepMs: 60 });
  kv = await startKvTestServer();
  coordination = createMemoryCoordination();
  sut = await startTestApp({ env: { NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN, VAULT_ADDR: kv.url, VAULT_TOKEN: kv.token, DROVER_SECRET_KEY: secretKey.toString('hex') } });
  const o = await setupOwner(sut);
  owner = o.client;
  const p = await ok(owner.post(`/api/teams/${o.teamId}/projects`, { slug: 'fenced' }), 201);
  envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
});

after(async () => {
  await sut?.services.deployments.stop();
  await sut?.services.deployments.closeNomad();
  await sut?.close();
  await coordination?.close();
  await nomad?.close();
  await kv?.close();
});

describe('deployment lease fencing', () => {
  it('a worker that stalled past its lease after writing its KV version writes nothing once another re-claimed and finished the deployment, and abandons it', async () => {
    const d = await queued();
    const logsA: string[] = [];
    const logsB: string[] = [];
    const held = gate();
    let stalled = false;
    // A stalls (pipeline and heartbeat) once its KV version is written, before recording it.
    const a = worker('worker-a', logsA, { leaseMs: 1_000, pause: async (p, id) => { if (p === 'variables' && id === d.id) stalled = true; if (stalled) await held.wait; } });
    const b = worker('worker-b', logsB, { leaseMs: 15_000 });
    try {
      a.start();
      await until('A to stall after writing its KV version', () => stalled);
      const byA = await snapshot(d.id);
      assert.equal((byA.row.lease_owner as string), 'worker-a');
      await until("A's lease to expire", () => leaseExpired(d.id));
      b.start();
      const done = await waitForDeployment(owner, d.id, ['healthy', 'failed', 'cancelled'], 20_000);
      assert.equal(done.state, 'healthy', done.reason);
      const byB = await snapshot(d.id);
      assert.ok((byB.row.lease_epoch as number) > (byA.row.lease_epoch as number), 'B claimed it with a newer epoch');
      const nomadCalls = nomad.control.requests().length;
      const kvCalls = kv.requests.length;
      assert.equal(kv.data.get(`drover/${done.namespace}/${done.jobId}`)?.length, 2, 'A wrote version 1, B wrote version 2');

      held.open();
      await until('A to abandon the deployment', () => abandoned(logsA, d.id), 10_000);
      await a.stop();
      assert.deepEqual(await snapshot(d.id), byB, 'A wrote nothing after B claimed the deployment (row and events as B left them)');
      assert.equal(nomad.control.requests().length, nomadCalls, 'A made no Nomad call after it was released');
      assert.equal(kv.requests.length, kvCalls, 'A made no Vault call after it was released');
      assert.equal(registrations(nomad).filter((r) => r.deploymentId === d.id).length, 1, 'registered once');
      assert.deepEqual(await vaultPinProblems({ nomad, kv, db: sut.db.dataSource, secretKey }), [], 'the record pins the KV version the registered job reads');
      assert.equal((byB.row.progress as { variables?: { vaultVersion?: number } }).variables?.vaultVersion, 2, "B's version is pinned");
      assert.ok(!abandoned(logsB, d.id), 'B never abandoned it');
    } finally {
      held.open();
      await a.stop();
      await b.stop();
    }
  });

  it('a worker that stalled between its "about to register" write and the register call is refused by EnforceIndex, writes nothing, and abandons', async () => {
    const d = await queued();
    const logsA: string[] = [];
    const logsB: string[] = [];
    const atRegister = gate();
    const heartbeat = gate();
    let stalled = false;
    // A stalls right before its register call; its heartbeat stays stalled until A's run is over.
    const a = worker('worker-a2', logsA, {
      leaseMs: 1_000,
      pause: async (p, id) => {
        if (p === 'register' && id === d.id) {
          stalled = true;
          await atRegister.wait;
        } else if (p === 'renew' && stalled) await heartbeat.wait;
      },
    });
    const b = worker('worker-b2', logsB, { leaseMs: 15_000 });
    try {
      a.start();
      await until('A to stall before its register', () => stalled);
      const byA = await snapshot(d.id);
      assert.equal(byA.row.step, 'planned', 'the plan was recorded (fenced) before the register');
      await until("A's lease to expire", () => leaseExpired(d.id));
      b.start();
      const done = await waitForDeployment(owner, d.id, ['healthy', 'failed', 'cancelled'], 20_000);
      assert.equal(done.state, 'healthy', done.reason);
      const byB = await snapshot(d.id);
      assert.equal(registersOf(d.id).length, 1, 'B registered the job');

      atRegister.open();
      await until('A to abandon the deployment', () => abandoned(logsA, d.id), 10_000);
      const attempts = registersOf(d.id);
      assert.equal(attempts.length, 2, "A's stale register reached Nomad");
      assert.notEqual(attempts[1]?.status, 200, "A's stale register was refused (EnforceIndex)");
      const nomadCalls = nomad.control.requests().length;
      heartbeat.open();
      await a.stop();
      await sleep(100);
      assert.equal(nomad.control.requests().length, nomadCalls, 'A made no Nomad call after the refused register');
      assert.deepEqual(await snapshot(d.id), byB, 'A wrote nothing after B claimed the deployment (row and events as B left them)');
      assert.equal(registrations(nomad).filter((r) => r.deploymentId === d.id).length, 1, 'registered once');
      assert.deepEqual(await vaultPinProblems({ nomad, kv, db: sut.db.dataSource, secretKey }), []);
    } finally {
      atRegister.open();
      heartbeat.open();
      await a.stop();
      await b.stop();
    }
  });

  it('refuses every write fenced on an older claim, also of the same owner (the epoch)', async () => {
    const d = await queued();
    const store = new DeploymentStore(sut.db.dataSource);
    const first = await store.claim('worker-same', 60_000);
    assert.equal(first?.id, d.id);
    const old = { owner: 'worker-same', epoch: first?.leaseEpoch ?? -1 };
    assert.ok(await store.renew(d.id, old, 60_000), 'the current claim renews');
    // The lease expires (a stall) and the same owner claims it again: a new epoch.
    await sut.db.dataSource.query("UPDATE deployments SET lease_expires_at = now() - interval '1 second' WHERE id = $1", [d.id]);
    const second = await store.claim('worker-same', 60_000);
    assert.equal(second?.id, d.id);
    const cur = { owner: 'worker-same', epoch: second?.leaseEpoch ?? -1 };
    assert.equal(cur.epoch, old.epoch + 1);
    const before = await snapshot(d.id);

    assert.equal(await store.stepWithEvents(d.id, old, { step: 'registered', progress: { registered: { evalId: 'x', jobModifyIndex: 9, jobVersion: 0 } } }, [{ kind: 'stale', message: 'stale' }]), null);
    assert.equal(await store.addFencedEvent(d.id, old, 'stale', 'stale'), false);
    assert.equal(await store.renew(d.id, old, 60_000), false);
    assert.equal(await store.finish(second ?? d as never, old, { state: 'failed', reason: 'stale', failure: null, output: null, progress: {}, events: [{ kind: 'failed', message: 'stale' }], runtime: null }), false);
    assert.deepEqual(await snapshot(d.id), before, 'nothing written under the older claim');

    const c = await store.stepWithEvents(d.id, cur, { step: 'planned', progress: { plan: { jobModifyIndex: 42 } } }, [{ kind: 'planned', message: 'planned' }]);
    assert.equal(c?.planIndex, 42, 'the fenced write returns the EnforceIndex it stored');
    assert.equal(await store.addFencedEvent(d.id, cur, 'note', 'current'), true);
    assert.equal(await store.finish(second ?? d as never, cur, { state: 'cancelled', reason: 'test over', failure: null, output: null, progress: {}, events: [{ kind: 'cancelled', message: 'test over' }], runtime: null }), true);
    const end = await snapshot(d.id);
    assert.equal(end.row.state, 'cancelled');
    assert.deepEqual((end.events as { kind: string }[]).slice(-3).map((e) => e.kind), ['planned', 'note', 'cancelled']);
  });
});
