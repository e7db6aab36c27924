/**
 * Crash test, in both variable modes (Nomad Variables; Vault KV v2 on the loopback KV server, which also fails 20%
 * of the job-value requests): the real server process (`node server/src/main.ts`) on a test database, with
 * NOMAD_ADDR at the Nomad double, is killed with SIGKILL at random points while deployments run — 20 times with
 * Nomad Variables, 10 times in Vault mode (the same pipeline; fewer kills keep CI time reasonable) — and restarted
 * each time. After the last restart every deployment must be terminal within 60 s, none may be lost, none may have
 * been registered twice (each deployment's EnforceIndex registration reaches Nomad at most once), each ends in the
 * right state (healthy, or superseded by a newer deployment of its service; the newest of each service is healthy
 * and live), the reconciler (a pass every second, racing the worker) repairs no drift that is not there, and every
 * registered job reads exactly its deployment's values — in Vault mode the KV version its template pins, read back
 * from the KV server, however often a crash made the deployment write its values again.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { freePort } from '../platform/db/embedded-postgres.ts';
import { startKvTestServer, type KvTestServer } from '../secrets/kv-test-server.ts';
import { Client, testPassword } from '../testing/app.ts';
import { createTestDatabase, type TestDatabase } from '../testing/db.ts';
import { KV_FAULTS, kvWritesPerDeployment, liveValueProblems, modeEnv, registeredTwice, VARIABLES_MODES, vaultPinProblems, type VariablesMode } from '../testing/deploy-checks.ts';

const main = new URL('../main.ts', import.meta.url).pathname;
const TOKEN = 'crash-test-nomad-token';
const KILLS: Record<VariablesMode, number> = { 'nomad-variables': 20, vault: 10 };

type Proc = ChildProcessByStdio<null, Readable, Readable>;

/** crashSuite runs the crash test in one variable mode, on its own double, KV server, database and port. */
function crashSuite(mode: VariablesMode): void {
  const kills = KILLS[mode];
  let nomad: NomadDouble;
  let kv: KvTestServer | undefined;
  let db: TestDatabase;
  let dataDir: string;
  let port: number;
  const secretKey = randomBytes(32);

  function env(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (v !== undefined && !/^(DROVER_|DATABASE_URL|REDIS_URL|NOMAD_|CONSUL_|VAULT_|NODE_ENV)/.test(k)) out[k] = v;
    }
    return {
      ...out, NODE_ENV: 'test', DROVER_DATA_DIR: dataDir, DROVER_PORT: String(port), DROVER_LOG_LEVEL: 'warn', DROVER_SECRET_KEY: secretKey.toString('hex'),
      DATABASE_URL: db.url, NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN, DROVER_APPS_DOMAIN: 'apps.example.test', ...modeEnv(mode, kv),
      // A reconciler pass every second races the worker as often as possible (it must never undo a deployment).
      DROVER_RECONCILE_INTERVAL: '1s',
    };
  }

  async function start(): Promise<Proc> {
    const proc = spawn(process.execPath, [main], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
    const until = Date.now() + 60_000;
    for (;;) {
      try {
        if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return proc;
      } catch {
        // not listening yet
      }
      if (proc.exitCode !== null) throw new Error(`server exited:\n${out}`);
      if (Date.now() > until) throw new Error(`server did not start:\n${out}`);
      await sleep(50);
    }
  }

  async function kill(proc: Proc): Promise<void> {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGKILL');
    await exited;
  }

  before(async () => {
    nomad = await startNomadDouble({ token: TOKEN, stepMs: 100 });
    if (mode === 'vault') kv = await startKvTestServer();
    db = await createTestDatabase();
    dataDir = mkdtempSync(join(tmpdir(), 'drover-crash-'));
    port = await freePort();
  });

  after(async () => {
    await db?.cleanup();
    await nomad?.close();
    await kv?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it(`SIGKILL ${kills} times during deployments: all terminal within 60 s of the last restart, none lost, none registered twice`, { timeout: 420_000 }, async () => {
    let proc = await start();
    const anon = new Client(`http://127.0.0.1:${port}`);
    const setup = await anon.post('/api/setup', { email: 'crash@example.test', name: 'Crash', password: testPassword(), teamName: 'Crash', teamSlug: 'crash' });
    assert.equal(setup.status, 201, setup.text);
    const tok = await anon.post('/api/tokens', { name: 'crash', scopes: ['admin'] });
    assert.equal(tok.status, 201, tok.text);
    const api = new Client(`http://127.0.0.1:${port}`, tok.body.token);
    const project = await api.post(`/api/teams/${setup.body.team.id}/projects`, { slug: 'crash' });
    const envs = await api.get(`/api/projects/${project.body.id}/environments`);
    const envId = envs.body.items[0].id as string;
    const services: string[] = [];
    for (let i = 0; i < 6; i++) {
      const s = await api.post(`/api/environments/${envId}/services`, { slug: `s${i}`, image: `ghcr.io/acme/s${i}:1`, port: 8080 });
      assert.equal(s.status, 201, s.text);
      services.push(s.body.id);
      // Values unique to the service, so a job reading another deployment's values is caught.
      const v = await api.request('PUT', `/api/services/${s.body.id}/variables`, { variables: { COLOR: `c-${i}`, TOKEN: randomBytes(6).toString('hex') } });
      assert.equal(v.status, 200, v.text);
    }
    kv?.setFaults(KV_FAULTS);
    const created = new Set<string>();
    let rng = 42;
    const rand = () => { rng = (rng * 1103515245 + 12345) % 2 ** 31; return rng / 2 ** 31; };
    for (let k = 0; k < kills; k++) {
      for (let j = 0; j < 2; j++) {
        const sid = services[Math.floor(rand() * services.length)] ?? '';
        try {
          const r = await api.post(`/api/services/${sid}/deployments`, { reason: `cycle ${k}` });
          if (r.status === 202) created.add(r.body.id);
        } catch {
          // the process may be mid-start; a lost request created nothing we count
        }
      }
      await sleep(100 + Math.floor(rand() * 1200));
      await kill(proc);
      proc = await start();
    }
    const restartedAt = Date.now();
    const ids = [...created];
    let open: { id: string; state: string; step: string }[] = [];
    while (Date.now() - restartedAt < 60_000) {
      open = (await db.dataSource.query("SELECT id, state, step FROM deployments WHERE state IN ('queued', 'deploying')")) as typeof open;
      if (open.length === 0) break;
      await sleep(250);
    }
    const tookMs = Date.now() - restartedAt;
    await kill(proc);
    assert.deepEqual(open, [], 'every deployment is terminal within 60 s of the restart');
    kv?.setFaults({});
    // Every deployment, also those whose API answer a kill lost (they exist, and may be the newest of their service).
    const rows = (await db.dataSource.query(
      'SELECT id, state, reason, service_id AS "serviceId", namespace, job_id AS "jobId" FROM deployments ORDER BY created_at',
    )) as { id: string; state: string; reason: string; serviceId: string; namespace: string; jobId: string }[];
    const known = new Set(rows.map((r) => r.id));
    assert.deepEqual(ids.filter((id) => !known.has(id)), [], 'no deployment was lost');
    assert.deepEqual(registeredTwice(nomad), [], 'no deployment was registered twice');
    assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400).map((c) => c.path), [], 'every body was valid');
    // The right terminal state: healthy, or superseded by a newer deployment of its service; the newest is live.
    const newest = new Map(rows.map((r) => [r.serviceId, r]));
    assert.deepEqual(rows.filter((r) => r.state !== 'healthy' && !(r.state === 'superseded' && newest.get(r.serviceId) !== r)).map((r) => `${r.id} ${r.state}: ${r.reason}`), [],
      'every deployment is healthy or superseded by a newer one');
    // Nothing outside Drover touched the jobs: a drift repair here would re-register a job over a newer deployment.
    const repairs = (await db.dataSource.query("SELECT deployment_id AS id, message FROM deployment_events WHERE kind = 'drift_repaired'")) as { id: string; message: string }[];
    assert.deepEqual(repairs.map((r) => `${r.id}: ${r.message}`), [], 'the reconciler repaired no drift (there was none)');
    const liveOf = (r: { jobId: string; namespace: string }) => (nomad.control.job(r.jobId, r.namespace) as { Meta?: Record<string, string> } | undefined)?.Meta?.['drover.deployment'];
    assert.deepEqual([...newest.values()].filter((r) => liveOf(r) !== r.id).map((r) => `${r.jobId}: newest ${r.id} (${r.state}), live ${liveOf(r) ?? 'none'} (${rows.find((x) => x.id === liveOf(r))?.state ?? '?'})`), [],
      'the newest deployment of each service is the live job');
    const checks = { nomad, kv, db: db.dataSource, secretKey };
    assert.deepEqual(await liveValueProblems({ ...checks, mode, jobs: [...newest.values()] }), [], "every live job reads its own deployment's values");
    let kvNote = '';
    if (kv) {
      assert.deepEqual(await vaultPinProblems({ ...checks, kv }), [], 'every registered job pins the KV version holding its own values');
      assert.deepEqual(kv.violations, [], 'every Vault call is in vault-openapi.json');
      const writes = kvWritesPerDeployment(kv);
      kvNote = `; Vault: ${kv.requests.filter((r) => r.fault).length} faulted KV requests, ${[...writes.values()].reduce((a, b) => a + b, 0)} versions written for ${writes.size} deployments (${[...writes.values()].filter((n) => n > 1).length} wrote theirs again after a crash or a lost answer)`;
    }
    const states = rows.reduce<Record<string, number>>((m, r) => ({ ...m, [r.state]: (m[r.state] ?? 0) + 1 }), {});
    const [resumed] = (await db.dataSource.query(
      "SELECT count(*) FILTER (WHERE kind = 'resumed') AS resumed, count(*) FILTER (WHERE kind = 'registered' AND message LIKE '%earlier attempt%') AS adopted FROM deployment_events",
    )) as { resumed: string; adopted: string }[];
    assert.ok(Number(resumed?.resumed) > 0, 'some deployments were resumed after a kill (the kills landed mid-pipeline)');
    console.log(`crash test (${mode}): ${kills} kills, ${rows.length} deployments (${rows.length - ids.length} whose API answer a kill lost) ${JSON.stringify(states)}, ${resumed?.resumed} resumptions, ${resumed?.adopted} registrations found already made, all terminal ${tookMs} ms after the last restart${kvNote}`);
  });
}

// Both modes run at once (separate doubles, databases and ports): the file takes as long as the longer one.
describe('crash test', { concurrency: true }, () => {
  for (const mode of VARIABLES_MODES) describe(`variables in ${mode}`, () => crashSuite(mode));
});
