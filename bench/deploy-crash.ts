/**
 * Crash benchmark (`node bench/deploy-crash.ts [--kills 50] [--services 6]`): the real server process
 * (server/src/main.ts) on an embedded Postgres in a temporary data directory, NOMAD_ADDR at an in-process Nomad
 * double, is killed with SIGKILL at random points while deployments run, `--kills` times, and restarted each time.
 * Prints how long after a restart the deployments the kill left open took to become terminal (p50, max), how many
 * deployments a later process resumed, and checks that every one is terminal within 60 s of the restart, none was lost
 * and none registered twice (exit code 1 otherwise). The CI test (server/src/deployments/crash.test.ts) does 20.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { startNomadDouble } from '../scheduler/src/testing/nomad-double/index.ts';
import { freePort } from '../server/src/platform/db/embedded-postgres.ts';
import { Client, testPassword } from '../server/src/testing/app.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({ options: { kills: { type: 'string', default: '50' }, services: { type: 'string', default: '6' } } });
const KILLS = Number(args.kills);

function pct(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}
const TOKEN = randomBytes(16).toString('hex');
const nomad = await startNomadDouble({ token: TOKEN, stepMs: 100 });
const dataDir = mkdtempSync(join(tmpdir(), 'drover-bench-crash-'));
const port = await freePort();
const secretKey = randomBytes(32).toString('hex');
const baseEnv: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !/^(DROVER_|DATABASE_URL|REDIS_URL|NOMAD_|CONSUL_|VAULT_|NODE_ENV)/.test(k)) baseEnv[k] = v;
const env = {
  ...baseEnv, NODE_ENV: 'development', DROVER_DATA_DIR: dataDir, DROVER_PORT: String(port), DROVER_LOG_LEVEL: 'warn', DROVER_SECRET_KEY: secretKey,
  NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN, NOMAD_MGMT_TOKEN: TOKEN,
};
const base = `http://127.0.0.1:${port}`;

async function start(): Promise<ChildProcessByStdio<null, Readable, Readable>> {
  const proc = spawn(process.execPath, [join(root, 'server/src/main.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const until = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return proc;
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`server exited:\n${out}`);
    if (Date.now() > until) throw new Error(`server did not start:\n${out}`);
    await sleep(50);
  }
}

async function kill(proc: ChildProcessByStdio<null, Readable, Readable>): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGKILL');
  await exited;
}

let proc = await start();
try {
  const anon = new Client(base);
  const setup = await anon.post('/api/setup', { email: 'crash@example.test', name: 'Crash', password: testPassword(), teamName: 'Crash', teamSlug: 'crash' });
  const tok = await anon.post('/api/tokens', { name: 'crash', scopes: ['admin'] });
  const api = new Client(base, tok.body.token);
  const project = await api.post(`/api/teams/${setup.body.team.id}/projects`, { slug: 'crash' });
  const envId = (await api.get(`/api/projects/${project.body.id}/environments`)).body.items[0].id as string;
  const services: string[] = [];
  for (let i = 0; i < Number(args.services); i++) services.push((await api.post(`/api/environments/${envId}/services`, { slug: `s${i}`, image: `ghcr.io/acme/s${i}:1`, port: 8080 })).body.id);
  const created = new Set<string>();
  // lastOpenAt holds, per deployment, when the last restart that found it open (queued or deploying) was ready.
  const lastOpenAt = new Map<string, number>();
  const t0 = Date.now();
  for (let k = 0; k < KILLS; k++) {
    for (let j = 0; j < 2; j++) {
      const sid = services[Math.floor(Math.random() * services.length)] ?? '';
      try {
        const r = await api.post(`/api/services/${sid}/deployments`, { reason: `cycle ${k}` });
        if (r.status === 202) created.add(r.body.id);
      } catch {
        // a request cut by the kill created nothing counted
      }
    }
    await sleep(100 + Math.floor(Math.random() * 1200));
    await kill(proc);
    proc = await start();
    // What this restart has to finish: the deployments the kill left queued or deploying (one list call per service).
    const at = Date.now();
    for (const sid of services) {
      const page = await api.get(`/api/services/${sid}/deployments?limit=100`);
      for (const d of (page.body.items ?? []) as { id: string; state: string }[]) {
        if (d.state === 'queued' || d.state === 'deploying') lastOpenAt.set(d.id, at);
      }
    }
  }
  const restartedAt = Date.now();
  const ids = [...created];
  let states: Record<string, number> = {};
  for (;;) {
    states = {};
    for (const id of ids) {
      const d = await api.get(`/api/deployments/${id}`);
      const st = d.status === 200 ? d.body.state as string : `http ${d.status}`;
      states[st] = (states[st] ?? 0) + 1;
    }
    if (!states.queued && !states.deploying) break;
    if (Date.now() - restartedAt > 120_000) break;
    await sleep(250);
  }
  const terminalMs = Date.now() - restartedAt;
  // Time to terminal after the restart that last found each deployment open (a later kill would have interrupted it
  // otherwise): its finishedAt (database clock, same host) minus that restart's ready time.
  const toTerminal: number[] = [];
  for (const [id, at] of lastOpenAt) {
    const d = await api.get(`/api/deployments/${id}`);
    if (d.body.finishedAt) toTerminal.push(new Date(d.body.finishedAt as string).getTime() - at);
  }
  let resumed = 0;
  for (const id of ids) {
    const ev = await api.get(`/api/deployments/${id}/events?limit=200`);
    if ((ev.body.items as { kind: string }[]).some((e) => e.kind === 'resumed')) resumed++;
  }
  const registers = new Map<string, number>();
  for (const c of nomad.control.requests()) {
    const b = c.body as { EnforceIndex?: boolean; Job?: { Meta?: Record<string, string> } } | null;
    if (c.method !== 'PUT' || c.path !== '/v1/jobs' || c.status !== 200 || !b?.EnforceIndex) continue;
    const id = b.Job?.Meta?.['drover.deployment'] ?? '';
    registers.set(id, (registers.get(id) ?? 0) + 1);
  }
  const twice = [...registers].filter(([, n]) => n > 1).length;
  const lost = Object.entries(states).filter(([s]) => s.startsWith('http')).reduce((n, [, c]) => n + c, 0);
  const failed = twice > 0 || lost > 0 || Boolean(states.queued || states.deploying) || toTerminal.some((ms) => ms > 60_000);
  console.log(`${KILLS} kills in ${Date.now() - t0} ms; ${ids.length} deployments ${JSON.stringify(states)}; ${resumed} resumed by a later process; lost ${lost}; registered twice ${twice}`);
  console.log(`${lastOpenAt.size} deployments were left open by a kill; time to terminal after the restart that last found them open p50 ${pct(toTerminal, 50)} ms, max ${pct(toTerminal, 100)} ms (limit 60000); all terminal ${terminalMs} ms after the last restart`);
  process.exitCode = failed ? 1 : 0;
} finally {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
  await nomad.close();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit();
