import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { shortHash } from '@drover/scheduler/compiler/names.ts';
import { inviteAndJoin, setupOwner, type Client, startTestApp, type TestApp } from '../testing/app.ts';

describe('services (configuration) over HTTP', () => {
  let sut: TestApp;
  let owner: Client;
  let teamId: string;
  let envId: string;

  before(async () => {
    sut = await startTestApp();
    const o = await setupOwner(sut);
    owner = o.client;
    teamId = o.teamId;
    const p = await owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' });
    envId = (await owner.get(`/api/projects/${p.body.id}/environments`)).body.items[0].id;
  });
  after(async () => {
    await sut.close();
  });

  it('creates a public image service with a generated domain, reads, patches and deletes it', async () => {
    const r = await owner.post(`/api/environments/${envId}/services`, {
      slug: 'web', image: 'ghcr.io/acme/web:1.4.2', command: ['node', 'server.js'], port: 8080,
      healthcheck: { path: '/healthz' }, replicas: 2, resources: { cpu: 500, memory: 512, memory_max: 1024 },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.public, true);
    assert.equal(r.body.generatedHostname, `web-production-${shortHash(r.body.id)}.apps.example.test`);
    assert.deepEqual(r.body.healthcheck, { path: '/healthz', interval: '10s', timeout: '2s' });
    const domains = await owner.get(`/api/services/${r.body.id}/domains`);
    assert.deepEqual(domains.body.items.map((d: { kind: string; routed: boolean }) => [d.kind, d.routed]), [['generated', true]]);
    const got = await owner.get(`/api/services/${r.body.id}`);
    assert.deepEqual(got.body, r.body);
    const priv = await owner.patch(`/api/services/${r.body.id}`, { public: false, healthcheck: null, name: 'Web' });
    assert.equal(priv.status, 200, priv.text);
    assert.equal(priv.body.public, false);
    assert.equal(priv.body.generatedHostname, null);
    assert.equal(priv.body.healthcheck, undefined);
    assert.equal(priv.body.name, 'Web');
    assert.equal((await owner.get(`/api/services/${r.body.id}/domains`)).body.items.length, 0);
    const pub = await owner.patch(`/api/services/${r.body.id}`, { public: true });
    assert.equal(pub.body.generatedHostname, r.body.generatedHostname);
    const slug = await owner.patch(`/api/services/${r.body.id}`, { slug: 'other' });
    assert.equal(slug.status, 400);
    assert.equal(slug.body.errors[0].path, 'body.slug');
    assert.equal((await owner.del(`/api/services/${r.body.id}`)).status, 204);
    assert.equal((await owner.get(`/api/services/${r.body.id}`)).status, 404);
    const audit = (await sut.db.dataSource.query(`SELECT action FROM audit_entries WHERE target_id = $1`, [r.body.id])) as { action: string }[];
    assert.deepEqual(audit.map((a) => a.action).sort(), ['service.create', 'service.delete', 'service.update', 'service.update']);
  });

  it('creates artifact and cron services and lists with a cursor', async () => {
    const a = await owner.post(`/api/environments/${envId}/services`, {
      slug: 'api', artifact: { url: 'https://releases.example.com/api.tar.gz', checksum: `sha256:${'5f'.repeat(32)}`, command: ['./api', '--listen', ':${PORT}'] }, public: false,
    });
    assert.equal(a.status, 201, a.text);
    const c = await owner.post(`/api/environments/${envId}/services`, { slug: 'nightly', image: 'ghcr.io/acme/report:2', cron: '0 3 * * *', timezone: 'Europe/Berlin' });
    assert.equal(c.status, 201, c.text);
    assert.equal(c.body.public, false);
    const first = await owner.get(`/api/environments/${envId}/services?limit=1`);
    assert.equal(first.body.items.length, 1);
    const second = await owner.get(`/api/environments/${envId}/services?limit=5&cursor=${first.body.nextCursor}`);
    assert.ok(second.body.items.length >= 1);
    assert.ok(!second.body.items.some((s: { id: string }) => s.id === first.body.items[0].id));
    const dup = await owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'a:1' });
    assert.equal(dup.status, 409);
    assert.equal(dup.body.errors[0].path, 'body.slug');
  });

  it('keeps registry credentials in the SecretStore and never returns them', async () => {
    const password = `reg-pw-${Date.now()}`;
    const r = await owner.post(`/api/environments/${envId}/services`, {
      slug: 'private', image: 'registry.example.com/acme/app:1', port: 3000, registry: { username: 'robot-user', password },
    });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.registryCredentials, true);
    assert.ok(!r.text.includes(password) && !r.text.includes('robot-user'));
    const list = await owner.get(`/api/environments/${envId}/services`);
    assert.ok(!list.text.includes(password));
    const stored = await sut.services.projectDomains.secrets.read({ teamId, kind: 'registry', id: r.body.id });
    assert.deepEqual(Object.fromEntries(stored), { username: 'robot-user', password });
    const dbText = JSON.stringify(await sut.db.dataSource.query('SELECT * FROM services'));
    assert.ok(!dbText.includes(password));
    const removed = await owner.patch(`/api/services/${r.body.id}`, { registry: null });
    assert.equal(removed.body.registryCredentials, false);
    assert.equal((await sut.services.projectDomains.secrets.read({ teamId, kind: 'registry', id: r.body.id })).size, 0);
    const art = await owner.post(`/api/environments/${envId}/services`, {
      slug: 'art-reg', artifact: { url: 'https://x.example.com/a', checksum: `sha256:${'1'.repeat(64)}`, command: ['a'] }, registry: { username: 'u', password: 'p' },
    });
    assert.equal(art.status, 400);
    assert.equal(art.body.errors[0].path, 'body.registry');
    assert.ok(sut.logs.every((l) => !l.includes(password)));
  });

  it('answers problem+json naming the field for invalid configurations, writing nothing', async () => {
    const before = (await owner.get(`/api/environments/${envId}/services?limit=100`)).body.items.length;
    const cases: [Record<string, unknown>, string][] = [
      [{ slug: 'x', image: 'a:1', command: ['sh', '-c', '${attr.unique.hostname}'] }, 'body.command[2]'],
      [{ slug: 'x', image: 'a:1', volumes: [{ name: 'v', mount: '/../etc', size: '1GiB' }] }, 'body.volumes[0].mount'],
      [{ slug: 'x', artifact: { url: 'http://169.254.169.254/', checksum: `sha256:${'1'.repeat(64)}`, command: ['a'] } }, 'body.artifact.url'],
      [{ slug: 'x', image: 'a:1', cron: 'every day' }, 'body.cron'],
      [{ slug: 'x', image: 'a:1', resources: { memory: 512, memory_max: 10 } }, 'body.resources.memory_max'],
      [{ slug: 'x', image: 'a:1', public: true }, 'body.port'],
      [{ slug: 'Bad', image: 'a:1' }, 'body.slug'],
    ];
    for (const [body, path] of cases) {
      const r = await owner.post(`/api/environments/${envId}/services`, body);
      assert.equal(r.status, 400, `${path}: ${r.text}`);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.ok(r.body.errors.some((e: { path: string }) => e.path === path), `${path}: ${r.text}`);
    }
    assert.equal((await owner.get(`/api/environments/${envId}/services?limit=100`)).body.items.length, before);
  });

  it('revalidates the whole configuration on PATCH, naming the field; switching to an artifact drops credentials', async () => {
    const s = await owner.post(`/api/environments/${envId}/services`, {
      slug: 'switch', image: 'registry.example.com/a:1', port: 80, registry: { username: 'u', password: 'switch-secret' }, volumes: [{ name: 'v', mount: '/data', size: '1GiB' }],
    });
    assert.equal(s.status, 201, s.text);
    const tooMany = await owner.patch(`/api/services/${s.body.id}`, { replicas: 3 });
    assert.equal(tooMany.status, 400);
    assert.equal(tooMany.body.errors[0].path, 'body.replicas');
    const both = await owner.patch(`/api/services/${s.body.id}`, { artifact: { url: 'https://x.example.com/a.tgz', checksum: `sha256:${'2'.repeat(64)}`, command: ['./a'] } });
    assert.equal(both.status, 400);
    assert.ok(both.body.errors.some((e: { path: string }) => e.path === 'body.artifact' || e.path === 'body.port'), both.text);
    assert.equal((await owner.get(`/api/services/${s.body.id}`)).body.image, 'registry.example.com/a:1', 'a refused patch changes nothing');
    const art = await owner.patch(`/api/services/${s.body.id}`, { image: null, port: null, artifact: { url: 'https://x.example.com/a.tgz', checksum: `sha256:${'2'.repeat(64)}`, command: ['./a', '--port', '${PORT}'] } });
    assert.equal(art.status, 200, art.text);
    assert.equal(art.body.registryCredentials, false);
    assert.equal(art.body.image, undefined);
    assert.equal((await sut.services.projectDomains.secrets.read({ teamId, kind: 'registry', id: s.body.id })).size, 0);
    assert.equal((await owner.get('/api/services/not-a-uuid')).status, 404);
  });

  it('lets a viewer read but not write, and hides services from other teams', async () => {
    const s = await owner.post(`/api/environments/${envId}/services`, { slug: 'seen', image: 'a:1' });
    const viewer = await inviteAndJoin(sut, owner, teamId, 'viewer-s@example.test', 'viewer');
    assert.equal((await viewer.client.get(`/api/services/${s.body.id}`)).status, 200);
    assert.equal((await viewer.client.patch(`/api/services/${s.body.id}`, { replicas: 3 })).status, 403);
    const other = await owner.post('/api/teams', { name: 'Elsewhere', slug: 'elsewhere' });
    const outsider = await inviteAndJoin(sut, owner, other.body.id, 'out-s@example.test', 'owner');
    const r = await outsider.client.get(`/api/services/${s.body.id}`);
    assert.equal(r.status, 404);
    assert.equal(r.body.code, 'service/not_found');
    assert.equal((await outsider.client.del(`/api/services/${s.body.id}`)).status, 404);
    assert.equal((await owner.get(`/api/services/${s.body.id}`)).status, 200);
  });
});
