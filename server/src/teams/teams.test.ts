import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Scopes, type Actor } from '../core/actor.ts';
import { Client, inviteAndJoin, setupOwner, startTestApp, testPassword, type TestApp } from '../testing/app.ts';

describe('teams, members, invitations and audit over HTTP', () => {
  let sut: TestApp;
  let owner: Client;
  let ownerId: string;
  let teamId: string;
  before(async () => {
    sut = await startTestApp();
    ({ client: owner, userId: ownerId, teamId } = await setupOwner(sut));
  });
  after(async () => {
    await sut.close();
  });

  it('creates teams with immutable slugs: rename changes the display name only', async () => {
    const t = await owner.post('/api/teams', { name: 'Web Shop' });
    assert.equal(t.status, 201);
    assert.equal(t.body.slug, 'web-shop');
    const dup = await owner.post('/api/teams', { name: 'Other', slug: 'web-shop' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'team/slug_taken');
    const derived = await owner.post('/api/teams', { name: 'Web Shop' });
    assert.match(derived.body.slug, /^web-shop-[0-9a-f]{4}$/);
    const renamed = await owner.patch(`/api/teams/${t.body.id}`, { name: 'Web Store' });
    assert.equal(renamed.status, 200);
    assert.equal(renamed.body.slug, 'web-shop');
    assert.equal(renamed.body.name, 'Web Store');
    const slugChange = await owner.patch(`/api/teams/${t.body.id}`, { name: 'x', slug: 'new' });
    assert.equal(slugChange.status, 400);
    const badSlug = await owner.post('/api/teams', { name: 'x', slug: 'Bad--Slug' });
    assert.equal(badSlug.body.errors[0].path, 'body.slug');
    const project = await owner.post(`/api/teams/${derived.body.id}/projects`, { slug: 'web' });
    assert.equal(project.status, 201, project.text);
    const full = await owner.del(`/api/teams/${derived.body.id}`);
    assert.equal(full.status, 409);
    assert.equal(full.body.code, 'team/not_empty');
    assert.equal((await owner.del(`/api/projects/${project.body.id}`)).status, 204);
    assert.equal((await owner.del(`/api/teams/${derived.body.id}`)).status, 204);
    assert.equal((await owner.get(`/api/teams/${derived.body.id}`)).status, 404);
    const list = await owner.get('/api/teams?limit=1');
    assert.equal(list.body.items.length, 1);
    assert.ok(list.body.nextCursor);
    const next = await owner.get(`/api/teams?limit=1&cursor=${list.body.nextCursor}`);
    assert.notEqual(next.body.items[0].id, list.body.items[0].id);
  });

  it('invitations: links from the public URL despite hostile headers; new accounts join with a password; one use', async () => {
    const r = await owner.post(`/api/teams/${teamId}/invitations`, { email: 'Viewer@Example.test', role: 'viewer' }, {
      host: 'evil.example', 'x-forwarded-host': 'evil.example',
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.email, 'viewer@example.test');
    const mail = sut.mailer.lastTo('viewer@example.test');
    assert.ok(mail?.link.startsWith(`${sut.publicUrl}/`));
    assert.equal(r.body.acceptUrl, mail?.link);
    const token = new URL(mail?.link ?? '').hash.replace('#token=', '');
    const listed = await owner.get(`/api/teams/${teamId}/invitations`);
    assert.equal(listed.body.items.length, 1);
    assert.equal(listed.text.includes(token), false);

    const anon = new Client(sut.url);
    const noPassword = await anon.post('/api/invitations/accept', { token, name: 'Vee' });
    assert.equal(noPassword.status, 400);
    assert.equal(noPassword.body.errors[0].path, 'body.password');
    const ok = await anon.post('/api/invitations/accept', { token, name: 'Vee', password: testPassword() });
    assert.equal(ok.status, 200, ok.text);
    assert.equal(ok.body.role, 'viewer');
    assert.equal((await anon.get(`/api/teams/${teamId}`)).body.role, 'viewer');
    const reuse = await new Client(sut.url).post('/api/invitations/accept', { token, name: 'Vee', password: testPassword() });
    assert.equal(reuse.body.code, 'auth/token_invalid');
    assert.equal((await owner.get(`/api/teams/${teamId}/invitations`)).body.items.length, 0);

    // An existing account must accept while logged in as itself.
    const other = await owner.post('/api/teams', { name: 'Side' });
    const inv2 = await owner.post(`/api/teams/${other.body.id}/invitations`, { email: 'viewer@example.test', role: 'member' });
    const token2 = new URL(inv2.body.acceptUrl).hash.replace('#token=', '');
    const anon2 = await new Client(sut.url).post('/api/invitations/accept', { token: token2 });
    assert.equal(anon2.status, 401);
    const wrong = await owner.post('/api/invitations/accept', { token: token2 });
    assert.equal(wrong.status, 403);
    const right = await anon.post('/api/invitations/accept', { token: token2 });
    assert.equal(right.status, 200, right.text);
    assert.equal(right.body.csrfToken, null);

    const withdrawn = await owner.post(`/api/teams/${teamId}/invitations`, { email: 'late@example.test', role: 'member' });
    assert.equal((await owner.del(`/api/teams/${teamId}/invitations/${withdrawn.body.id}`)).status, 204);
    const late = await new Client(sut.url).post('/api/invitations/accept', {
      token: new URL(withdrawn.body.acceptUrl).hash.replace('#token=', ''), name: 'L', password: testPassword(),
    });
    assert.equal(late.body.code, 'auth/token_invalid');
  });

  it('roles: viewers read, admins manage but never make owners, owners make owners, the last owner stays', async () => {
    const admin = await inviteAndJoin(sut, owner, teamId, 'admin@example.test', 'admin');
    const viewer = await inviteAndJoin(sut, owner, teamId, 'viewer2@example.test', 'viewer');
    assert.equal((await viewer.client.get(`/api/teams/${teamId}/members`)).status, 200);
    const vPatch = await viewer.client.patch(`/api/teams/${teamId}`, { name: 'Hacked' });
    assert.equal(vPatch.status, 403);
    assert.equal(vPatch.body.code, 'auth/forbidden');
    assert.equal((await viewer.client.get(`/api/teams/${teamId}/audit`)).status, 403);

    const promote = await admin.client.patch(`/api/teams/${teamId}/members/${viewer.userId}`, { role: 'owner' });
    assert.equal(promote.status, 403);
    const ownerInvite = await admin.client.post(`/api/teams/${teamId}/invitations`, { email: 'o2@example.test', role: 'owner' });
    assert.equal(ownerInvite.status, 403);
    const demoteOwner = await admin.client.patch(`/api/teams/${teamId}/members/${ownerId}`, { role: 'viewer' });
    assert.equal(demoteOwner.status, 403);
    const kickOwner = await admin.client.del(`/api/teams/${teamId}/members/${ownerId}`);
    assert.equal(kickOwner.status, 403);
    assert.equal((await admin.client.patch(`/api/teams/${teamId}/members/${viewer.userId}`, { role: 'member' })).status, 200);

    const countAudit = async () => ((await sut.db.dataSource.query('SELECT count(*)::int AS n FROM audit_entries'))[0] as { n: number }).n;
    const before = await countAudit();
    const last = await owner.patch(`/api/teams/${teamId}/members/${ownerId}`, { role: 'admin' });
    assert.equal(last.status, 409);
    assert.equal(last.body.code, 'team/last_owner');
    assert.equal((await owner.del(`/api/teams/${teamId}/members/${ownerId}`)).body.code, 'team/last_owner');
    assert.equal((await owner.post(`/api/teams/${teamId}/invitations`, { email: 'admin@example.test', role: 'viewer' })).body.code, 'member/exists');
    assert.equal(await countAudit(), before, 'refused mutations leave no audit entry');
    assert.equal((await owner.patch(`/api/teams/${teamId}/members/${admin.userId}`, { role: 'owner' })).status, 200);
    assert.equal((await admin.client.patch(`/api/teams/${teamId}/members/${admin.userId}`, { role: 'admin' })).status, 200);

    // Anyone may leave.
    assert.equal((await viewer.client.del(`/api/teams/${teamId}/members/${viewer.userId}`)).status, 204);
    assert.equal((await viewer.client.get(`/api/teams/${teamId}`)).status, 404);
    assert.equal((await owner.del(`/api/teams/${teamId}/members/${randomUUID()}`)).status, 404);
  });

  it('the AccessChecker limits members to chosen projects and hides other teams', async () => {
    const p1 = (await owner.post(`/api/teams/${teamId}/projects`, { slug: 'limit-one' })).body.id as string;
    const p2 = (await owner.post(`/api/teams/${teamId}/projects`, { slug: 'limit-two' })).body.id as string;
    const elsewhere = await owner.post('/api/teams', { name: 'Elsewhere' });
    const foreign = (await owner.post(`/api/teams/${elsewhere.body.id}/projects`, { slug: 'foreign' })).body.id as string;
    const refused = await owner.post(`/api/teams/${teamId}/invitations`, { email: 'limited@example.test', role: 'member', projectIds: [p1, foreign] });
    assert.equal(refused.status, 400);
    assert.deepEqual(refused.body.errors, [{ path: 'body.projectIds[1]', message: 'is not a project of this team' }]);
    const m = await inviteAndJoin(sut, owner, teamId, 'limited@example.test', 'member', [p1]);
    const patchForeign = await owner.patch(`/api/teams/${teamId}/members/${m.userId}`, { projectIds: [randomUUID()] });
    assert.equal(patchForeign.body.errors[0].path, 'body.projectIds[0]');
    const actor: Actor = { kind: 'session', userId: m.userId, scopes: [...Scopes], ip: '127.0.0.1', requestId: 'test-request' };
    const access = sut.services.access;
    assert.equal((await access.requireProject(actor, teamId, p1, 'write')).role, 'member');
    await assert.rejects(access.requireProject(actor, teamId, p2, 'read'), { code: 'project/not_found' });
    await assert.rejects(access.requireTeam(actor, teamId, 'manage'), { code: 'auth/forbidden' });
    await assert.rejects(access.requireTeam({ ...actor, kind: 'token', scopes: ['read'] }, teamId, 'write'), { code: 'auth/insufficient_scope' });
    assert.equal((await access.requireTeam({ ...actor, kind: 'token', scopes: ['deploy'] }, teamId, 'deploy')).teamId, teamId);
    await assert.rejects(access.requireTeam(actor, randomUUID(), 'read'), { code: 'team/not_found' });
    await assert.rejects(access.requireTeam(actor, 'not-a-uuid', 'read'), { code: 'team/not_found' });
    const widened = await owner.patch(`/api/teams/${teamId}/members/${m.userId}`, { projectIds: null });
    assert.equal(widened.body.projectIds, null);
    assert.equal((await access.requireProject(actor, teamId, p2, 'read')).projectIds, null);
  });

  it('a second team’s owner sees nothing of the first team', async () => {
    const b = await owner.post('/api/teams', { name: 'Bravo' });
    const bOwner = await inviteAndJoin(sut, owner, b.body.id, 'bravo@example.test', 'owner');
    assert.equal((await owner.del(`/api/teams/${b.body.id}/members/${ownerId}`)).status, 204);
    for (const path of [`/api/teams/${teamId}`, `/api/teams/${teamId}/members`, `/api/teams/${teamId}/audit`, `/api/teams/${teamId}/invitations`]) {
      const r = await bOwner.client.get(path);
      assert.equal(r.status, 404, path);
      assert.equal(r.text.includes('Acme'), false);
      assert.equal(r.text.includes(ownerId), false);
    }
    const patch = await bOwner.client.patch(`/api/teams/${teamId}/members/${ownerId}`, { role: 'viewer' });
    assert.equal(patch.status, 404);
    const mine = await bOwner.client.get('/api/teams');
    assert.deepEqual(mine.body.items.map((t: { id: string }) => t.id), [b.body.id]);
  });

  it('audit: every mutation is listed for owners, newest first, filtered by action and time, paginated', async () => {
    const all = await owner.get(`/api/teams/${teamId}/audit?limit=100`);
    assert.equal(all.status, 200);
    const actions: string[] = all.body.items.map((e: { action: string }) => e.action);
    for (const a of ['team.create', 'invitation.create', 'invitation.accept', 'invitation.delete', 'member.update', 'member.remove', 'user.create']) {
      assert.ok(actions.includes(a), `missing ${a}`);
    }
    const times = all.body.items.map((e: { createdAt: string }) => e.createdAt);
    assert.deepEqual([...times].sort().reverse(), times);
    assert.equal(all.body.items[0].ip, '127.0.0.1');
    const members = await owner.get(`/api/teams/${teamId}/audit?action=member`);
    assert.ok(members.body.items.length > 0);
    assert.ok(members.body.items.every((e: { action: string }) => e.action.startsWith('member.')));
    const exact = await owner.get(`/api/teams/${teamId}/audit?action=team.create`);
    assert.equal(exact.body.items.length, 1);
    const future = await owner.get(`/api/teams/${teamId}/audit?since=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`);
    assert.equal(future.body.items.length, 0);
    const p1 = await owner.get(`/api/teams/${teamId}/audit?limit=2`);
    const p2 = await owner.get(`/api/teams/${teamId}/audit?limit=2&cursor=${p1.body.nextCursor}`);
    assert.deepEqual(p2.body.items.map((e: { id: string }) => e.id), all.body.items.slice(2, 4).map((e: { id: string }) => e.id));
    const bad = await owner.get(`/api/teams/${teamId}/audit?cursor=garbage`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, 'query.cursor');
    const badAction = await owner.get(`/api/teams/${teamId}/audit?action=DROP%20TABLE`);
    assert.equal(badAction.body.errors[0].path, 'query.action');
    assert.equal(all.text.includes('password'), false);
  });
});
