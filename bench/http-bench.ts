/**
 * HTTP benchmark (`npm run bench:http`): in ONE run it starts a bare Koa "hello" server (bench/http-hello.ts) and
 * the real Drover server (server/src/main.ts on an embedded Postgres in a temporary data directory), loads them on
 * loopback with autocannon, and prints requests/s, p99 latency and the ratio against the bare baseline for
 * `/healthz` and an authenticated project list (GET /api/teams/:teamId/projects with a bearer token).
 *
 * Usage: npm run bench:http -- [--duration 5] [--connections 32] [--projects 20] [--project-list auto|on|off]
 *                              [--log-level info]
 * The whole run is bounded (servers are stopped after a hard deadline even if something hangs).
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { freePort } from '../server/src/platform/db/embedded-postgres.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '5' },
    connections: { type: 'string', default: '32' },
    projects: { type: 'string', default: '20' },
    'project-list': { type: 'string', default: 'auto' },
    'log-level': { type: 'string', default: 'info' },
  },
});
const duration = Number(args.duration);
const connections = Number(args.connections);
const projectCount = Number(args.projects);
const projectList = args['project-list'];
if (!(duration > 0 && duration <= 60) || !(connections > 0) || !['auto', 'on', 'off'].includes(projectList)) {
  console.error('usage: http-bench.ts [--duration 1-60] [--connections N] [--projects N] [--project-list auto|on|off] [--log-level L]');
  process.exit(2);
}

const children: ChildProcess[] = [];
let dataRoot: string | undefined;
async function cleanup(): Promise<void> {
  await Promise.all(children.map((c) => new Promise<void>((res) => {
    if (c.exitCode !== null || c.signalCode !== null) return res();
    c.once('exit', () => res());
    c.kill('SIGTERM');
    setTimeout(() => c.kill('SIGKILL'), 15_000).unref();
  })));
  if (dataRoot) rmSync(dataRoot, { recursive: true, force: true });
}
const hardDeadline = setTimeout(() => {
  console.error('bench: hard deadline reached, stopping');
  void cleanup().then(() => process.exit(1));
}, (3 * (duration + 1) + 120) * 1000);
hardDeadline.unref();

function startChild(file: string, env: Record<string, string>): ChildProcess {
  const c = spawn(process.execPath, [file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  let err = '';
  c.stderr?.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000); });
  c.once('exit', (code) => { if (code) console.error(`bench: ${file} exited ${code}\n${err}`); });
  c.stdout?.resume();
  return c;
}

async function waitOk(url: string, timeoutMs = 120_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {
      // not up yet
    }
    if (Date.now() > until) throw new Error(`${url} did not answer 200 within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Figures { name: string; rps: number; p99: number; p50: number; non2xx: number; errors: number }

async function load(name: string, url: string, headers: Record<string, string> = {}): Promise<Figures> {
  await autocannon({ url, connections, duration: 1, headers }); // warm-up, not measured
  const r = await autocannon({ url, connections, duration, headers });
  return { name, rps: r.requests.average, p99: r.latency.p99, p50: r.latency.p50, non2xx: r.non2xx, errors: r.errors };
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${res.url}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

/** seed runs first-run setup, creates an admin API token and `projectCount` projects; returns the list URL and token. */
async function seed(base: string): Promise<{ url: string; token: string }> {
  const setup = await fetch(`${base}/api/setup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'bench@example.com', name: 'Bench Owner', password: randomBytes(18).toString('base64url'), teamName: 'Bench', teamSlug: 'bench' }),
  });
  const cookies = setup.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const s = await json(setup);
  const teamId = (s.team as { id: string }).id;
  const created = await json(await fetch(`${base}/api/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', cookie: cookies, 'x-csrf-token': String(s.csrfToken) },
    body: JSON.stringify({ name: 'bench', scopes: ['read', 'deploy', 'admin'] }),
  }));
  const token = String(created.token);
  for (let i = 0; i < projectCount; i++) {
    await json(await fetch(`${base}/api/teams/${teamId}/projects`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ slug: `project-${i}`, name: `Project ${i}` }),
    }));
  }
  return { url: `${base}/api/teams/${teamId}/projects`, token };
}

function table(rows: Figures[], baseline: Figures): string {
  const lines = ['target                              req/s     p50 ms   p99 ms   req/s ratio   p99 ratio   non-2xx  errors'];
  for (const r of rows) {
    lines.push([
      r.name.padEnd(34), r.rps.toFixed(0).padStart(7), r.p50.toFixed(1).padStart(10), r.p99.toFixed(1).padStart(8),
      (r.rps / baseline.rps).toFixed(3).padStart(13), (r.p99 / Math.max(baseline.p99, 0.001)).toFixed(2).padStart(11),
      String(r.non2xx).padStart(9), String(r.errors).padStart(7),
    ].join(' '));
  }
  return lines.join('\n');
}

try {
  dataRoot = mkdtempSync(join(tmpdir(), 'drover-bench-'));
  chmodSync(dataRoot, 0o755);
  const [helloPort, droverPort] = await Promise.all([freePort(), freePort()]);
  startChild(join(root, 'bench', 'http-hello.ts'), { PORT: String(helloPort) });
  startChild(join(root, 'server', 'src', 'main.ts'), {
    DROVER_DATA_DIR: join(dataRoot, 'data'), DROVER_PORT: String(droverPort), DROVER_LOG_LEVEL: args['log-level'],
    NODE_ENV: 'development', DATABASE_URL: '', REDIS_URL: '',
  });
  const hello = `http://127.0.0.1:${helloPort}`;
  const drover = `http://127.0.0.1:${droverPort}`;
  await waitOk(`${hello}/`);
  await waitOk(`${drover}/readyz`);

  let list: { url: string; token: string } | undefined;
  if (projectList !== 'off') {
    const doc = await fetch(`${drover}/api/openapi.json`).then((r) => (r.ok ? r.json() as Promise<{ paths?: Record<string, unknown> }> : undefined)).catch(() => undefined);
    const available = doc?.paths?.['/api/teams/{teamId}/projects'] !== undefined;
    if (available) list = await seed(drover);
    else if (projectList === 'on') throw new Error('the project list route is not served by this build');
    else console.log('bench: no project list route in this build (--project-list auto): measuring /healthz only');
  }

  console.log(`bench: ${cpus()[0]?.model ?? 'cpu'} × ${availableParallelism()}, node ${process.version}, ${connections} connections, ${duration} s per target, Drover log level ${args['log-level']}`);
  const baseline = await load('bare koa  GET /', `${hello}/`);
  const rows = [baseline, await load('drover    GET /healthz', `${drover}/healthz`)];
  if (list) rows.push(await load(`drover    GET projects (${projectCount}, bearer)`, list.url, { authorization: `Bearer ${list.token}` }));
  console.log(table(rows, baseline));
  const bad = rows.filter((r) => r.non2xx > 0 || r.errors > 0);
  if (bad.length > 0) {
    console.error(`bench: non-2xx responses or errors for ${bad.map((r) => r.name.trim()).join(', ')}`);
    process.exitCode = 1;
  }
} catch (e) {
  console.error(`bench: ${(e as Error).message}`);
  process.exitCode = 1;
} finally {
  await cleanup();
}
