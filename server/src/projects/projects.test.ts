import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client, inviteAndJoin, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';

describe('projects and environments over HTTP', () => {
  let sut: TestApp;
  let owner: Client;
  let teamId: string;

  before(async () => {
    sut = await startTestApp();
    const o = await setupOwner(sut);
    owner = o.client;
    teamId = o.teamId;
  });
  after(async () => {
    await sut.close();
  });

  const createProject = async (slug: string, name?: string) => {
    const r = await owner.post(`/api/teams/${teamId}/projects`, { slug, ...(name ? { name } : {}) });
    assert.equal(r.status, 201, r.text);
    return r.body as { id: string; slug: string; name: string };
  };

  it('creates a project with a production environment, lists, gets, renames and deletes it (audited)', async () => {
    const p = await createProject('shop', 'Shop');
    assert.equal(p.slug, 'shop');
    const envs = await owner.get(`/api/projects/${p.id}/environments`);
    assert.equal(envs.status, 200);
    assert.deepEqual(envs.body.items.map((e: { slug: string }) => e.slug), ['production']);
    const got = await owner.get(`/api/projects/${p.id}`);
    assert.equal(got.body.name, 'Shop');
    const renamed = await owner.patch(`/api/projects/${p.id}`, { name: 'The Shop' });
    assert.equal(renamed.status, 200, renamed.text);
    assert.equal(renamed.body.name, 'The Shop');
    assert.equal(renamed.body.slug, 'shop');
    const del = await owner.del(`/api/projects/${p.id}`);
    assert.equal(del.status, 204);
    assert.equal((await owner.get(`/api/projects/${p.id}`)).status, 404);
    const actions = (await sut.db.dataSource.query(
      `SELECT action FROM audit_entries WHERE target_id = $1 ORDER BY created_at, action`, [p.id],
    )) as { action: string }[];
    assert.deepEqual(actions.map((a) => a.action).sort(), ['project.create', 'project.delete', 'project.update']);
  });

  it('keeps slugs immutable: a PATCH naming a slug is refused with the field named', async () => {
    const p = await createProject('immutable');
    const r = await owner.patch(`/api/projects/${p.id}`, { name: 'X', slug: 'other' });
    assert.equal(r.status, 400);
    assert.equal(r.headers.get('content-type'), 'application/problem+json');
    assert.ok(r.body.errors.some((e: { path: string }) => e.path === 'body.slug'));
    assert.equal((await owner.get(`/api/projects/${p.id}`)).body.slug, 'immutable');
    const envs = await owner.get(`/api/projects/${p.id}/environments`);
    const env = envs.body.items[0];
    const re = await owner.patch(`/api/environments/${env.id}`, { name: 'Prod', slug: 'prod' });
    assert.equal(re.status, 400);
    assert.ok(re.body.errors.some((e: { path: string }) => e.path === 'body.slug'));
  });

  it('refuses bad slugs and names, naming the field', async () => {
    for (const [body, path] of [
      [{ slug: 'Bad' }, 'body.slug'], [{ slug: 'a--b' }, 'body.slug'], [{ slug: '-a' }, 'body.slug'], [{ slug: 'a'.repeat(31) }, 'body.slug'],
      [{ slug: 'ok', name: '' }, 'body.name'], [{ slug: 'ok', name: 'a\u0000b' }, 'body.name'], [{ slug: 'ok', extra: 1 }, 'body'],
    ] as const) {
      const r = await owner.post(`/api/teams/${teamId}/projects`, body);
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.code, 'request/invalid');
      assert.ok(r.body.errors.some((e: { path: string }) => e.path === path), `${JSON.stringify(body)} → ${r.text}`);
    }
  });

  it('answers 409 naming body.slug for a duplicate project slug', async () => {
    await createProject('dup');
    const r = await owner.post(`/api/teams/${teamId}/projects`, { slug: 'dup' });
    assert.equal(r.status, 409);
    assert.equal(r.body.code, 'project/slug_taken');
    assert.equal(r.body.errors[0].path, 'body.slug');
  });

  it('paginates projects with a cursor', async () => {
    const fresh = await setupOwnerTeam();
    for (let i = 0; i < 5; i++) {
      const r = await owner.post(`/api/teams/${fresh}/projects`, { slug: `p${i}` });
      assert.equal(r.status, 201);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const r: { status: number; body: { items: { slug: string }[]; nextCursor: string | null } } =
        await owner.get(`/api/teams/${fresh}/projects?limit=2${cursor ? `&cursor=${cursor}` : ''}`);
      assert.equal(r.status, 200);
      assert.ok(r.body.items.length <= 2);
      seen.push(...r.body.items.map((p) => p.slug));
      cursor = r.body.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ['p0', 'p1', 'p2', 'p3', 'p4']);
    const bad = await owner.get(`/api/teams/${fresh}/projects?cursor=nonsense`);
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errors[0].path, 'query.cursor');
  });

  async function setupOwnerTeam(): Promise<string> {
    const r = await owner.post('/api/teams', { name: 'Paging', slug: `paging-${Date.now() % 100000}` });
    assert.equal(r.status, 201, r.text);
    return r.body.id as string;
  }

  it('creates, renames, lists and deletes environments, keeping at least one', async () => {
    const p = await createProject('envs');
    const staging = await owner.post(`/api/projects/${p.id}/environments`, { slug: 'staging', name: 'Staging' });
    assert.equal(staging.status, 201, staging.text);
    const dup = await owner.post(`/api/projects/${p.id}/environments`, { slug: 'staging' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.code, 'environment/slug_taken');
    const ren = await owner.patch(`/api/environments/${staging.body.id}`, { name: 'Stage' });
    assert.equal(ren.body.name, 'Stage');
    const list = await owner.get(`/api/projects/${p.id}/environments`);
    assert.deepEqual(list.body.items.map((e: { slug: string }) => e.slug), ['production', 'staging']);
    const prod = list.body.items[0];
    assert.equal((await owner.del(`/api/environments/${staging.body.id}`)).status, 204);
    const last = await owner.del(`/api/environments/${prod.id}`);
    assert.equal(last.status, 409);
    assert.equal(last.body.code, 'environment/last');
    assert.equal((await owner.get(`/api/environments/${prod.id}`)).status, 200);
  });

  it("hides a team's projects from another team and a viewer cannot write", async () => {
    const p = await createProject('private');
    const other = new Client(sut.url);
    const reg = await inviteAndJoin(sut, owner, teamId, 'viewer@example.test', 'viewer');
    // a user of another team: its own team via POST /api/teams after joining nothing of ours
    const outsider = await inviteAndJoin(sut, owner, (await owner.post('/api/teams', { name: 'Other', slug: 'other-team' })).body.id, 'outsider@example.test', 'owner');
    for (const path of [`/api/projects/${p.id}`, `/api/projects/${p.id}/environments`]) {
      const r = await outsider.client.get(path);
      assert.equal(r.status, 404, path);
      assert.ok(!r.text.includes('private'));
    }
    assert.equal((await outsider.client.get(`/api/teams/${teamId}/projects`)).status, 404);
    assert.equal((await other.get(`/api/projects/${p.id}`)).status, 401);
    assert.equal((await reg.client.get(`/api/projects/${p.id}`)).status, 200);
    const w = await reg.client.patch(`/api/projects/${p.id}`, { name: 'hijack' });
    assert.equal(w.status, 403);
  });
});
