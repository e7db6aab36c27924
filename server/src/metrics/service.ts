/**
 * MetricsService: serves a service's stored resource series. It picks the finest stored resolution that still covers
 * `from` and is no coarser than `step`, then aggregates its buckets into `step`-wide points (sample-weighted averages,
 * max of memory max; network rates averaged over the samples that had them, null when none had). At most MAX_POINTS
 * points per answer.
 */
import type { DataSource } from 'typeorm';
import type { Actor } from '../core/actor.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/errors.ts';
import type { ServiceTargets } from '../logs/target.ts';
import { RESOLUTIONS } from './sampler.ts';

/** MAX_POINTS bounds the points of one answer. */
export const MAX_POINTS = 1_000;

/** MetricsPoint is one point of the series. */
export interface MetricsPoint {
  /** t is the start of the point's interval. */
  t: Date;
  /** allocations is the most running allocations seen. */
  allocations: number;
  /** cpuPercent is the average CPU percent (summed over allocations). */
  cpuPercent: number;
  /** cpuMhz is the average CPU use in MHz. */
  cpuMhz: number;
  /** memoryBytes is the average resident memory. */
  memoryBytes: number;
  /** memoryMaxBytes is the highest sampled memory. */
  memoryMaxBytes: number;
  /** networkRxBytesPerSecond is the average HTTP request bytes/s through Traefik, or null when not measured. */
  networkRxBytesPerSecond: number | null;
  /** networkTxBytesPerSecond is the average HTTP response bytes/s through Traefik, or null when not measured. */
  networkTxBytesPerSecond: number | null;
}

/** MetricsSeries is the answer. */
export interface MetricsSeries {
  /** from and to bound the series. */
  from: Date;
  /** to is the end (exclusive). */
  to: Date;
  /** step is the width of a point in seconds. */
  step: number;
  /** resolution is the stored resolution the points were built from (seconds). */
  resolution: number;
  /** points are ordered by time; intervals without samples are absent. */
  points: MetricsPoint[];
}

/** MetricsService reads series. */
export class MetricsService {
  private readonly d: { dataSource: DataSource; targets: ServiceTargets; clock: Clock };

  constructor(d: { dataSource: DataSource; targets: ServiceTargets; clock: Clock }) {
    this.d = d;
  }

  /** series returns the service's points between from (default to − 1 h) and to (default now). */
  async series(actor: Actor, serviceId: string, q: { from?: Date; to?: Date; step?: number }): Promise<MetricsSeries> {
    const t = await this.d.targets.require(actor, serviceId, 'read');
    const now = this.d.clock.now();
    const to = q.to ?? now;
    const from = q.from ?? new Date(to.getTime() - 3_600_000);
    const errors: { path: string; message: string }[] = [];
    if (from >= to) errors.push({ path: 'query.from', message: 'must be before to' });
    const age = (now.getTime() - from.getTime()) / 1000;
    const res = RESOLUTIONS.find((r) => r.retainSeconds >= age && (q.step === undefined || r.seconds <= q.step)) ?? RESOLUTIONS.at(-1)!;
    const step = q.step ?? Math.max(res.seconds, Math.ceil((to.getTime() - from.getTime()) / 1000 / MAX_POINTS / res.seconds) * res.seconds);
    if (step % res.seconds !== 0) errors.push({ path: 'query.step', message: `must be a multiple of ${res.seconds} s for this range` });
    if ((to.getTime() - from.getTime()) / 1000 / step > MAX_POINTS) errors.push({ path: 'query.step', message: `too many points (at most ${MAX_POINTS})` });
    if (errors.length > 0) throw new DomainError('request/invalid', 'bad metrics query', { errors });
    const rows = (await this.d.dataSource.query(
      `SELECT to_timestamp(floor(extract(epoch FROM bucket) / $4) * $4) AS t,
              max(allocations)::int AS allocations,
              sum(cpu_percent * samples) / sum(samples) AS cpu_percent,
              sum(cpu_mhz * samples) / sum(samples) AS cpu_mhz,
              sum(memory_bytes * samples) / sum(samples) AS memory_bytes,
              max(memory_max_bytes)::float8 AS memory_max_bytes,
              sum(network_rx_bps * network_samples) / NULLIF(sum(network_samples), 0) AS network_rx_bps,
              sum(network_tx_bps * network_samples) / NULLIF(sum(network_samples), 0) AS network_tx_bps
         FROM service_metrics
        WHERE service_id = $1 AND resolution = $5 AND bucket >= $2 AND bucket < $3
        GROUP BY 1 ORDER BY 1`,
      [t.serviceId, from, to, step, res.seconds],
    )) as { t: Date; allocations: number; cpu_percent: number; cpu_mhz: number; memory_bytes: number; memory_max_bytes: number;
      network_rx_bps: number | null; network_tx_bps: number | null }[];
    return {
      from, to, step, resolution: res.seconds,
      points: rows.map((r) => ({
        t: new Date(r.t), allocations: r.allocations, cpuPercent: Number(r.cpu_percent), cpuMhz: Number(r.cpu_mhz),
        memoryBytes: Math.round(Number(r.memory_bytes)), memoryMaxBytes: Number(r.memory_max_bytes),
        networkRxBytesPerSecond: r.network_rx_bps === null ? null : Number(r.network_rx_bps),
        networkTxBytesPerSecond: r.network_tx_bps === null ? null : Number(r.network_tx_bps),
      })),
    };
  }
}
