/**
 * Team event streams over real HTTP SSE, fed through real Redis: each team's stream carries only its own events; a
 * member limited to chosen projects only those of its projects; Last-Event-ID replays what was missed; an unknown id
 * gets `reset`; outsiders get 404.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { publishDeploymentEvent } from '../deployments/events.ts';
import { Client, testPassword } from '../testing/app.ts';
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

    const bus = kit.coordination.events;
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
    const unknown = await SseReader.open(kit.client, `/api/teams/${kit.owner.teamId}/events`, { 'last-event-id': 'deadbeef-1' });
    await unknown.until((e) => e.event === 'reset');
    for (const r of [lim, other, again, unknown]) r.close();
  });

  it("another team's owner and an anonymous caller get 404 and 401", { timeout: 30_000 }, async () => {
    const beta = await otherTeam();
    assert.equal((await SseReader.open(beta.client, `/api/teams/${kit.owner.teamId}/events`)).status, 404);
    assert.equal((await SseReader.open(new Client(kit.url), `/api/teams/${kit.owner.teamId}/events`)).status, 401);
  });
});
