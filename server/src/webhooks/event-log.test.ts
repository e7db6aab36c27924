/**
 * Webhook deliveries derive from the durable event log (real Postgres, real Redis, a receiver over loopback HTTP,
 * allowed by the test-only override as in webhooks.test.ts): an event recorded while the bus cannot publish still
 * reaches the webhook, once; an id committed after a higher one was read (the bigserial visibility gap) is still
 * delivered, and a lost id is forgotten after the horizon; two replicas on one database deliver every event exactly
 * once; the cursor starts at the newest event on the first run (history is not replayed); a replica that cannot
 * subscribe to the bus at all still delivers from its tick.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { publishDeploymentEvent } from '../deployments/events.ts';
import { RecordingEventBus } from '../events/log.ts';
import { startRuntimeKit, until, type RuntimeKit } from '../events/test-kit.ts';
import { createRedisCoordination } from '../platform/coordination/index.ts';
import { systemClock } from '../core/clock.ts';
import { SystemDnsResolver } from '../domains/verification.ts';
import { WebhookDelivery, type DeliveryOptions } from './delivery.ts';
import { UrlGuard } from './url-guard.ts';

interface Hit { event: string; data: { type: string; deploymentId: string | null; reason: string | null } }

async function receiver(): Promise<{ url: string; hits: Hit[]; close(): Promise<void> }> {
  const hits: Hit[] = [];
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => { body += c.toString('utf8'); });
    req.on('end', () => {
      const b = JSON.parse(body) as { data: Hit['data'] };
      hits.push({ event: String(req.headers['x-drover-event']), data: b.data });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OPTIONS: DeliveryOptions = { baseDelayMs: 100, pollMs: 50, maxAttempts: 4, timeoutMs: 2_000, eventPollMs: 200, gapHorizonMs: 4_000 };

async function deliveries(kit: RuntimeKit, webhookId: string): Promise<{ event_id: string | null; state: string; deployment: string | null }[]> {
  return (await kit.app.db.dataSource.query(
    `SELECT event_id::text AS event_id, state, payload->>'deploymentId' AS deployment FROM webhook_deliveries WHERE webhook_id = $1 ORDER BY event_id`, [webhookId],
  )) as { event_id: string | null; state: string; deployment: string | null }[];
}

describe('webhooks: deliveries from the event log', () => {
  let kit: RuntimeKit;
  before(async () => {
    kit = await startRuntimeKit({ runtime: { delivery: OPTIONS } });
    await kit.runtime.start();
  });
  after(async () => { await kit.close(); });

  it('an event recorded while the bus cannot publish (Redis unreachable) still reaches the webhook, exactly once', { timeout: 30_000 }, async () => {
    const rx = await receiver();
    const { target } = await kit.deployService();
    const hook = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook`, events: ['deployment.healthy'] });
    assert.equal(hook.status, 201, hook.text);
    // A real Redis client whose server is gone: publishing fails, as in an outage, after the event was recorded.
    const dead = await createRedisCoordination({ url: 'redis://127.0.0.1:1', prefix: 'dead:', commandTimeoutMs: 200 });
    try {
      const bus = new RecordingEventBus(dead.events, kit.bus.log);
      await assert.rejects(
        publishDeploymentEvent(bus, { type: 'deployment.healthy', teamId: target.teamId, serviceId: target.serviceId, deploymentId: 'during-outage' }),
        /Redis publish failed/,
      );
    } finally {
      await dead.close();
    }
    const [recorded] = (await kit.app.db.dataSource.query(`SELECT id::text AS id FROM events WHERE payload->>'deploymentId' = 'during-outage'`)) as { id: string }[];
    assert.ok(recorded, 'the event was recorded before the publish failed');
    await until(() => rx.hits.length >= 1, 15_000);
    await sleep(1_000); // several ticks and polls more
    assert.deepEqual(rx.hits.map((h) => [h.event, h.data.deploymentId]), [['deployment.healthy', 'during-outage']]);
    assert.deepEqual(await deliveries(kit, hook.body.id as string), [{ event_id: recorded.id, state: 'delivered', deployment: 'during-outage' }]);
    await rx.close();
  });

  it('an id committed after a higher one was read (bigserial visibility gap) is delivered once it commits; a lost id is forgotten', { timeout: 30_000 }, async () => {
    const rx = await receiver();
    const { target } = await kit.deployService();
    const hook = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook` });
    assert.equal(hook.status, 201, hook.text);
    const db = kit.app.db.dataSource;
    const slow = db.createQueryRunner();
    const lost = db.createQueryRunner();
    await slow.connect();
    await lost.connect();
    try {
      const insert = async (qr: typeof slow, deploymentId: string) => {
        const e = { type: 'deployment.failed', teamId: target.teamId, serviceId: target.serviceId, deploymentId, at: new Date().toISOString() };
        const rows = (await qr.query('INSERT INTO events (team_id, type, payload, created_at) VALUES ($1, $2, $3::jsonb, now()) RETURNING id::text AS id', [e.teamId, e.type, JSON.stringify(e)])) as { id: string }[];
        return rows[0]?.id ?? '';
      };
      // Two inserts take their ids and stay uncommitted; a later event commits and is delivered meanwhile.
      await slow.startTransaction();
      const slowId = await insert(slow, 'committed-late');
      await lost.startTransaction();
      const lostId = await insert(lost, 'rolled-back');
      await publishDeploymentEvent(kit.bus, { type: 'deployment.healthy', teamId: target.teamId, serviceId: target.serviceId, deploymentId: 'committed-first' });
      await until(() => rx.hits.length >= 1, 15_000);
      const [cursor] = (await db.query('SELECT last_event_id::text AS id FROM webhook_event_cursor')) as { id: string }[];
      assert.ok(BigInt(cursor?.id ?? '0') > BigInt(slowId), 'the cursor moved past the uncommitted ids');
      const gaps = ((await db.query('SELECT event_id::text AS id FROM webhook_event_gaps ORDER BY event_id')) as { id: string }[]).map((r) => r.id);
      assert.ok(gaps.includes(slowId) && gaps.includes(lostId), `both uncommitted ids are remembered: ${gaps.join(',')}`);

      await slow.commitTransaction();
      await lost.rollbackTransaction();
      await until(() => rx.hits.length >= 2, 15_000);
      await sleep(1_000);
      assert.deepEqual(rx.hits.map((h) => h.data.deploymentId), ['committed-first', 'committed-late']);
      const rows = await deliveries(kit, hook.body.id as string);
      assert.deepEqual(rows.map((r) => [r.deployment, r.state]).sort(), [['committed-first', 'delivered'], ['committed-late', 'delivered']]);
      // The rolled-back id never appears: it is dropped from the gap list once older than the horizon (4 s here).
      await until(async () => ((await db.query('SELECT count(*)::int AS n FROM webhook_event_gaps WHERE event_id = $1', [lostId])) as { n: number }[])[0]?.n === 0, 15_000);
    } finally {
      if (slow.isTransactionActive) await slow.rollbackTransaction();
      if (lost.isTransactionActive) await lost.rollbackTransaction();
      await slow.release();
      await lost.release();
    }
    await rx.close();
  });
});

describe('webhooks: two replicas on one database', () => {
  let kit: RuntimeKit;
  let peer: RuntimeKit;
  before(async () => {
    kit = await startRuntimeKit({ runtime: { delivery: OPTIONS } });
    peer = await startRuntimeKit({ peer: kit, runtime: { delivery: OPTIONS } });
  });
  after(async () => {
    await peer.close();
    await kit.close();
  });

  it('starts the cursor at the newest event on the first run: events recorded before are not sent', { timeout: 30_000 }, async () => {
    const rx = await receiver();
    const { target } = await kit.deployService();
    const hook = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook` });
    assert.equal(hook.status, 201, hook.text);
    await publishDeploymentEvent(kit.bus, { type: 'deployment.queued', teamId: target.teamId, serviceId: target.serviceId, deploymentId: 'history' });
    await Promise.all([kit.runtime.start(), peer.runtime.start()]);
    const [newest] = (await kit.app.db.dataSource.query('SELECT max(id)::text AS id FROM events')) as { id: string }[];
    const [cursor] = (await kit.app.db.dataSource.query('SELECT last_event_id::text AS id FROM webhook_event_cursor')) as { id: string }[];
    assert.equal(cursor?.id, newest?.id);
    await publishDeploymentEvent(peer.bus, { type: 'deployment.healthy', teamId: target.teamId, serviceId: target.serviceId, deploymentId: 'live' });
    await until(() => rx.hits.length >= 1, 15_000);
    await sleep(1_000);
    assert.deepEqual(rx.hits.map((h) => h.data.deploymentId), ['live']);
    await rx.close();
  });

  it('every replica hears every event and reads the log, yet each event is delivered exactly once', { timeout: 60_000 }, async () => {
    const rx = await receiver();
    const { target } = await kit.deployService();
    const hook = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook` });
    assert.equal(hook.status, 201, hook.text);
    const n = 40;
    // Published concurrently from both replicas: ids commit out of order, every notification reaches both dispatchers.
    await Promise.all(Array.from({ length: n }, (_, i) => publishDeploymentEvent((i % 2 === 0 ? kit : peer).bus, {
      type: 'service.scaled', teamId: target.teamId, serviceId: target.serviceId, deploymentId: `e${i}`,
    })));
    await until(() => rx.hits.length >= n, 30_000);
    await sleep(1_500);
    const got = rx.hits.map((h) => h.data.deploymentId ?? '').sort();
    assert.equal(got.length, n, `exactly ${n} requests, got ${got.length}`);
    assert.deepEqual(got, Array.from({ length: n }, (_, i) => `e${i}`).sort());
    const rows = await deliveries(kit, hook.body.id as string);
    assert.equal(rows.length, n);
    assert.equal(new Set(rows.map((r) => r.event_id)).size, n, 'one delivery per event');
    assert.ok(rows.every((r) => r.state === 'delivered'));
    await rx.close();
  });
});

describe('webhooks: a dispatcher without the bus', () => {
  let kit: RuntimeKit;
  before(async () => { kit = await startRuntimeKit(); }); // its own runtime is never started: only the sut dispatches
  after(async () => { await kit.close(); });

  it('cannot subscribe (Redis unreachable) yet delivers every recorded event from its tick, once', { timeout: 30_000 }, async () => {
    const rx = await receiver();
    const { target } = await kit.deployService();
    const hook = await kit.client.post(`/api/projects/${target.projectId}/webhooks`, { url: `${rx.url}/hook`, events: ['service.restarted'] });
    assert.equal(hook.status, 201, hook.text);
    const dead = await createRedisCoordination({ url: 'redis://127.0.0.1:1', prefix: 'dead:', commandTimeoutMs: 200 });
    const sut = new WebhookDelivery({
      dataSource: kit.app.db.dataSource, bus: dead.events, secrets: kit.app.services.projectDomains.secrets,
      guard: new UrlGuard(new SystemDnsResolver(), { allowLoopback: true }), clock: systemClock,
    }, OPTIONS);
    try {
      await assert.rejects(sut.start(), /Redis subscribe failed/);
      for (const id of ['r1', 'r2', 'r3']) {
        await publishDeploymentEvent(kit.bus, { type: 'service.restarted', teamId: target.teamId, serviceId: target.serviceId, deploymentId: id });
      }
      await until(() => rx.hits.length >= 3, 15_000);
      await sleep(1_000);
      assert.deepEqual(rx.hits.map((h) => h.data.deploymentId).sort(), ['r1', 'r2', 'r3']);
    } finally {
      await sut.stop();
      await dead.close();
    }
    await rx.close();
  });
});
