/**
 * MetricsSampler: samples CPU and memory of every running allocation of every service from Nomad's allocation stats
 * endpoint, one sampler active among replicas (a coordination Lock whose lease the holder extends each tick), and
 * stores per-service sums downsampled at write time into 10 s, 1 min and 10 min buckets (running averages weighted by
 * samples; memory max kept as a max). Retention: 10 s rows for 1 h, 1 min rows for 24 h, 10 min rows for 30 days.
 * Nomad's allocation stats carry no network counters (api.ResourceUsage has CPU, memory and devices only): network
 * figures come from a TrafficSource (Traefik's Prometheus metrics, scraped once per tick: HTTP request and response
 * bytes per second through Traefik), averaged over the samples that had them (`network_samples`); without a source, or
 * when a scrape fails or is only a baseline, a sample has none and the series shows null rather than zero.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { isNomadNotFound } from '@drover/scheduler/nomad/index.ts';
import type { Clock } from '../core/clock.ts';
import type { Lock, LockLease } from '../platform/coordination/types.ts';
import type { ServiceTarget, ServiceTargets } from '../logs/target.ts';
import type { TrafficRates, TrafficSource } from './traefik.ts';

/** RESOLUTIONS are the stored resolutions in seconds, with how long each is kept (seconds). */
export const RESOLUTIONS: readonly { seconds: number; retainSeconds: number }[] = Object.freeze([
  { seconds: 10, retainSeconds: 3_600 },
  { seconds: 60, retainSeconds: 86_400 },
  { seconds: 600, retainSeconds: 30 * 86_400 },
]);

/** SAMPLER_LOCK is the lock key that elects the active sampler. */
export const SAMPLER_LOCK = 'metrics-sampler';

/** ServiceSample is one service's resource use at one moment (summed over its running allocations). */
export interface ServiceSample {
  /** allocations is the number of running allocations sampled. */
  allocations: number;
  /** cpuPercent is the sum of the allocations' CPU percent. */
  cpuPercent: number;
  /** cpuMhz is the sum of the allocations' CPU use in MHz (Nomad's TotalTicks). */
  cpuMhz: number;
  /** memoryBytes is the sum of the allocations' resident memory. */
  memoryBytes: number;
  /** network is the service's HTTP traffic through Traefik (bytes/s), or null/absent when not known for this sample. */
  network?: TrafficRates | null;
}

/** MetricsSamplerDeps are the sampler's adapters. */
export interface MetricsSamplerDeps {
  /** dataSource stores samples. */
  dataSource: DataSource;
  /** nomad reads allocations and their stats. */
  nomad: NomadClient;
  /** targets lists services. */
  targets: ServiceTargets;
  /** locks elects one sampler among replicas. */
  locks: Lock;
  /** clock stamps samples. */
  clock: Clock;
  /** logger hears about failures. */
  logger?: Logger;
  /** traffic gives network rates per service ID (Traefik's metrics); absent: no network figures. */
  traffic?: TrafficSource;
  /** intervalMs is the sampling interval (default 10 s). */
  intervalMs?: number;
  /** concurrency bounds parallel stats requests (default 8). */
  concurrency?: number;
}

/** MetricsSampler samples on an interval while it holds the lock. */
export class MetricsSampler {
  private readonly d: MetricsSamplerDeps;
  private readonly intervalMs: number;
  private lease: LockLease | null = null;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> = Promise.resolve();

  constructor(d: MetricsSamplerDeps) {
    this.d = d;
    this.intervalMs = d.intervalMs ?? 10_000;
  }

  /** isActive tells whether this replica holds the sampler lock. */
  get isActive(): boolean {
    return this.lease !== null;
  }

  /** start samples every interval until stop(). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { this.running = this.tick().catch((err: unknown) => this.d.logger?.warn({ err }, 'metrics tick failed')); }, this.intervalMs);
    this.timer.unref();
  }

  /** stop ends sampling and releases the lock. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
    if (this.lease) await this.d.locks.release(this.lease).catch(() => false);
    this.lease = null;
  }

  /**
   * tick takes (or keeps) the lock and, when it holds it, samples every service once and enforces retention;
   * returns the number of services sampled (0 when another replica is the sampler).
   */
  async tick(): Promise<number> {
    const ttl = this.intervalMs * 3;
    if (this.lease && !(await this.d.locks.extend(this.lease, ttl))) this.lease = null;
    if (!this.lease) this.lease = await this.d.locks.acquire(SAMPLER_LOCK, ttl);
    if (!this.lease) return 0;
    const at = this.d.clock.now();
    const [targets, traffic] = await Promise.all([this.d.targets.all(), this.readTraffic(at)]);
    let sampled = 0;
    await forEachLimited(targets, this.d.concurrency ?? 8, async (t) => {
      try {
        const s = await this.sample(t);
        if (s) {
          // A scrape that succeeded and saw no series of this service means no HTTP traffic reached it.
          s.network = traffic ? (traffic.get(t.serviceId) ?? { rxBytesPerSecond: 0, txBytesPerSecond: 0 }) : null;
          await this.store(t.serviceId, at, s);
          sampled += 1;
        }
      } catch (err) {
        this.d.logger?.debug({ err, service: t.serviceId }, 'metrics sample failed');
      }
    });
    await this.enforceRetention(at);
    return sampled;
  }

