/**
 * bench/web-bundle.ts (`npm run bench:web`): builds the dashboard and prints
 *   1. its initial JavaScript, gzipped: every script Chromium loads to show a page, gzip -9 per file (goal ≤ 100 kB);
 *   2. in Debian's Chromium, the time to render a project of 500 services on the canvas and in the list view:
 *      LCP (PerformanceObserver, goal ≤ 1 s) and the moment all 500 nodes/rows are in the DOM, median of 5 cold loads;
 *   3. the same for a service page's deployments tab (50 deployments, the team event stream held open), with its
 *      initial JavaScript.
 * The API is a mock served by this script (fixture JSON shaped like the OpenAPI document's schemas, with reference
 * edges between services); web/build is served as the Drover server serves it (files, index.html fallback).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { chromium } from 'playwright-core';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const build = join(root, 'web', 'build');
const N = Number(process.env.BENCH_SERVICES ?? 500);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const CHROMIUM = process.env.DROVER_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'];

// 1. Build.
const t0 = performance.now();
const b = spawnSync('npm', ['run', '--silent', 'build', '-w', 'web'], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
if (b.status !== 0) throw new Error('web build failed');
console.log(`build: ${Math.round(performance.now() - t0)} ms`);

// 2. Fixtures (ids are fixed-format UUIDs).
const uuid = (kind: number, i: number) => `00000000-0000-4000-8${kind.toString(16).padStart(3, '0')}-${i.toString(16).padStart(12, '0')}`;
const now = new Date().toISOString();
const team = { id: uuid(1, 1), slug: 'acme', name: 'Acme', role: 'owner' };
const project = { id: uuid(2, 1), teamId: team.id, slug: 'big', name: 'Big project', createdAt: now, updatedAt: now };
const env = { id: uuid(3, 1), projectId: project.id, slug: 'production', name: 'production', createdAt: now, updatedAt: now };
const services = Array.from({ length: N }, (_, i) => ({
  id: uuid(4, i), projectId: project.id, environmentId: env.id, slug: `svc-${i}`, name: `Service ${i}`,
  image: `ghcr.io/acme/svc-${i}:1.${i % 7}`, port: 8080, public: i % 3 === 0, replicas: 1 + (i % 3), registryCredentials: false,
  resources: { cpu: 100, memory: 256 }, restart: 'always', volumes: [], generatedHostname: null, createdAt: now, updatedAt: now,
}));
// Each service references up to two services of lower index (a layered graph like a real project's).
const refsOf = (i: number) => (i === 0 ? [] : [(i * 7) % i, i > 10 ? (i * 13) % (i - 5) : -1].filter((x, k, a) => x >= 0 && a.indexOf(x) === k));
const session = { user: { id: uuid(5, 1), email: 'bench@example.com', name: 'Bench', createdAt: now }, kind: 'session', scopes: ['read', 'deploy', 'admin'], csrfToken: 'x', teams: [team] };

function page<T>(items: T[], url: URL) {
  const limit = Number(url.searchParams.get('limit') ?? 50);
  const start = Number(url.searchParams.get('cursor') ?? 0);
  const slice = items.slice(start, start + limit);
  return { items: slice, nextCursor: start + limit < items.length ? String(start + limit) : null };
}

function api(url: URL): unknown {
  const p = url.pathname;
  if (p === '/api/auth/session') return session;
  if (p === `/api/projects/${project.id}`) return project;
  if (p === `/api/projects/${project.id}/environments`) return page([env], url);
  if (p === `/api/environments/${env.id}`) return env;
  if (p === `/api/environments/${env.id}/services`) return page(services, url);
  if (p === `/api/environments/${env.id}/variables`) return page([], url);
  if (p === `/api/environments/${env.id}/databases`) return page([], url);
  if (p === `/api/environments/${env.id}/references`) {
    return page(services.flatMap((s, i) => refsOf(i).map((j) => ({
      key: `SVC_${j}_URL`, scope: 'service', serviceId: s.id, environmentId: env.id, createdAt: now, updatedAt: now, references: [{ target: `svc-${j}`, name: 'PRIVATE_URL' }],
    }))), url);
  }
  if (/^\/api\/services\/[0-9a-f-]{36}\/variables$/.test(p)) return page([], url);
  const svc = /^\/api\/services\/([0-9a-f-]{36})(\/[a-z]+)?$/.exec(p);
  const found = svc ? services.find((x) => x.id === svc[1]) : undefined;
  if (svc && found) {
    if (svc[2] === undefined) return found;
    if (svc[2] === '/domains') return page([], url);
    if (svc[2] === '/deployments') return page(deploymentsOf(found), url);
    if (svc[2] === '/runs') return { items: [] };
  }
  return undefined;
}

// The service page's deployments tab: 50 deployments of one service (healthy, failed with a reason, superseded).
const DEPLOYS = 50;
function deploymentsOf(s: (typeof services)[number]) {
  return Array.from({ length: DEPLOYS }, (_, i) => ({
    id: uuid(6, i), serviceId: s.id, environmentId: env.id, projectId: project.id, batchId: null,
    state: i === 0 ? 'healthy' : i % 5 === 0 ? 'failed' : i % 2 ? 'superseded' : 'healthy', reason: i % 5 === 0 ? 'image pull failed: manifest unknown' : 'all allocations healthy',
    trigger: 'manual', rollbackOf: null, createdBy: session.user.id, jobId: s.slug, namespace: 't-acme', image: s.image, artifactChecksum: null,
    variableItems: 3, step: 'done', jobVersion: DEPLOYS - i, nomadDeploymentId: null, compileWarnings: [], nomadWarnings: [], planDiff: null,
    failure: i % 5 === 0 ? { cause: 'image pull failed', events: ['Driver Failure: manifest unknown'], placement: {}, allocationId: null } : null,
    outputTail: null, cancelRequested: false, createdAt: now, startedAt: now, finishedAt: now,
  }));
}

const TYPES: Record<string, string> = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json' };
function serve(req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? '/', 'http://x');
  if (/^\/api\/teams\/[0-9a-f-]{36}\/events$/.test(url.pathname)) {
    // The team event stream: `ready`, then held open (the page follows it while shown).
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write('retry: 2000\nevent: ready\ndata: {}\n\n');
    req.on('close', () => res.end());
    return;
  }
  if (url.pathname.startsWith('/api/')) {
    const body = api(url);
    res.writeHead(body === undefined ? 404 : 200, { 'content-type': body === undefined ? 'application/problem+json' : 'application/json' });
    res.end(JSON.stringify(body ?? { type: 'urn:drover:problem:route/not_found', title: 'No such route', status: 404, detail: url.pathname, code: 'route/not_found' }));
    return;
  }
  let file = normalize(join(build, decodeURIComponent(url.pathname)));
  if (!file.startsWith(build) || !statSync(file, { throwIfNoEntry: false })?.isFile()) file = join(build, 'index.html');
  res.writeHead(200, { 'content-type': TYPES[extname(file)] ?? 'application/octet-stream' });
  res.end(readFileSync(file));
}

const server = createServer(serve);
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

// Records LCP and the moment the page holds `want` elements matching `selector` (browser-side, string form so this
// file type-checks without DOM types).
const probe = (selector: string, want: number) => `
  window.__lcp = 0; window.__ready = 0; window.__lcpEl = '';
  new PerformanceObserver((l) => { for (const e of l.getEntries()) { window.__lcp = e.startTime; window.__lcpEl = e.element ? e.element.tagName + '.' + e.element.className + ' ' + (e.element.textContent || '').slice(0, 30) : ''; } }).observe({ type: 'largest-contentful-paint', buffered: true });
  const check = () => { if (!window.__ready && document.querySelectorAll(${JSON.stringify(selector)}).length >= ${want}) window.__ready = performance.now(); };
  new MutationObserver(check).observe(document, { childList: true, subtree: true });
`;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const userDataDir = mkdtempSync(join(tmpdir(), 'drover-bench-'));
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });

async function measure(path: string, selector: string, want: number) {
  const lcp: number[] = [];
  const ready: number[] = [];
  let js = new Map<string, number>();
  for (let i = 0; i < RUNS; i++) {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    const p = await ctx.newPage();
    const scripts = new Map<string, number>();
    p.on('response', async (r) => {
      if (r.request().resourceType() === 'script') scripts.set(r.url(), gzipSync(await r.body(), { level: 9 }).length);
    });
    await p.addInitScript(probe(selector, want));
    await p.goto(base + path, { waitUntil: 'load' });
    await p.waitForFunction('window.__ready > 0', undefined, { timeout: 30_000 });
    // LCP is final once the page has been idle briefly; an input would also finalise it.
    await p.waitForTimeout(300);
    const l = Number(await p.evaluate('window.__lcp'));
    if (l > 0) lcp.push(l); // a run without an LCP entry (no candidate painted after load) is left out
    ready.push(Number(await p.evaluate('window.__ready')));
    if (process.env.BENCH_VERBOSE) console.log(path, 'LCP element:', await p.evaluate('window.__lcpEl'));
    js = scripts;
    await ctx.close();
  }
  return { lcp: median(lcp), ready: median(ready), lcps: lcp, jsGz: [...js.values()].reduce((a, b) => a + b, 0), files: js.size };
}

const canvasPath = `/projects/${project.id}/environments/${env.id}`;
mkdirSync(join(root, 'artifacts', 'screenshots'), { recursive: true });
// Baseline: the sign-in page (same app boot, no data) on the same machine in the same run.
const baseline = await measure('/login', 'form[aria-label="Sign in"]', 1);
const canvas = await measure(canvasPath, '[data-node]', N);
const list = await measure(`${canvasPath}?view=list`, 'table[aria-label="Services"] tbody tr', N);
const servicePage = await measure(`/services/${services[1]?.id}?tab=deployments`, '[data-testid="deployment"]', DEPLOYS);
// A picture of the laid-out canvas with its reference edges (artifacts/screenshots/bench-canvas.png).
{
  const ctx = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const p = await ctx.newPage();
  await p.goto(base + canvasPath);
  await p.waitForFunction(`document.querySelectorAll('[data-edge]').length > ${Math.floor(N / 2)}`, undefined, { timeout: 60_000 });
  const edges = Number(await p.evaluate(`document.querySelectorAll('[data-edge]').length`));
  await p.screenshot({ path: join(root, 'artifacts', 'screenshots', 'bench-canvas.png') });
  console.log(`canvas edges drawn: ${edges}`);
  await ctx.close();
}
await browser.close();
server.close();
rmSync(userDataDir, { recursive: true, force: true });

// Whole-build JS for reference (everything under _app, gzipped per file).
let allGz = 0;
const walk = (d: string) => {
  for (const f of readdirSync(d, { withFileTypes: true })) {
    const p = join(d, f.name);
    if (f.isDirectory()) walk(p);
    else if (p.endsWith('.js')) allGz += gzipSync(readFileSync(p), { level: 9 }).length;
  }
};
walk(join(build, '_app'));

const kb = (n: number) => `${(n / 1024).toFixed(1)} kB`;
const ms = (n: number) => `${Math.round(n)} ms`;
console.log(`initial JS (gzip -9) to show the project page: ${kb(canvas.jsGz)} in ${canvas.files} files (goal ≤ 100 kB; ratio ${(canvas.jsGz / 102400).toFixed(2)} of the goal)`);
console.log(`initial JS (gzip -9) to show a service's deployments: ${kb(servicePage.jsGz)} in ${servicePage.files} files (goal ≤ 100 kB)`);
console.log(`all JS of the build (gzip -9): ${kb(allGz)}`);
console.log(`baseline, sign-in page: LCP ${ms(baseline.lcp)} (runs ${baseline.lcps.map(ms).join(', ')})`);
console.log(`canvas, ${N} services: LCP ${ms(canvas.lcp)} (runs ${canvas.lcps.map(ms).join(', ')}; ${(canvas.lcp / baseline.lcp).toFixed(2)}× the baseline), all nodes in the DOM at ${ms(canvas.ready)} (goal LCP ≤ 1000 ms)`);
console.log(`list,   ${N} services: LCP ${ms(list.lcp)} (runs ${list.lcps.map(ms).join(', ')}; ${(list.lcp / baseline.lcp).toFixed(2)}× the baseline), all rows in the DOM at ${ms(list.ready)}`);
console.log(`service page, ${DEPLOYS} deployments: LCP ${ms(servicePage.lcp)} (runs ${servicePage.lcps.map(ms).join(', ')}; ${(servicePage.lcp / baseline.lcp).toFixed(2)}× the baseline), all deployments in the DOM at ${ms(servicePage.ready)}`);
