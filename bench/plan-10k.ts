/**
 * bench/plan-10k.ts (`npm run bench:plan`): plans a generated manifest of 10,000 services (plus databases) and prints
 *   1. compile alone: the pure compiler on the desired state, median and best of 5 runs, and the heap it grows
 *      (goal < 1 s);
 *   2. reading the YAML alone: the manifest reader (js-yaml) against the `yaml` package's document model it replaced
 *      (CPU median of 3, the document model as the baseline);
 *   3. the whole `drover plan -f <manifest> --json` process as a user runs it (launcher → Node 24 → parse,
 *      validate, compile, print), wall time and peak RSS polled from /proc (goal < 5 s and < 500 MB), for the
 *      manifest as drover.json and as drover.yaml, next to a baseline: the same launcher printing usage only, so the
 *      ratio shows what planning costs over starting up.
 * Wall and CPU time are both printed: on a shared, loaded machine CPU time is the figure that compares across runs
 * (the load average is printed at the end). BENCH_SERVICES changes the number of services.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseDocument, stringify } from 'yaml';
import { compile } from '../scheduler/src/compiler/index.ts';
import { loadManifest, parseManifestText } from '../scheduler/src/manifest/index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const N = Number(process.env.BENCH_SERVICES ?? 10_000);

/** manifestOf builds a manifest of n services of every shape, referencing each other and a few databases. */
function manifestOf(n: number): Record<string, unknown> {
  const services: Record<string, unknown> = {};
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const kind = i % 10;
    const variables: Record<string, unknown> = {
      LOG_LEVEL: '${{ shared.LOG_LEVEL }}',
      GREETING: `hello {{ user }} \${HOME} #${i}`,
      API_KEY: { secret: true },
    };
    if (i > 0 && (i - 1) % 10 < 7) variables.UPSTREAM = `https://\${{ svc-${i - 1}.PRIVATE_HOST }}:\${{ svc-${i - 1}.PRIVATE_PORT }}/v1`;
    if (i % 3 === 0) variables.DATABASE_URL = `\${{ db-${i % 4}.DATABASE_URL }}`;
    if (kind < 6) {
      services[name] = {
        image: `ghcr.io/acme/app-${i % 50}:1.${i % 7}.0`,
        command: ['node', 'server.js', '--port', '${PORT}', "-w '%{http_code}'"],
        port: 8080,
        ...(kind === 0 ? { domains: [`www-${i}.example.com`] } : {}),
        healthcheck: { path: '/healthz', interval: '10s', timeout: '2s' },
        replicas: 1 + (i % 3),
        resources: { cpu: 250, memory: 256, memory_max: 512 },
        variables,
      };
    } else if (kind === 6) {
      services[name] = {
        artifact: { url: `https://releases.example.com/api-${i}.tar.gz`, checksum: `sha256:${(i % 16).toString(16).repeat(64)}`, command: ['local/api', '--listen', ':${PORT}'] },
        public: false,
        variables,
      };
    } else if (kind === 7) {
      services[name] = { image: 'ghcr.io/acme/store:2', port: 9000, public: false, volumes: [{ name: 'data', mount: '/data', size: '1GiB' }], variables };
    } else if (kind === 8) {
      services[name] = { image: 'ghcr.io/acme/report:2', cron: `${i % 60} 3 * * *`, timezone: 'Europe/Berlin', variables };
    } else {
      services[name] = { image: 'ghcr.io/acme/worker:3', command: ['worker', '--queue', `q${i}`], replicas: 2, restart: 'on-failure', variables };
    }
  }
  return {
    project: 'bench',
    shared: { LOG_LEVEL: 'info' },
    services,
    databases: {
      'db-0': { engine: 'postgres', version: '17', size: '10GiB' },
      'db-1': { engine: 'mysql', version: '8.4' },
      'db-2': { engine: 'redis', version: '8' },
      'db-3': { engine: 'mongodb', version: '8' },
    },
  };
}

/** peakRss polls /proc for the VmHWM of a process tree until it exits; returns the highest value per pid (kB). */
function descendants(pid: number): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(d), ...descendants(Number(d)));
    } catch {
      // the process ended meanwhile
    }
  }
  return out;
}

/** cpuMs returns the user+system CPU time a process has used so far (from /proc/<pid>/stat, 100 ticks per second). */
function cpuMs(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(f[11]) + Number(f[12])) * 10;
  } catch {
    return 0;
  }
}

