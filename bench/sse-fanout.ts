/**
 * bench:sse — SSE log fan-out on loopback: one Nomad double allocation's stdout followed through the LogHub (one
 * shared upstream) to N subscribers, each a LogSession writing to its own SSE response over real HTTP. Prints the
 * delivery latency (line appended in the double → event parsed by the client) p50/p99 and the server-side memory per
 * subscriber, for 1 subscriber (baseline, same run) and for N (default 1000; SSE_SUBSCRIBERS overrides).
 * The route's authentication and database lookup are left out: this measures the fan-out path itself.
 */
import { createServer, request, Agent, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { startNomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { SseStream } from '../server/src/events/sse.ts';
import { LogHub } from '../server/src/logs/hub.ts';
import { LogSession } from '../server/src/logs/session.ts';
import type { ServiceTarget } from '../server/src/logs/target.ts';

const N = Number(process.env.SSE_SUBSCRIBERS ?? 1000);
const MESSAGES = Number(process.env.SSE_MESSAGES ?? 40);

const double = await startNomadDouble({ stepMs: 10, logHeartbeatMs: 1_000 });
const nomad = new NomadClient({ address: double.url });
const ns = 't-bench-0a1b2c3d';
double.control.createNamespace(ns);
const target: ServiceTarget = { serviceId: '00000000-0000-4000-8000-000000000001', teamId: 'x', projectId: 'y', namespace: ns, jobId: 'bench-web-0a1b2c3d' };
await nomad.jobs.register({
  ID: target.jobId, Name: target.jobId, Namespace: ns, Type: 'service', Datacenters: ['*'],
  TaskGroups: [{ Name: 'web', Count: 1, Tasks: [{ Name: 'web', Driver: 'docker', Config: { image: 'nginx:1.27' }, Resources: { CPU: 100, MemoryMB: 64 } }] }],
});
let alloc = '';
for (let i = 0; i < 500 && !alloc; i++) {
  alloc = (await nomad.jobs.allocations(target.jobId, {}, { namespace: ns })).data.find((a) => a.ClientStatus === 'running')?.ID ?? '';
  if (!alloc) await new Promise((r) => setTimeout(r, 20));
}
if (!alloc) throw new Error('no running allocation');

const hub = new LogHub(nomad);
let sessions = 0;
const server: Server = createServer((req, res) => {
  const stream = new SseStream(req, res, { heartbeatMs: 15_000 });
  sessions += 1;
  void new LogSession({ nomad, hub }, target, { types: ['stdout'], follow: true, origin: 'end', offset: 0, cursor: null }, stream, { pollMs: 60_000 })
    .run().finally(() => { sessions -= 1; stream.close(); });
});
server.maxConnections = N + 100;
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
const port = (server.address() as AddressInfo).port;
const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

interface Sub { latencies: number[]; close(): void }
function subscribe(): Promise<Sub> {
  return new Promise((resolve, reject) => {
    const latencies: number[] = [];
    const req = request({ host: '127.0.0.1', port, path: '/', agent, headers: { accept: 'text/event-stream' } }, (res) => {
      let buf = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        buf += c;
        let i: number;
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const m = /"text":"T(\d+\.\d+) /.exec(block);
          if (m) latencies.push(performance.now() + performance.timeOrigin - Number(m[1]));
        }
      });
      resolve({ latencies, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

function mem(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}
function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((s.length * p) / 100))] ?? NaN;
}

async function round(n: number): Promise<{ p50: number; p99: number; delivered: number; expected: number; memPerSubKiB: number }> {
  globalThis.gc?.();
  const before = mem();
  const subs: Sub[] = [];
  for (let i = 0; i < n; i += 100) subs.push(...(await Promise.all(Array.from({ length: Math.min(100, n - i) }, subscribe))));
  while (sessions < n) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, 1_000)); // the shared upstream is connected
  globalThis.gc?.();
  const during = mem();
  for (let m = 0; m < MESSAGES; m++) {
    double.control.appendLog(alloc, 'web', 'stdout', `T${(performance.now() + performance.timeOrigin).toFixed(3)} request ${m} served in 3 ms\n`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await new Promise((r) => setTimeout(r, 1_000));
  const all = subs.flatMap((s) => s.latencies);
  for (const s of subs) s.close();
  while (sessions > 0) await new Promise((r) => setTimeout(r, 20));
  return { p50: pct(all, 50), p99: pct(all, 99), delivered: all.length, expected: n * MESSAGES, memPerSubKiB: (during - before) / n / 1024 };
}

const base = await round(1);
const big = await round(N);
const f = (x: number) => x.toFixed(2);
console.log(`SSE log fan-out on loopback (${MESSAGES} lines, 50 ms apart, one shared upstream; upstreams opened: ${hub.upstreamsOpened})`);
console.log(`  1 subscriber   : latency p50 ${f(base.p50)} ms, p99 ${f(base.p99)} ms, delivered ${base.delivered}/${base.expected}`);
console.log(`  ${N} subscribers: latency p50 ${f(big.p50)} ms, p99 ${f(big.p99)} ms, delivered ${big.delivered}/${big.expected}, server+client memory ${f(big.memPerSubKiB)} KiB per subscriber`);
console.log(`  p99 ratio ${N}/1: ${f(big.p99 / base.p99)}x; process RSS ${(process.memoryUsage().rss / 1048576).toFixed(0)} MiB; load average ${(await import('node:os')).loadavg().map((x) => x.toFixed(2)).join(' ')}`);
hub.close();
agent.destroy();
server.closeAllConnections();
server.close();
await nomad.destroy();
await double.close();