  /** readTraffic scrapes the traffic source once; null when there is none, it fails (logged) or gives a baseline only. */
  private async readTraffic(at: Date): Promise<ReadonlyMap<string, TrafficRates> | null> {
    if (!this.d.traffic) return null;
    try {
      return await this.d.traffic.read(at);
    } catch (err) {
      this.d.logger?.warn({ err }, 'network metrics scrape failed; this tick has no network figures');
      return null;
    }
  }

  /** sample reads one service's running allocations and sums their stats; null when nothing runs. */
  async sample(t: ServiceTarget): Promise<ServiceSample | null> {
    let allocs;
    try {
      allocs = (await this.d.nomad.jobs.allocations(t.jobId, {}, { namespace: t.namespace })).data;
    } catch (e) {
      if (isNomadNotFound(e)) return null;
      throw e;
    }
    const running = allocs.filter((a) => a.ClientStatus === 'running' && a.ID);
    if (running.length === 0) return null;
    const out: ServiceSample = { allocations: 0, cpuPercent: 0, cpuMhz: 0, memoryBytes: 0 };
    for (const a of running) {
      try {
        const u = (await this.d.nomad.allocations.stats(a.ID ?? '', { namespace: t.namespace })).data.ResourceUsage;
        out.allocations += 1;
        out.cpuPercent += u?.CpuStats?.Percent ?? 0;
        out.cpuMhz += u?.CpuStats?.TotalTicks ?? 0;
        out.memoryBytes += u?.MemoryStats?.RSS || u?.MemoryStats?.Usage || 0;
      } catch (e) {
        if (!isNomadNotFound(e)) throw e; // the allocation stopped between the list and the read
      }
    }
    return out.allocations > 0 ? out : null;
  }

  /** store adds one sample to its bucket at every resolution (network averaged only over samples that had it). */
  async store(serviceId: string, at: Date, s: ServiceSample): Promise<void> {
    const values: unknown[] = [];
    const rows: string[] = [];
    const net = s.network ?? null;
    for (const r of RESOLUTIONS) {
      const bucket = new Date(Math.floor(at.getTime() / (r.seconds * 1000)) * r.seconds * 1000);
      const i = values.length;
      values.push(serviceId, r.seconds, bucket, s.allocations, s.cpuPercent, s.cpuMhz, s.memoryBytes, Math.round(s.memoryBytes),
        net ? 1 : 0, net?.rxBytesPerSecond ?? null, net?.txBytesPerSecond ?? null);
      rows.push(`($${i + 1}::uuid, $${i + 2}::int, $${i + 3}::timestamptz, 1, $${i + 4}::int, $${i + 5}::float8, $${i + 6}::float8, $${i + 7}::float8, $${i + 8}::bigint, $${i + 9}::int, $${i + 10}::float8, $${i + 11}::float8)`);
    }
    await this.d.dataSource.query(
      `INSERT INTO service_metrics AS m (service_id, resolution, bucket, samples, allocations, cpu_percent, cpu_mhz, memory_bytes, memory_max_bytes,
                                         network_samples, network_rx_bps, network_tx_bps)
       VALUES ${rows.join(', ')}
       ON CONFLICT (service_id, resolution, bucket) DO UPDATE SET
         samples = m.samples + 1,
         allocations = GREATEST(m.allocations, EXCLUDED.allocations),
         cpu_percent = (m.cpu_percent * m.samples + EXCLUDED.cpu_percent) / (m.samples + 1),
         cpu_mhz = (m.cpu_mhz * m.samples + EXCLUDED.cpu_mhz) / (m.samples + 1),
         memory_bytes = (m.memory_bytes * m.samples + EXCLUDED.memory_bytes) / (m.samples + 1),
         memory_max_bytes = GREATEST(m.memory_max_bytes, EXCLUDED.memory_max_bytes),
         network_samples = m.network_samples + EXCLUDED.network_samples,
         network_rx_bps = CASE WHEN EXCLUDED.network_samples = 0 THEN m.network_rx_bps
           ELSE (COALESCE(m.network_rx_bps, 0) * m.network_samples + EXCLUDED.network_rx_bps) / (m.network_samples + 1) END,
         network_tx_bps = CASE WHEN EXCLUDED.network_samples = 0 THEN m.network_tx_bps
           ELSE (COALESCE(m.network_tx_bps, 0) * m.network_samples + EXCLUDED.network_tx_bps) / (m.network_samples + 1) END`,
      values,
    );
  }

  /** enforceRetention deletes the rows each resolution no longer keeps. */
  async enforceRetention(at: Date): Promise<void> {
    for (const r of RESOLUTIONS) {
      await this.d.dataSource.query('DELETE FROM service_metrics WHERE resolution = $1 AND bucket < $2', [r.seconds, new Date(at.getTime() - r.retainSeconds * 1000)]);
    }
  }
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (t: T) => Promise<void>): Promise<void> {
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  });
  await Promise.all(workers);
}
