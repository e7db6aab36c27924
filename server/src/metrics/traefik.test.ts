/**
 * TraefikTraffic against a real HTTP server on loopback serving Traefik-shaped Prometheus text: rates between scrapes,
 * canaries counted for their service, counter resets, series that appear later, unknown services ignored, and failed
 * scrapes (status, content type, size, malformed text, unreachable) reported as errors, never as numbers.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { canaryRouterName, routerName } from '@drover/scheduler/compiler/names.ts';
import { serviceIdOfTraefikService, TraefikScrapeError, TraefikTraffic } from './traefik.ts';
import { startExpositionServer, traefikBytes, type ExpositionServer } from './test-exposition.ts';

const t0 = new Date('2026-03-01T12:00:00Z');
const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);

describe('serviceIdOfTraefikService', () => {
  it("maps the compiler's router names with a provider suffix to the service ID, and nothing else", () => {
    const id = randomUUID();
    assert.equal(serviceIdOfTraefikService(`${routerName(id)}@consulcatalog`), id);
    assert.equal(serviceIdOfTraefikService(`${canaryRouterName(id)}@consulcatalog`), id);
    assert.equal(serviceIdOfTraefikService(`${routerName(id)}@nomad`), id);
    for (const other of ['drover-dashboard@consulcatalog', 'ping@internal', `${routerName(id)}@file`, routerName(id), `d-not-a-uuid@consulcatalog`, `x${routerName(id)}@consulcatalog`]) {
      assert.equal(serviceIdOfTraefikService(other), undefined, other);
    }
  });
});

describe('TraefikTraffic over HTTP', () => {
  let server: ExpositionServer;
  before(async () => { server = await startExpositionServer(); });
  after(async () => { await server.close(); });

  it('gives no rates on the first scrape, then bytes per second per service (canary included, per-series deltas summed)', async () => {
    const a = randomUUID();
    const b = randomUUID();
    const sut = new TraefikTraffic({ url: server.url });
    server.body = traefikBytes([
      { service: `${routerName(a)}@consulcatalog`, rx: 1_000, tx: 10_000 },
      { service: `${routerName(a)}@consulcatalog`, rx: 500, tx: 100, code: 404 },
      { service: `${routerName(b)}@consulcatalog`, rx: 0, tx: 0 },
      { service: 'drover-dashboard@consulcatalog', rx: 9_999, tx: 9_999 },
    ]);
    assert.equal(await sut.read(at(0)), null, 'the first scrape is a baseline');
    server.body = traefikBytes([
      { service: `${routerName(a)}@consulcatalog`, rx: 21_000, tx: 110_000 },
      { service: `${routerName(a)}@consulcatalog`, rx: 1_500, tx: 2_100, code: 404 },
      // A series born since the last scrape (first POST, first canary request) counts from zero.
      { service: `${routerName(a)}@consulcatalog`, rx: 3_000, tx: 0, method: 'POST' },
      { service: `${canaryRouterName(a)}@consulcatalog`, rx: 5_000, tx: 8_000 },
      { service: `${routerName(b)}@consulcatalog`, rx: 0, tx: 0 },
      { service: 'drover-dashboard@consulcatalog', rx: 99_999, tx: 99_999 },
    ]);
    const r = await sut.read(at(10));
    assert.ok(r);
    assert.deepEqual(r.get(a), { rxBytesPerSecond: (20_000 + 1_000 + 3_000 + 5_000) / 10, txBytesPerSecond: (100_000 + 2_000 + 8_000) / 10 });
    assert.deepEqual(r.get(b), { rxBytesPerSecond: 0, txBytesPerSecond: 0 });
    assert.deepEqual([...r.keys()].sort(), [a, b].sort(), 'only Drover services are reported');
    assert.equal(server.requests, 2);
  });

  it('a counter below its last value is a reset (Traefik restarted): the new value counts from zero', async () => {
    const a = randomUUID();
    const sut = new TraefikTraffic({ url: server.url });
    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 1_000_000, tx: 5_000_000 }]);
    await sut.read(at(0));
    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 4_000, tx: 20_000 }]);
    assert.deepEqual((await sut.read(at(20)))?.get(a), { rxBytesPerSecond: 200, txBytesPerSecond: 1_000 });
    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 6_000, tx: 20_000 }]);
    assert.deepEqual((await sut.read(at(30)))?.get(a), { rxBytesPerSecond: 200, txBytesPerSecond: 0 });
  });

  it('a gap longer than maxGapMs only re-baselines', async () => {
    const a = randomUUID();
    const sut = new TraefikTraffic({ url: server.url, maxGapMs: 60_000 });
    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 0, tx: 0 }]);
    await sut.read(at(0));
    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 1_000, tx: 1_000 }]);
    assert.equal(await sut.read(at(61)), null);
    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 2_000, tx: 1_000 }]);
    assert.deepEqual((await sut.read(at(71)))?.get(a), { rxBytesPerSecond: 100, txBytesPerSecond: 0 });
  });

  it('a failed scrape throws TraefikScrapeError and keeps the baseline', async () => {
    const a = randomUUID();
    const sut = new TraefikTraffic({ url: server.url, maxBytes: 64 * 1024 });
    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 0, tx: 0 }]);
    await sut.read(at(0));

    server.status = 503;
    await assert.rejects(sut.read(at(10)), (e: unknown) => e instanceof TraefikScrapeError && /503/.test(e.message));
    server.status = 200;
    server.contentType = 'text/html';
    await assert.rejects(sut.read(at(10)), (e: unknown) => e instanceof TraefikScrapeError && /text format/.test(e.message));
    server.contentType = 'text/plain; version=0.0.4';
    server.body = 'traefik_service_requests_bytes_total{service="x" 12\n';
    await assert.rejects(sut.read(at(10)), (e: unknown) => e instanceof TraefikScrapeError && /malformed: line 1/.test(e.message));
    server.body = `# ${'x'.repeat(70 * 1024)}\n`;
    await assert.rejects(sut.read(at(10)), (e: unknown) => e instanceof TraefikScrapeError && /exceed/.test(e.message));

    server.body = traefikBytes([{ service: `${routerName(a)}@consulcatalog`, rx: 3_000, tx: 0 }]);
    assert.deepEqual((await sut.read(at(20)))?.get(a), { rxBytesPerSecond: 150, txBytesPerSecond: 0 }, 'rates over the whole span since the last good scrape');

    const closed = await startExpositionServer();
    await closed.close();
    await assert.rejects(new TraefikTraffic({ url: closed.url, timeoutMs: 2_000 }).read(at(0)), (e: unknown) => e instanceof TraefikScrapeError && /unreachable/.test(e.message));
  });
});
