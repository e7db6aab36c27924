/**
 * Traefik scrape benchmark (`node bench/traefik-scrape.ts [--services 1000,5000] [--rounds 10]`): what one metrics
 * tick pays for network figures. A loopback HTTP server serves a Traefik v3-shaped exposition — per Drover service
 * and per (code, method) pair: requests, request bytes, response bytes and the duration histogram (4 buckets, +Inf,
 * sum, count), plus the Go runtime noise — and TraefikTraffic reads it `--rounds` times, the counters growing each
 * round. Prints, per size: exposition size and lines, a strict parse of every line (p50/p99) as the baseline, the
 * parse of the two byte counters only (what a read does), a whole
 * read (HTTP + parse of the two byte counters + rates) p50/p99 and its ratio to the baseline, the rates it produced,
 * and the heap growth after the rounds.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { parsePrometheusText } from '../server/src/metrics/prometheus.ts';
import { startExpositionServer } from '../server/src/metrics/test-exposition.ts';
import { REQUEST_BYTES, RESPONSE_BYTES, TraefikTraffic } from '../server/src/metrics/traefik.ts';

const { values: args } = parseArgs({ options: { services: { type: 'string', default: '1000,5000' }, rounds: { type: 'string', default: '10' } } });
const ROUNDS = Number(args.rounds);
const PAIRS = [['200', 'GET'], ['404', 'GET'], ['200', 'POST']] as const;

function pct(xs: number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** exposition renders round `n` of the counters of `ids` the way Traefik v3 does. */
function exposition(ids: string[], n: number): string {
  const out: string[] = ['# HELP go_goroutines Number of goroutines.', '# TYPE go_goroutines gauge', 'go_goroutines 61'];
  const family = (name: string, type: string, f: (l: string, k: number) => string[]) => {
    out.push(`# HELP ${name} ${name}.`, `# TYPE ${name} ${type}`);
    ids.forEach((id, i) => PAIRS.forEach(([code, method], k) => out.push(...f(`code="${code}",method="${method}",protocol="http",service="d-${id}@consulcatalog"`, i * 3 + k))));
  };
  family('traefik_service_requests_total', 'counter', (l, k) => [`traefik_service_requests_total{${l}} ${n * (k % 7 + 1)}`]);
  family(REQUEST_BYTES, 'counter', (l, k) => [`${REQUEST_BYTES}{${l}} ${n * 1_000 * (k % 5 + 1)}`]);
  family(RESPONSE_BYTES, 'counter', (l, k) => [`${RESPONSE_BYTES}{${l}} ${n * 10_000 * (k % 5 + 1)}`]);
  family('traefik_service_request_duration_seconds', 'histogram', (l) => [
    ...['0.1', '0.3', '1.2', '5', '+Inf'].map((le) => `traefik_service_request_duration_seconds_bucket{${l},le="${le}"} ${n}`),
    `traefik_service_request_duration_seconds_sum{${l}} ${n * 0.05}`,
    `traefik_service_request_duration_seconds_count{${l}} ${n}`,
  ]);
  return out.join('\n') + '\n';
}

const server = await startExpositionServer();
try {
  for (const size of args.services.split(',').map(Number)) {
    const ids = Array.from({ length: size }, () => randomUUID());
    const sample = exposition(ids, 1);
    const parse: number[] = [];
    const parseOnly: number[] = [];
    const only = new Set([REQUEST_BYTES, RESPONSE_BYTES]);
    for (let r = 0; r < ROUNDS; r++) {
      let t = performance.now();
      parsePrometheusText(sample);
      parse.push(performance.now() - t);
      t = performance.now();
      parsePrometheusText(sample, { only });
      parseOnly.push(performance.now() - t);
    }
    // Rendered before timing: a read measures HTTP, the parse and the rates, not this script's rendering.
    const bodies = Array.from({ length: ROUNDS }, (_, r) => exposition(ids, r + 1));
    server.body = (n) => bodies[(n - 1) % ROUNDS] ?? '';
    server.requests = 0;
    const sut = new TraefikTraffic({ url: server.url, maxBytes: 256 << 20 });
    globalThis.gc?.();
    const heapBefore = process.memoryUsage().heapUsed;
    const reads: number[] = [];
    let rates = 0;
    for (let r = 0; r < ROUNDS; r++) {
      const t = performance.now();
      const got = await sut.read(new Date(Date.UTC(2026, 0, 1) + r * 10_000));
      reads.push(performance.now() - t);
      rates = got?.size ?? rates;
    }
    globalThis.gc?.();
    const heapAfter = process.memoryUsage().heapUsed;
    const p50 = pct(reads, 50);
    console.log(`${size} services: exposition ${(Buffer.byteLength(sample) / 1_048_576).toFixed(1)} MiB, ${sample.split('\n').length} lines`);
    console.log(`  strict parse of every line (baseline): p50 ${pct(parse, 50).toFixed(1)} ms, p99 ${pct(parse, 99).toFixed(1)} ms`);
    console.log(`  parse of the two byte counters only: p50 ${pct(parseOnly, 50).toFixed(1)} ms, p99 ${pct(parseOnly, 99).toFixed(1)} ms, ×${(pct(parseOnly, 50) / pct(parse, 50)).toFixed(2)} the baseline`);
    console.log(`  read (HTTP + parse + rates): p50 ${p50.toFixed(1)} ms, p99 ${pct(reads, 99).toFixed(1)} ms, ×${(p50 / pct(parse, 50)).toFixed(2)} the baseline`);
    console.log(`  rates for ${rates} services; heap after ${ROUNDS} reads ${((heapAfter - heapBefore) / 1_048_576).toFixed(1)} MiB above before`);
  }
} finally {
  await server.close();
}
