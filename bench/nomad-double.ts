/**
 * Nomad double benchmark (`node bench/nomad-double.ts [deploys=200] [concurrency=50]`): starts the double, runs N
 * service deployments (register → deployment successful, polled over HTTP) with the given concurrency, and prints
 * the time of one deploy alone (the baseline), the p50/p99 deploy latency under load, the throughput, and the
 * ratio p50-under-load / baseline. Default timing: 50 ms per simulated step (~300 ms per healthy deploy).
 */
import { startNomadDouble } from '../scheduler/src/testing/nomad-double/index.ts';
import { aServiceJob } from '../scheduler/src/nomad-validate/fixtures.ts';

const total = Number(process.argv[2] ?? '200');
const concurrency = Number(process.argv[3] ?? '50');
const double = await startNomadDouble({ nodes: 50 });

async function deploy(id: string): Promise<number> {
  const t0 = performance.now();
  const job = aServiceJob(id);
  const r = await fetch(`${double.url}/v1/jobs`, { method: 'PUT', body: JSON.stringify({ Job: job }) });
  if (r.status !== 200) throw new Error(`register ${id}: ${r.status} ${await r.text()}`);
  let index = 0;
  for (;;) {
    const res = await fetch(`${double.url}/v1/job/${id}/deployment?index=${index}&wait=5s`);
    index = Number(res.headers.get('x-nomad-index'));
    const d = (await res.json()) as { Status?: string } | null;
    if (d && d.Status !== 'running') {
      if (d.Status !== 'successful') throw new Error(`${id}: ${d.Status}`);
      return performance.now() - t0;
    }
  }
}

const pct = (xs: number[], p: number): number => xs[Math.min(xs.length - 1, Math.floor((xs.length * p) / 100))] ?? NaN;
await deploy('warmup'); // compiles the contract validators once
const baseline = await deploy('baseline');
const times: number[] = [];
const t0 = performance.now();
let next = 0;
await Promise.all(Array.from({ length: concurrency }, async () => {
  while (next < total) {
    const i = next++;
    times.push(await deploy(`svc-${i}`));
  }
}));
const wall = performance.now() - t0;
times.sort((a, b) => a - b);
const mem = process.memoryUsage().rss / 1024 / 1024;
console.log(`baseline single deploy: ${baseline.toFixed(0)} ms`);
console.log(`${total} deploys, concurrency ${concurrency}: p50 ${pct(times, 50).toFixed(0)} ms, p99 ${pct(times, 99).toFixed(0)} ms, ${(total / (wall / 1000)).toFixed(1)} deploys/s, rss ${mem.toFixed(0)} MB`);
console.log(`ratio p50/baseline: ${(pct(times, 50) / baseline).toFixed(2)}`);
await double.close();
