/**
 * Metrics: sampled from the Nomad double's allocation stats over HTTP, stored downsampled in Postgres with retention,
 * one sampler active among replicas (Redis lock), served as a series over HTTP; network figures scraped from a
 * Traefik-shaped Prometheus endpoint on loopback.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { routerName } from '@drover/scheduler/compiler/names.ts';
import { ManualClock } from '../core/clock.ts';
import { startRuntimeKit, type RuntimeKit } from '../events/test-kit.ts';
import { MetricsSampler } from './sampler.ts';
import { startExpositionServer, traefikBytes } from './test-exposition.ts';
import { TraefikTraffic } from './traefik.ts';

describe('metrics sampler and GET /api/services/:serviceId/metrics', () => {
  let kit: RuntimeKit;
  const clock = new ManualClock(new Date('2026-03-01T12:00:00Z'));
  before(async () => { kit = await startRuntimeKit({ runtime: { clock } }); });
  after(async () => { await kit.close(); });

  const rows = async (serviceId: string, resolution: number) => (await kit.app.db.dataSource.query(
    'SELECT bucket, samples, allocations, cpu_percent, memory_bytes FROM service_metrics WHERE service_id = $1 AND resolution = $2 ORDER BY bucket', [serviceId, resolution],
  )) as { bucket: Date; samples: number; allocations: number; cpu_percent: number; memory_bytes: number }[];

  it('samples running allocations, downsamples into 10 s / 1 min / 10 min, enforces retention, serves the series', { timeout: 60_000 }, async () => {
    const { target, allocs } = await kit.deployService(undefined, undefined, 2);
    const sut = kit.runtime.sampler;
    // What the double reports right now, summed over both allocations.
    const direct = await sut.sample(target);
    assert.equal(direct?.allocations, 2);
    assert.ok((direct?.memoryBytes ?? 0) > 0 && (direct?.cpuPercent ?? 0) > 0);
    const stats = await Promise.all(allocs.map((a) => kit.nomad.allocations.stats(a.ID ?? '', { namespace: target.namespace })));
    const rss = stats.reduce((n, s) => n + (s.data.ResourceUsage?.MemoryStats?.RSS ?? 0), 0);
    assert.ok(Math.abs(rss - (direct?.memoryBytes ?? 0)) / rss < 0.2, 'the sample is the sum of the allocations\' RSS');

    for (let i = 0; i < 12; i++) {
      assert.ok((await sut.tick()) >= 1);
      clock.advance(10_000);
    }
    const raw = await rows(target.serviceId, 10);
    assert.equal(raw.length, 12);
    assert.ok(raw.every((r) => r.samples === 1 && r.allocations === 2));
    const minute = await rows(target.serviceId, 60);
    assert.equal(minute.length, 2);
    assert.deepEqual(minute.map((r) => r.samples), [6, 6]);
    const avg = raw.slice(0, 6).reduce((n, r) => n + r.memory_bytes, 0) / 6;
    assert.ok(Math.abs((minute[0]?.memory_bytes ?? 0) - avg) < 1, 'the minute bucket is the average of its raw samples');
    assert.equal((await rows(target.serviceId, 600)).length, 1);

    const r = await kit.client.get(`/api/services/${target.serviceId}/metrics?from=2026-03-01T12:00:00Z&to=2026-03-01T12:02:00Z&step=60`);
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.resolution, 10);
    assert.equal(r.body.points.length, 2);
    assert.equal(r.body.points[0].t, '2026-03-01T12:00:00.000Z');
    assert.ok(Math.abs(r.body.points[0].memoryBytes - avg) < 2);
    assert.equal(r.body.points[0].networkRxBytesPerSecond, null, 'no Traefik metrics configured: network is null, not zero');
    assert.equal(r.body.points[0].networkTxBytesPerSecond, null);

    // Two hours later: raw rows are gone, minute rows kept; a day later the minutes go too.
    clock.advance(2 * 3_600_000);
    await sut.tick();
    assert.equal((await rows(target.serviceId, 10)).filter((x) => x.bucket < new Date('2026-03-01T13:00:00Z')).length, 0);
    assert.equal((await rows(target.serviceId, 60)).filter((x) => x.bucket < new Date('2026-03-01T12:02:00Z')).length, 2);
    clock.advance(25 * 3_600_000);
    await sut.tick();
    assert.equal((await rows(target.serviceId, 60)).filter((x) => x.bucket < new Date('2026-03-01T12:02:00Z')).length, 0);
    assert.equal((await rows(target.serviceId, 600)).filter((x) => x.bucket < new Date('2026-03-01T12:10:00Z')).length, 1);
    const old = await kit.client.get(`/api/services/${target.serviceId}/metrics?from=2026-03-01T12:00:00Z&to=2026-03-01T13:00:00Z`);
    assert.equal(old.status, 200, old.text);
    assert.equal(old.body.resolution, 600, 'an old range is read from the 10 min rows');
    assert.equal(old.body.points.length, 1);
  });

  it('only one sampler is active among replicas', { timeout: 30_000 }, async () => {
    const other = new MetricsSampler({ dataSource: kit.app.db.dataSource, nomad: kit.nomad, targets: kit.runtime.targets, locks: kit.coordination.locks, clock });
    await kit.runtime.sampler.tick();
    assert.equal(kit.runtime.sampler.isActive, true);
    assert.equal(await other.tick(), 0);
    assert.equal(other.isActive, false);
    await kit.runtime.sampler.stop();
    assert.ok((await other.tick()) >= 1, 'the other replica takes over once the lock is released');
    await other.stop();
  });

  it('bad queries name the field; other teams get 404', { timeout: 30_000 }, async () => {
    const { target } = await kit.deployService();
    const bad = await kit.client.get(`/api/services/${target.serviceId}/metrics?from=2026-03-03T00:00:00Z&to=2026-03-01T00:00:00Z`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, 'query.from');
    const tooMany = await kit.client.get(`/api/services/${target.serviceId}/metrics?from=2026-02-01T00:00:00Z&to=2026-03-01T00:00:00Z&step=600`);
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.errors[0].path, 'query.step');
    const nobody = await kit.client.get('/api/services/00000000-0000-4000-8000-000000000000/metrics');
    assert.equal(nobody.status, 404);
  });

  it('stores network rates from Traefik\'s metrics (baseline, rates, counter reset; unknown services ignored) and serves them', { timeout: 60_000 }, async () => {
    const { target } = await kit.deployService();
    const unknown = '00000000-0000-4000-8000-0000000000aa';
    const traefik = await startExpositionServer();
    after(() => traefik.close());
    const sut = new MetricsSampler({
      dataSource: kit.app.db.dataSource, nomad: kit.nomad, targets: kit.runtime.targets, locks: kit.coordination.locks, clock,
      traffic: new TraefikTraffic({ url: traefik.url }),
    });
    after(() => sut.stop());
    clock.advance(60_000 - (clock.now().getTime() % 60_000)); // the three ticks share one minute bucket
    const start = clock.now();
    const counters = (rx: number, tx: number) => traefikBytes([
      { service: `${routerName(target.serviceId)}@consulcatalog`, rx, tx },
      { service: `${routerName(unknown)}@consulcatalog`, rx: rx * 3, tx: tx * 3 },
      { service: 'drover-dashboard@consulcatalog', rx: 5, tx: 5 },
    ]);

    traefik.body = counters(10_000, 50_000);
    assert.ok((await sut.tick()) >= 1);
    clock.advance(10_000);
    traefik.body = counters(30_000, 150_000);
    await sut.tick();
    clock.advance(10_000);
    traefik.body = counters(5_000, 10_000); // Traefik restarted
    await sut.tick();
    assert.equal(traefik.requests, 3, 'one scrape per tick, not one per service');

    const net = (await kit.app.db.dataSource.query(
      'SELECT resolution, samples, network_samples, network_rx_bps, network_tx_bps FROM service_metrics WHERE service_id = $1 AND bucket >= $2 ORDER BY resolution, bucket',
      [target.serviceId, start],
    )) as { resolution: number; samples: number; network_samples: number; network_rx_bps: number | null; network_tx_bps: number | null }[];
    assert.deepEqual(net.filter((r) => r.resolution === 10).map((r) => [r.network_samples, r.network_rx_bps, r.network_tx_bps]), [
      [0, null, null], // the first scrape is only a baseline
      [1, 2_000, 10_000],
      [1, 500, 1_000], // counter reset: the new values count from zero
    ]);
    const minute = net.find((r) => r.resolution === 60);
    assert.equal(minute?.samples, 3);
    assert.equal(minute?.network_samples, 2);
    assert.equal(minute?.network_rx_bps, 1_250, 'averaged over the samples that had network figures only');
    assert.equal(minute?.network_tx_bps, 5_500);
    const stray = (await kit.app.db.dataSource.query('SELECT count(*)::int AS n FROM service_metrics WHERE service_id = $1', [unknown])) as { n: number }[];
    assert.equal(stray[0]?.n, 0, 'a Traefik service with no Drover service is ignored');

    const to = new Date(start.getTime() + 60_000).toISOString();
    const r = await kit.client.get(`/api/services/${target.serviceId}/metrics?from=${start.toISOString()}&to=${to}&step=10`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.points.map((p: { networkRxBytesPerSecond: number | null; networkTxBytesPerSecond: number | null }) => [p.networkRxBytesPerSecond, p.networkTxBytesPerSecond]),
      [[null, null], [2_000, 10_000], [500, 1_000]]);
    const coarse = await kit.client.get(`/api/services/${target.serviceId}/metrics?from=${start.toISOString()}&to=${to}&step=60`);
    assert.equal(coarse.status, 200, coarse.text);
    assert.equal(coarse.body.points.length, 1);
    assert.equal(coarse.body.points[0].networkRxBytesPerSecond, 1_250);
    assert.equal(coarse.body.points[0].networkTxBytesPerSecond, 5_500);

    // Traefik unreachable: the tick still samples CPU and memory, with no network figures.
    traefik.status = 503;
    clock.advance(10_000);
    assert.ok((await sut.tick()) >= 1);
    const last = (await kit.app.db.dataSource.query(
      'SELECT network_samples FROM service_metrics WHERE service_id = $1 AND resolution = 10 ORDER BY bucket DESC LIMIT 1', [target.serviceId],
    )) as { network_samples: number }[];
    assert.equal(last[0]?.network_samples, 0);
  });
});
