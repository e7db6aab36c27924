/**
 * Team event streams over real HTTP SSE, fed through real Redis, recorded in real Postgres: each team's stream carries
 * only its own events; a member limited to chosen projects only those of its projects; Last-Event-ID replays what was
 * missed from the event log — on another replica too, after the publisher's Redis is gone, without gap or duplicate
 * at the seam with the live stream; an unknown, pruned or too old id gets `reset`; outsiders get 404.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishDeploymentEvent } from '../deployments/events.ts';
import { createRedisCoordination } from '../platform/coordination/index.ts';
import { Client, testPassword } from '../testing/app.ts';
import { testRedisUrl } from '../testing/redis.ts';
import { systemClock } from '../core/clock.ts';
import { DEPLOYMENT_EVENTS_CHANNEL } from '../deployments/events.ts';
import { EventsHub } from './hub.ts';
import { EventLog, RecordingEventBus, type ReplayResult } from './log.ts';
import { EventsService } from './service.ts';
import { startRuntimeKit, SseReader, type RuntimeKit } from './test-kit.ts';

describe('GET /api/teams/:teamId/events', () => {
  let kit: RuntimeKit;
  before(async () => { kit = await startRuntimeKit(); });
  after(async () => { await kit.close(); });

  async function otherTeam(): Promise<{ client: Client; teamId: string }> {
    const c = new Client(kit.url);
    const email = `b-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.test`;
    const inv = await kit.owner.client.post(`/api/teams/${kit.owner.teamId}/invitations`, { email, role: 'viewer' });
    const token = new URL(kit.app.mailer.lastTo(email)?.link ?? inv.body.acceptUrl).hash.replace('#token=', '');
    const r = await c.post('/api/invitations/accept', { token, name: 'B', password: testPassword() });
    assert.equal(r.status, 200, r.text);
    const t = await c.post('/api/teams', { name: 'Beta' });
    assert.equal(t.status, 201, t.text);
    // …and is no longer a member of the first team.
    assert.equal((await kit.owner.client.del(`/api/teams/${kit.owner.teamId}/members/${r.body.userId}`)).status, 204);
    return { client: c, teamId: t.body.id };
  }

  it('delivers each event only to the streams of its team, and of the projects a member may see', { timeout: 30_000 }, async () => {
    const a = await kit.deployService();
    const b = await kit.deployService();
    const beta = await otherTeam();
    // a member limited to a's project
    const email = `lim-${Date.now()}@example.test`;
    await kit.owner.client.post(`/api/teams/${kit.owner.teamId}/invitations`, { email, role: 'member', projectIds: [a.target.projectId] });
    const limited = new Client(kit.url);
    const token = new URL(kit.app.mailer.lastTo(email)?.link ?? '').hash.replace('#token=', '');
    assert.equal((await limited.post('/api/invitations/accept', { token, name: 'L', password: testPassword() })).status, 200);

    const sut = await SseReader.open(kit.client, `/api/teams/${kit.owner.teamId}/events`);
    const lim = await SseReader.open(limited, `/api/teams/${kit.owner.teamId}/events`);
    const other = await SseReader.open(beta.client, `/api/teams/${beta.teamId}/events`);
    for (const r of [sut, lim, other]) { assert.equal(r.status, 200); await r.until((e) => e.event === 'ready'); }

    const bus = kit.bus;
    await publishDeploymentEvent(bus, { type: 'deployment.healthy', teamId: kit.owner.teamId, serviceId: a.target.serviceId, deploymentId: 'd-a', reason: 'ok' });
    await publishDeploymentEvent(bus, { type: 'deployment.failed', teamId: kit.owner.teamId, serviceId: b.target.serviceId, deploymentId: 'd-b', reason: 'oom' });
    await publishDeploymentEvent(bus, { type: 'service.scaled', teamId: beta.teamId, serviceId: '00000000-0000-4000-8000-000000000001', reason: 'beta' });

    await sut.until((e) => e.event === 'deployment.failed');
    await other.until((e) => e.event === 'service.scaled');
    await lim.until((e) => e.event === 'deployment.healthy');
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(sut.events.filter((e) => e.event.includes('.')).map((e) => e.event), ['deployment.healthy', 'deployment.failed']);
    assert.deepEqual(lim.events.filter((e) => e.event.includes('.')).map((e) => e.event), ['deployment.healthy'], 'b is outside the limited member\'s projects');
    assert.deepEqual(other.events.filter((e) => e.event.includes('.')).map((e) => e.event), ['service.scaled']);
    assert.equal(JSON.parse(sut.events.find((e) => e.event === 'deployment.failed')?.data ?? '{}').reason, 'oom');

    // Resume: events published while disconnected are replayed after the Last-Event-ID.
    const lastId = sut.events.filter((e) => e.id).at(-1)?.id ?? '';
    sut.close();
    await publishDeploymentEvent(bus, { type: 'deployment.cancelled', teamId: kit.owner.teamId, serviceId: a.target.serviceId, deploymentId: 'd-c' });
    await new Promise((r) => setTimeout(r, 200));
    const again = await SseReader.open(kit.client, `/api/teams/${kit.owner.teamId}/events`, { 'last-event-id': lastId });
    await again.until((e) => e.event === 'ready');
    assert.deepEqual(again.events.filter((e) => e.event.includes('.')).map((e) => e.event), ['deployment.cancelled']);
    assert.match(again.events.find((e) => e.event === 'deployment.cancelled')?.id ?? '', /^\d+$/, 'the id is the event log id');
    const unknown = await SseReader.open(kit.client, `/api/teams/${kit.owner.teamId}/events`, { 'last-event-id': 'deadbeef-1' });
    const reset = await unknown.until((e) => e.event === 'reset');
    assert.equal(JSON.parse(reset.data).reason, 'events_unknown');
    for (const r of [lim, other, again, unknown]) r.close();
  });

  it("another team's owner and an anonymous caller get 404 and 401", { timeout: 30_000 }, async () => {
    const beta = await otherTeam();
    assert.equal((await SseReader.open(beta.client, `/api/teams/${kit.owner.teamId}/events`)).status, 404);
    assert.equal((await SseReader.open(new Client(kit.url), `/api/teams/${kit.owner.teamId}/events`)).status, 401);
  });
});

describe('team event replay across replicas (one database, one Redis)', () => {
  let a: RuntimeKit;
  let b: RuntimeKit;
  before(async () => {
    a = await startRuntimeKit({ runtime: { events: { pollMs: 200 } } });
    b = await startRuntimeKit({ peer: a, runtime: { events: { maxReplay: 20 } } });
  });
  after(async () => {
    await b?.close();
    await a?.close();
  });

  const named = (r: SseReader) => r.events.filter((e) => e.event.includes('.'));
  const path = () => `/api/teams/${a.owner.teamId}/events`;

  it('an event published on replica A is replayed by replica B after an older Last-Event-ID', { timeout: 30_000 }, async () => {
    const { target } = await a.deployService();
    const onA = await SseReader.open(a.client, path());
    await onA.until((e) => e.event === 'ready');
    await publishDeploymentEvent(a.bus, { type: 'deployment.queued', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: 'd1' });
    const first = await onA.until((e) => e.event === 'deployment.queued');
    onA.close();
    // Missed while disconnected; one of them published on B, so neither replica alone heard both.
    await publishDeploymentEvent(a.bus, { type: 'deployment.deploying', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: 'd1' });
    await publishDeploymentEvent(b.bus, { type: 'deployment.healthy', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: 'd1', reason: 'ok' });

    const sut = await SseReader.open(b.client, path(), { 'last-event-id': first.id ?? '' });
    assert.equal(sut.status, 200);
    await sut.until((e) => e.event === 'ready');
    assert.deepEqual(named(sut).map((e) => e.event), ['deployment.deploying', 'deployment.healthy']);
    const ids = named(sut).map((e) => BigInt(e.id ?? '0'));
    assert.ok(ids.every((id) => id > BigInt(first.id ?? '0')), 'replayed ids follow the client\'s id');
    assert.equal(JSON.parse(named(sut)[1]?.data ?? '{}').reason, 'ok');
    // …then live on B, an event published on A.
    await publishDeploymentEvent(a.bus, { type: 'service.scaled', teamId: a.owner.teamId, serviceId: target.serviceId, reason: 'count 2' });
    await sut.until((e) => e.event === 'service.scaled');
    sut.close();
  });

  it('no gap and no duplicate at the seam between replay and live, while events keep coming', { timeout: 60_000 }, async () => {
    const { target } = await a.deployService();
    const onA = await SseReader.open(a.client, path());
    await onA.until((e) => e.event === 'ready');
    await publishDeploymentEvent(a.bus, { type: 'deployment.queued', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: 'seam-0' });
    const since = (await onA.until((e) => e.event === 'deployment.queued' && e.data.includes('seam-0'))).id ?? '';
    onA.close();
    // 15 events before the reconnect (replayed) and 30 during it (replay/live seam), from both replicas.
    const total = 45;
    const burst = (async () => {
      for (let i = 1; i <= total; i++) {
        await publishDeploymentEvent(i % 2 === 0 ? a.bus : b.bus, { type: 'deployment.deploying', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: `seam-${i}` });
        if (i >= 15) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    while (!(await countAfter(a, since, 'seam-'))) await new Promise((r) => setTimeout(r, 2));
    const sut = await SseReader.open(a.client, path(), { 'last-event-id': since }); // A: replays up to 1,000
    await burst;
    await sut.until(() => named(sut).length >= total, 20_000);
    await new Promise((r) => setTimeout(r, 300));
    const got = named(sut).map((e) => JSON.parse(e.data).deploymentId as string);
    assert.equal(new Set(got).size, got.length, `no duplicate: ${got.join(',')}`);
    assert.deepEqual([...got].sort(), Array.from({ length: total }, (_, i) => `seam-${i + 1}`).sort(), 'no gap');
    const ids = named(sut).map((e) => e.id ?? '');
    assert.equal(new Set(ids).size, ids.length);
    assert.ok(sut.events.some((e) => e.event === 'ready'));
    sut.close();
  });

  it('an event fanned out while the replay is read is passed on once, after the replay, and one already replayed is not repeated', { timeout: 30_000 }, async () => {
    const { target } = await a.deployService();
    const teamId = a.owner.teamId;
    const publish = (deploymentId: string) => publishDeploymentEvent(a.bus, { type: 'deployment.deploying', teamId, serviceId: target.serviceId, deploymentId });
    const before = await a.bus.log.append({ type: 'deployment.queued', teamId, serviceId: target.serviceId, deploymentId: 'x0', at: new Date().toISOString() });
    await publish('x1'); // missed: replayed, and its live copy (heard late by this replica) must not repeat it
    const hub = new EventsHub(a.bus);
    await hub.start();
    // The seam made deterministic: while the replay is read, one more event is recorded and fanned out (x2), and the
    // live copy of an event the replay returns (x1) arrives again.
    class SeamLog extends EventLog {
      override async since(t: string, lastId: string): Promise<ReplayResult> {
        const r = await super.since(t, lastId);
        const heard = new Promise<void>((resolve) => { const stop = hub.listen((e) => { if (e.event.deploymentId === 'x2') { stop(); resolve(); } }); });
        await publish('x2');
        await heard;
        if (r.kind === 'events') for (const e of r.events) await a.bus.publish(DEPLOYMENT_EVENTS_CHANNEL, JSON.stringify(e));
        await new Promise((res) => setTimeout(res, 100));
        return r;
      }
    }
    const sut = new EventsService({ dataSource: a.app.db.dataSource, access: a.app.services.access, hub, log: new SeamLog(a.app.db.dataSource, systemClock) });
    const got: { id?: string; event: string; data: string }[] = [];
    let end!: () => void;
    const closed = new Promise<void>((r) => { end = r; });
    const streaming = sut.stream({ teamId, role: 'owner', projectIds: null }, before ?? '', { send: (e) => { got.push(e); return true; }, closed });
    const deadline = Date.now() + 10_000;
    while (!got.some((e) => e.event === 'ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    await publish('x3');
    while (!got.some((e) => e.data.includes('"x3"')) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    end();
    await streaming;
    await hub.close();
    assert.deepEqual(got.map((e) => e.event === 'ready' ? 'ready' : JSON.parse(e.data).deploymentId), ['x1', 'x2', 'ready', 'x3']);
  });

  it('more missed events than the replay bound, or an id older than the retention window, get `reset` with the newest id', { timeout: 30_000 }, async () => {
    const { target } = await a.deployService();
    const onA = await SseReader.open(a.client, path());
    await onA.until((e) => e.event === 'ready');
    await publishDeploymentEvent(a.bus, { type: 'deployment.queued', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: 'old' });
    const old = (await onA.until((e) => e.event === 'deployment.queued' && e.data.includes('"old"'))).id ?? '';
    onA.close();
    for (let i = 0; i < 25; i++) await publishDeploymentEvent(a.bus, { type: 'deployment.deploying', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: `many-${i}` });

    // B replays at most 20: 25 missed is a reset, which carries the newest id to resume from after refetching.
    const many = await SseReader.open(b.client, path(), { 'last-event-id': old });
    const reset = await many.until((e) => e.event === 'reset');
    assert.equal(JSON.parse(reset.data).reason, 'too_many_events');
    await many.until((e) => e.event === 'ready');
    assert.equal(named(many).length, 0, 'nothing replayed after a reset');
    many.close();
    const resumed = await SseReader.open(b.client, path(), { 'last-event-id': reset.id ?? '' });
    await resumed.until((e) => e.event === 'ready');
    assert.equal(named(resumed).length, 0);
    assert.equal(resumed.events.some((e) => e.event === 'reset'), false);
    resumed.close();

    // A replays 25 (its bound is 1,000)… until the retention job prunes what is older than the window.
    const onAgain = await SseReader.open(a.client, path(), { 'last-event-id': old });
    await onAgain.until((e) => e.event === 'ready');
    assert.equal(named(onAgain).length, 25);
    onAgain.close();
    await a.app.db.dataSource.query(`UPDATE events SET created_at = now() - interval '8 days' WHERE id <= $1`, [old]);
    assert.ok((await a.runtime.retention.run()) >= 1);
    assert.equal(((await a.app.db.dataSource.query('SELECT count(*)::int AS n FROM events WHERE id <= $1', [old])) as { n: number }[])[0]?.n, 0);
    const expired = await SseReader.open(a.client, path(), { 'last-event-id': String(BigInt(old) - 1n) });
    assert.equal(JSON.parse((await expired.until((e) => e.event === 'reset')).data).reason, 'events_expired');
    expired.close();
    // The events inside the window are kept and still replay.
    const inside = await SseReader.open(a.client, path(), { 'last-event-id': old });
    await inside.until((e) => e.event === 'ready');
    assert.equal(named(inside).length, 25);
    assert.equal(inside.events.some((e) => e.event === 'reset'), false);
    inside.close();
  });

  it('losing Redis loses nothing: an event whose fan-out failed is recorded, reaches open streams late, and is replayed', { timeout: 30_000 }, async () => {
    const { target } = await a.deployService();
    const onA = await SseReader.open(a.client, path());
    await onA.until((e) => e.event === 'ready');
    await publishDeploymentEvent(a.bus, { type: 'deployment.queued', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: 'r0' });
    const last = (await onA.until((e) => e.data.includes('"r0"'))).id ?? '';
    // A publisher whose Redis connection is gone: the fan-out fails (the caller logs it), the record stays.
    const gone = await createRedisCoordination({ url: testRedisUrl(), prefix: a.shared.redisPrefix });
    await gone.close();
    await assert.rejects(publishDeploymentEvent(new RecordingEventBus(gone.events, a.bus.log), {
      type: 'deployment.failed', teamId: a.owner.teamId, serviceId: target.serviceId, deploymentId: 'r1', reason: 'oom',
    }));
    // Not fanned out by Redis, yet the open stream gets it from the event log's catch-up read, once.
    const late = await onA.until((e) => e.data.includes('"r1"'), 5_000);
    assert.equal(late.event, 'deployment.failed');
    assert.ok(BigInt(late.id ?? '0') > BigInt(last));
    await new Promise((r) => setTimeout(r, 600));
    assert.equal(onA.events.filter((e) => e.data.includes('"r1"')).length, 1);
    assert.equal(onA.events.filter((e) => e.data.includes('"r0"')).length, 1, 'what the bus brought is not passed on again');
    onA.close();
    const sut = await SseReader.open(b.client, path(), { 'last-event-id': last });
    await sut.until((e) => e.event === 'ready');
    assert.deepEqual(named(sut).map((e) => JSON.parse(e.data).deploymentId), ['r1']);
    sut.close();
  });
});

/** countAfter tells whether at least 15 events of the burst are recorded after `since`. */
async function countAfter(kit: RuntimeKit, since: string, prefix: string): Promise<boolean> {
  const rows = (await kit.app.db.dataSource.query(
    `SELECT count(*)::int AS n FROM events WHERE id > $1 AND payload->>'deploymentId' LIKE $2`, [since, `${prefix}%`],
  )) as { n: number }[];
  return (rows[0]?.n ?? 0) >= 15;
}