function hwm(pid: number): number {
  try {
    const m = /VmHWM:\s+([0-9]+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

async function run(args: string[], stdoutFile: string): Promise<{ ms: number; cpu: number; peakKb: number; launcherKb: number; status: number | null }> {
  const { openSync, closeSync } = await import('node:fs');
  const fd = openSync(stdoutFile, 'w');
  const t0 = performance.now();
  const child = spawn(process.execPath, [join(root, 'cli', 'bin', 'drover.mjs'), ...args], { stdio: ['ignore', fd, 'ignore'] });
  const peaks = new Map<number, number>();
  const cpu = new Map<number, number>();
  const poll = setInterval(() => {
    const pid = child.pid;
    if (pid === undefined) return;
    for (const p of [pid, ...descendants(pid)]) {
      peaks.set(p, Math.max(peaks.get(p) ?? 0, hwm(p)));
      cpu.set(p, Math.max(cpu.get(p) ?? 0, cpuMs(p)));
    }
  }, 10);
  const status = await new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const ms = performance.now() - t0;
  clearInterval(poll);
  closeSync(fd);
  const launcherKb = peaks.get(child.pid ?? -1) ?? 0;
  const others = [...peaks.entries()].filter(([p]) => p !== child.pid).map(([, kb]) => kb);
  const cpuOthers = [...cpu.entries()].filter(([p]) => p !== child.pid).map(([, c]) => c);
  return { ms, cpu: Math.max(0, ...cpuOthers), peakKb: Math.max(0, ...others), launcherKb, status };
}

const mb = (kb: number): string => `${(kb / 1024).toFixed(0)} MB`;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;

const dir = mkdtempSync(join(tmpdir(), 'drover-bench-plan-'));
try {
  const manifest = manifestOf(N);
  const yamlFile = join(dir, 'drover.yaml');
  const jsonFile = join(dir, 'drover.json');
  const text = stringify(manifest);
  writeFileSync(yamlFile, text);
  writeFileSync(jsonFile, JSON.stringify(manifest));
  console.log(`manifest: ${N} services + 4 databases, ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MiB of YAML`);

  // Reading the YAML alone: the manifest reader (js-yaml) against the `yaml` document model it replaced (baseline).
  // CPU time only: heap deltas in one process are blurred by the collector; peak RSS of the whole plan is below.
  const cpuOf = (read: () => unknown) => {
    const c0 = process.cpuUsage();
    if (read() === undefined) throw new Error('nothing read');
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  const reads = { reader: [] as number[], model: [] as number[] };
  for (let i = 0; i < 3; i++) {
    reads.reader.push(cpuOf(() => parseManifestText(text, yamlFile).doc));
    reads.model.push(cpuOf(() => parseDocument(text, { uniqueKeys: false, version: '1.2' }).toJS({ maxAliasCount: 100 }) as unknown));
  }
  console.log(`YAML read alone: manifest reader (js-yaml) CPU median ${median(reads.reader).toFixed(0)} ms, ` +
    `yaml document model (baseline) ${median(reads.model).toFixed(0)} ms: ${(median(reads.model) / median(reads.reader)).toFixed(1)}× less CPU`);

  const loaded = loadManifest(JSON.stringify(manifest), jsonFile);
  if (!loaded.ok) throw new Error(`bench manifest invalid: ${JSON.stringify(loaded.problems.slice(0, 3))}`);
  const times: number[] = [];
  const cpus: number[] = [];
  let jobs = 0;
  const heap0 = process.memoryUsage().heapUsed;
  let heapGrowth = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const c0 = process.cpuUsage();
    const r = compile(loaded.state);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpus.push((c.user + c.system) / 1000);
    heapGrowth = Math.max(heapGrowth, process.memoryUsage().heapUsed - heap0);
    jobs = r.jobs.length;
  }
  console.log(`compile alone: median ${median(times).toFixed(0)} ms, best ${Math.min(...times).toFixed(0)} ms wall ` +
    `(CPU median ${median(cpus).toFixed(0)} ms, best ${Math.min(...cpus).toFixed(0)} ms) for ${jobs} jobs (goal < 1000 ms); heap grew ≤ ${(heapGrowth / 1024 / 1024).toFixed(0)} MB`);

  const base = await run(['--help'], join(dir, 'help.txt'));
  console.log(`baseline (drover --help): ${base.ms.toFixed(0)} ms wall, ${base.cpu} ms CPU, peak RSS ${mb(base.peakKb)}`);
  for (const file of [jsonFile, yamlFile]) {
    const plan = await run(['plan', '-f', file, '--json'], join(dir, 'plan.json'));
    if (plan.status !== 0) throw new Error(`drover plan exited ${plan.status}`);
    const out = JSON.parse(readFileSync(join(dir, 'plan.json'), 'utf8')) as unknown[];
    console.log(`drover plan -f ${file.endsWith('.json') ? 'drover.json' : 'drover.yaml'} --json: ${plan.ms.toFixed(0)} ms wall, ${plan.cpu} ms CPU ` +
      `(${(plan.ms / base.ms).toFixed(1)}× baseline; goal < 5000 ms), peak RSS ${mb(plan.peakKb)} in the Node 24 process ` +
      `(goal < 500 MB) + ${mb(plan.launcherKb)} launcher; printed ${out.length} jobs`);
  }
  console.log(`load average during the run: ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')} on ${availableParallelism()} CPUs`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
