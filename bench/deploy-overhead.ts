/**
 * Deployment engine benchmark (`node bench/deploy-overhead.ts`): starts the Nomad double in this process and the real
 * Drover server (server/src/main.ts on an embedded Postgres in a temporary data directory, NOMAD_ADDR at the
 * double), creates 20 teams with 10 services each, then prints
 *   1. the control-plane overhead per deployment — from the API call to the moment the double receives the job
 *      registration — p50/p99 over sequential deployments (goal ≤ 50 ms / ≤ 200 ms), and the API answer time;
 *   2. 200 concurrent deployments across the 20 teams: time until all are terminal, their states, and the same
 *      overhead under that load.
 * Both clocks are this process's (the double records each request's arrival time).
 *
 * Usage: node bench/deploy-overhead.ts [--sequential 50] [--step-ms 50] [--pool-size N (DROVER_DB_POOL_SIZE; default the server's)]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { nomadSchemaValidator } from '../scheduler/src/contracts/index.ts';
import { NomadClient } from '../scheduler/src/nomad/index.ts';
import { nomadConfigFromEnv } from '../scheduler/src/nomad/config.ts';
import { aServiceJob } from '../scheduler/src/nomad-validate/fixtures.ts';
import { startNomadDouble } from '../scheduler/src/testing/nomad-double/index.ts';
import { freePort } from '../server/src/platform/db/embedded-postgres.ts';
import { Client, testPassword } from '../server/src/testing/app.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { sequential: { type: 'string', default: '50' }, 'step-ms': { type: 'string', default: '50' }, 'pool-size': { type: 'string' } } });
const TOKEN = randomBytes(16).toString('hex');

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? NaN;
}

// 30 nodes of 8 GiB: room for 200 services of 256 MiB (the double places by memory like Nomad).
const nomad = await startNomadDouble({ token: TOKEN, stepMs: Number(args['step-ms']), nodes: 30 });
// The double is a cold JavaScript stand-in for a warm Go server: it checks every request body against the contract
// schema with validators compiled on first use (about 1.3 s under load, measured on the first plan, register and
// namespace requests) and its handlers are not JIT-compiled yet (≈40 ms more on the first namespace, plan and
// register). Real Nomad has neither cost, so the DOUBLE is warmed before any clock starts — its validators compiled,
// and one namespace, plan, register and purge of an unrelated job sent to it directly. Drover itself is not warmed
// by the bench: its first deployment is measured as it comes (and printed on its own below).
for (const def of ['Namespace', 'Variable', 'JobPlanRequest', 'JobRegisterRequest', 'DeploymentFailRequest', 'DeploymentPromoteRequest', 'WriteRequest']) nomadSchemaValidator(def);
{
  const warm = new NomadClient(nomadConfigFromEnv({ NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN }));
  const job = { ...aServiceJob('double-warmup'), Namespace: 'double-warmup' };
  await warm.namespaces.register({ Name: 'double-warmup', Description: 'warms the double' });
  await warm.jobs.plan(job, { diff: true }, { namespace: 'double-warmup' });
  await warm.jobs.register(job, {});
  await warm.jobs.deregister('double-warmup', { purge: true }, { namespace: 'double-warmup' });
  await warm.destroy();
}
const dataDir = mkdtempSync(join(tmpdir(), 'drover-bench-deploy-'));
const port = await freePort();
const env: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DROVER_|DATABASE_URL|REDIS_URL|NOMAD_|VAULT_|CONSUL_)/.test(k)) env[k] = v;
// Queries per create: bench/query-counter.ts, preloaded into the server, logs each deployment POST's statement count.
const queryLog = join(dataDir, 'create-queries.log');
const server: ChildProcess = spawn(process.execPath, ['--import', join(root, 'bench/query-counter.ts'), join(root, 'server/src/main.ts')], {
  env: { ...env, BENCH_QUERY_LOG: queryLog, NODE_ENV: 'development', DROVER_DATA_DIR: dataDir, DROVER_PORT: String(port), DROVER_LOG_LEVEL: 'warn', ...(args['pool-size'] ? { DROVER_DB_POOL_SIZE: args['pool-size'] } : {}), NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN },
  stdio: ['ignore', 'inherit', 'inherit'],
});
const hardStop = setTimeout(() => { server.kill('SIGKILL'); process.exit(2); }, 600_000);
try {
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try { if ((await fetch(`${base}/readyz`)).status === 200) break; } catch { /* starting */ }
    if (i > 1200) throw new Error('server did not start');
    await sleep(100);
  }
  const anon = new Client(base);
  const setup = await anon.post('/api/setup', { email: 'bench@example.test', name: 'Bench', password: testPassword(), teamName: 'Bench 0', teamSlug: 'bench-0' });
  const tok = await anon.post('/api/tokens', { name: 'bench', scopes: ['admin'] });
  const api = new Client(base, tok.body.token);
  const services: string[] = [];
  for (let t = 0; t < 20; t++) {
    const teamId = t === 0 ? setup.body.team.id : (await api.post('/api/teams', { name: `Bench ${t}` })).body.id;
    const p = await api.post(`/api/teams/${teamId}/projects`, { slug: 'app' });
    const envId = (await api.get(`/api/projects/${p.body.id}/environments`)).body.items[0].id;
    for (let i = 0; i < 10; i++) {
      const s = await api.post(`/api/environments/${envId}/services`, { slug: `s${i}`, image: `ghcr.io/acme/s${i}:1`, port: 8080 });
      services.push(s.body.id);
    }
  }
  const registeredAt = (): Map<string, number> => {
    const m = new Map<string, number>();
    for (const c of nomad.control.requests()) {
      const b = c.body as { Job?: { Meta?: Record<string, string> } } | null;
      const id = c.method === 'PUT' && c.path === '/v1/jobs' ? b?.Job?.Meta?.['drover.deployment'] : undefined;
      if (id && !m.has(id)) m.set(id, c.at);
    }
    return m;
  };
  const terminal = async (ids: string[]): Promise<Record<string, number>> => {
    for (;;) {
      const states: Record<string, number> = {};
      for (const id of ids) {
        const d = await api.get(`/api/deployments/${id}`);
        states[d.body.state] = (states[d.body.state] ?? 0) + 1;
      }
      if (!states.queued && !states.deploying) return states;
      await sleep(200);
    }
  };

  // 1. Sequential: one deployment at a time (services of team 0..n, first deployment of each).
  const seq: { id: string; sent: number; answered: number }[] = [];
  for (let i = 0; i < Number(args.sequential); i++) {
    const sid = services[(i * 7) % services.length] ?? '';
    const sent = Date.now();
    const r = await api.post(`/api/services/${sid}/deployments`, {});
    seq.push({ id: r.body.id, sent, answered: Date.now() });
    // Leave the previous deployment alone while it registers (polling the double's log here would slow the double).
    await sleep(250);
  }
  await terminal(seq.map((s) => s.id));
  let reg = registeredAt();
  const over = seq.map((s) => (reg.get(s.id) ?? NaN) - s.sent);
  const answer = seq.map((s) => s.answered - s.sent);
  console.log(`sequential (${seq.length}): API call → register sent p50 ${pct(over, 50)} ms, p99 ${pct(over, 99)} ms (goal ≤ 50 / ≤ 200); API answer p50 ${pct(answer, 50)} ms, p99 ${pct(answer, 99)} ms`);
  const slowest = over.map((v, i) => [i, v] as const).sort((a, b) => b[1] - a[1]).slice(0, 3);
  const warm = over.slice(1);
  console.log(`  slowest (deployment #: ms): ${slowest.map(([i, v]) => `#${i}: ${v}`).join(', ')}; without the first (cold process) deployment p50 ${pct(warm, 50)} ms, p99 ${pct(warm, 99)} ms`);
  // Where the time goes: the record's timestamps and its event log (database clock, same host), per step, p50/p99;
  // and the first deployment of the process on its own (the cold-start costs, if any are left, show there).
  const profile = async (list: { id: string; sent: number }[], reg: Map<string, number>, label: string, showFirst: boolean): Promise<void> => {
    const spans: Record<string, number[]> = {};
    for (const [i, s] of list.entries()) {
      const d = (await api.get(`/api/deployments/${s.id}`)).body as { createdAt: string; startedAt: string | null };
      const ev = ((await api.get(`/api/deployments/${s.id}/events`)).body as { items: { kind: string; at: string }[] }).items;
      const at = (k: string) => new Date(ev.find((e) => e.kind === k)?.at ?? NaN).getTime();
      const created = new Date(d.createdAt).getTime();
      const started = new Date(d.startedAt ?? NaN).getTime();
      // claimed → planned is the namespace, the variables (none here), the database hook and the plan with the live
      // job's read; the namespace's event is written with the plan's step (one round trip fewer).
      const mine: [string, number][] = [
        ['API call → record', created - s.sent],
        ['record → claimed', started - created],
        ['claimed → planned', at('planned') - started],
        ['planned → register sent', (reg.get(s.id) ?? NaN) - at('planned')],
      ];
      for (const [k, v] of mine) if (Number.isFinite(v)) (spans[k] ??= []).push(v);
      if (i === 0 && showFirst) {
        const t = (x: number) => (Number.isFinite(x) ? `+${x - s.sent}` : '-');
        console.log(`  first deployment: ${mine.map(([k, v]) => `${k} ${v} ms`).join('; ')}`);
        console.log(`  first deployment's event log (ms after the API call): ${ev.map((e) => `${e.kind} ${t(new Date(e.at).getTime())}`).join(', ')}; register sent ${t(reg.get(s.id) ?? NaN)}`);
      }
    }
    console.log(`  ${label} steps: ${Object.entries(spans).map(([k, v]) => `${k} p50 ${pct(v, 50)} / p99 ${pct(v, 99)} ms`).join('; ')}`);
  };
  await profile(seq, reg, 'sequential', true);
  const queriesPerCreate = (): number[] => (existsSync(queryLog) ? readFileSync(queryLog, 'utf8') : '').split('\n').filter(Boolean).map((l) => Number(l.split(' ')[0]));
  {
    const q = queriesPerCreate();
    console.log(`  queries per create (Postgres statements the POST sends, BEGIN/COMMIT included; ${q.length} creates): p50 ${pct(q, 50)}, max ${Math.max(...q)}`);
  }

  // 2. 200 concurrent deployments across 20 teams.
  const t0 = Date.now();
  const load = await Promise.all(services.map(async (sid) => {
    const sent = Date.now();
    const r = await api.post(`/api/services/${sid}/deployments`, { reason: 'load' });
    return { id: r.body.id as string, sent, answered: Date.now() };
  }));
  const states = await terminal(load.map((l) => l.id));
  const allTerminalMs = Date.now() - t0;
  reg = registeredAt();
  const overLoad = load.map((l) => (reg.get(l.id) ?? NaN) - l.sent);
  const failed = (await Promise.all(load.map(async (l) => (await api.get(`/api/deployments/${l.id}`)).body))).filter((d) => d.state !== 'healthy');
  if (failed.length > 0) console.log(`not healthy, e.g.: ${failed.slice(0, 3).map((d) => `${d.state}: ${d.reason}`).join(' | ')}`);
  const answerLoad = load.map((l) => l.answered - l.sent);
  console.log(`concurrent (200 across 20 teams): all terminal in ${allTerminalMs} ms, states ${JSON.stringify(states)}; API call → register sent p50 ${pct(overLoad, 50)} ms, p99 ${pct(overLoad, 99)} ms; API answer p50 ${pct(answerLoad, 50)} ms, p99 ${pct(answerLoad, 99)} ms`);
  await profile(load, reg, 'concurrent', false);
  {
    const q = queriesPerCreate().slice(seq.length);
    console.log(`  queries per create under load (${q.length} creates): p50 ${pct(q, 50)}, max ${Math.max(...q)}`);
  }
  const errors: Record<string, number> = {};
  for (const c of nomad.control.requests()) if (c.status >= 400) {
    const k = `${c.status} ${c.method} ${c.path.replace(/[0-9a-f-]{36}|[a-z0-9-]+-[0-9a-f]{8}/g, ':id')}`;
    errors[k] = (errors[k] ?? 0) + 1;
  }
  console.log(`Nomad requests: ${nomad.control.requests().length}; error answers (404s are first-deploy job lookups): ${JSON.stringify(errors)}`);
} finally {
  clearTimeout(hardStop);
  server.kill('SIGTERM');
  await new Promise((r) => server.once('exit', r));
  await nomad.close();
  rmSync(dataDir, { recursive: true, force: true });
}
