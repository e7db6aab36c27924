import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import { Client, inviteAndJoin, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';
import { startKvTestServer, type KvTestServer } from '../secrets/kv-test-server.ts';
import { VaultAdapterKv } from '../secrets/vault-kv.ts';
import { VaultSecretStore } from '../secrets/vault-store.ts';

const secret = (label: string) => `${label}-${randomBytes(12).toString('hex')}`;

interface World {
  sut: TestApp;
  owner: Client;
  teamId: string;
  envId: string;
  serviceId: string;
}

async function world(sut: TestApp): Promise<World> {
  const o = await setupOwner(sut);
  const p = await o.client.post(`/api/teams/${o.teamId}/projects`, { slug: 'shop' });
  const envId = (await o.client.get(`/api/projects/${p.body.id}/environments`)).body.items[0].id as string;
  const s = await o.client.post(`/api/environments/${envId}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1', port: 8080 });
  assert.equal(s.status, 201, s.text);
  return { sut, owner: o.client, teamId: o.teamId, envId, serviceId: s.body.id };
}

describe('variables over HTTP (Postgres secret store)', () => {
  let w: World;
  const issued: string[] = [];
  const replies: string[] = [];
  const put = async (c: Client, path: string, variables: Record<string, string | null>) => {
    const r = await c.request('PUT', path, { variables });
    replies.push(r.text);
    return r;
  };

  before(async () => {
    w = await world(await startTestApp());
  });
  after(async () => {
    await w.sut.close();
  });

  it('sets a batch, lists keys and metadata only, and reveals a value to the owner (audited)', async () => {
    const values = { DATABASE_URL: secret('postgres://u:pw@db/x'), MULTI: `${secret('a')}\nline2=x#y "q"`, TEMPLATEY: `{{ env "X" }}\${attr.unique.hostname}${secret('t')}`, REF: 'https://${{ api.PRIVATE_HOST }}/v1', SHARED_REF: '${{ shared.LOG_LEVEL }}' };
    issued.push(values.DATABASE_URL, values.MULTI, values.TEMPLATEY);
    const r = await put(w.owner, `/api/services/${w.serviceId}/variables`, values);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.set.map((v: { key: string }) => v.key), ['DATABASE_URL', 'MULTI', 'REF', 'SHARED_REF', 'TEMPLATEY']);
    const list = await w.owner.get(`/api/services/${w.serviceId}/variables`);
    replies.push(list.text);
    assert.equal(list.status, 200);
    assert.deepEqual(Object.keys(list.body.items[0]).sort(), ['createdAt', 'environmentId', 'key', 'references', 'scope', 'serviceId', 'updatedAt']);
    for (const [k, v] of Object.entries(values)) {
      const rev = await w.owner.post(`/api/services/${w.serviceId}/variables/${k}/reveal`);
      assert.equal(rev.status, 200, rev.text);
      assert.equal(rev.body.value, v, k);
      assert.equal(rev.headers.get('cache-control'), 'no-store');
    }
    const audits = (await w.sut.db.dataSource.query(`SELECT details FROM audit_entries WHERE action = 'variable.reveal' AND target_id = $1`, [w.serviceId])) as { details: { key: string } }[];
    assert.equal(audits.length, Object.keys(values).length);
    assert.deepEqual(audits.map((a) => a.details.key).sort(), Object.keys(values).sort());
  });

  it('lists the references of each value, parsed when it is written, and every referencing variable of the environment', async () => {
    const token = secret('tok');
    issued.push(token);
    const values = { LINKS: `\${{ api.PRIVATE_HOST }}:\${{ api.PORT }}/\${{ api.PRIVATE_HOST }}?k=${token}`, PLAIN: token, OWN: '${{ shared.LOG_LEVEL }}' };
    assert.equal((await put(w.owner, `/api/services/${w.serviceId}/variables`, values)).status, 200);
    assert.equal((await put(w.owner, `/api/environments/${w.envId}/variables`, { DB_URL: '${{ pg.DATABASE_URL }}' })).status, 200);
    const byKey = async (path: string) => {
      const r = await w.owner.get(`${path}?limit=100`);
      replies.push(r.text);
      assert.equal(r.status, 200, r.text);
      return new Map((r.body.items as { key: string; references: unknown }[]).map((i) => [i.key, i.references]));
    };
    const listed = await byKey(`/api/services/${w.serviceId}/variables`);
    assert.deepEqual(listed.get('LINKS'), [{ target: 'api', name: 'PRIVATE_HOST' }, { target: 'api', name: 'PORT' }], 'distinct, in order');
    assert.deepEqual(listed.get('PLAIN'), []);
    assert.deepEqual(listed.get('OWN'), [{ target: 'shared', name: 'LOG_LEVEL' }]);
    const env = await byKey(`/api/environments/${w.envId}/references`);
    assert.deepEqual(env.get('LINKS'), listed.get('LINKS'));
    assert.deepEqual(env.get('DB_URL'), [{ target: 'pg', name: 'DATABASE_URL' }]);
    assert.ok(!env.has('PLAIN'), 'variables without references are not in the environment listing');
    // A new value replaces the references; the environment listing pages like every list.
    assert.equal((await put(w.owner, `/api/services/${w.serviceId}/variables`, { LINKS: token })).status, 200);
    assert.deepEqual((await byKey(`/api/services/${w.serviceId}/variables`)).get('LINKS'), []);
    const first = await w.owner.get(`/api/environments/${w.envId}/references?limit=1`);
    assert.equal(first.body.items.length, 1);
    const second = await w.owner.get(`/api/environments/${w.envId}/references?limit=100&cursor=${first.body.nextCursor}`);
    assert.ok(second.body.items.length >= 1);
    assert.ok(!second.body.items.some((i: { key: string }) => i.key === first.body.items[0].key));
    assert.equal((await put(w.owner, `/api/environments/${w.envId}/variables`, { DB_URL: null })).status, 200);
    assert.equal((await put(w.owner, `/api/services/${w.serviceId}/variables`, { LINKS: null, PLAIN: null, OWN: null })).status, 200);
  });

  it('manages shared variables of an environment the same way', async () => {
    const v = secret('shared');
    issued.push(v);
    const r = await put(w.owner, `/api/environments/${w.envId}/variables`, { LOG_LEVEL: 'info', SHARED_TOKEN: v });
    assert.equal(r.status, 200, r.text);
    const list = await w.owner.get(`/api/environments/${w.envId}/variables`);
    replies.push(list.text);
    assert.deepEqual(list.body.items.map((i: { key: string; scope: string }) => [i.key, i.scope]).sort(), [['LOG_LEVEL', 'shared'], ['SHARED_TOKEN', 'shared']]);
    assert.equal((await w.owner.post(`/api/environments/${w.envId}/variables/SHARED_TOKEN/reveal`)).body.value, v);
    assert.equal((await w.owner.del(`/api/environments/${w.envId}/variables/LOG_LEVEL`)).status, 204);
    assert.equal((await w.owner.del(`/api/environments/${w.envId}/variables/LOG_LEVEL`)).status, 404);
    const del = await put(w.owner, `/api/environments/${w.envId}/variables`, { SHARED_TOKEN: null });
    assert.deepEqual(del.body.deleted, ['SHARED_TOKEN']);
    assert.equal((await w.owner.get(`/api/environments/${w.envId}/variables`)).body.items.length, 0);
    assert.equal((await w.owner.post(`/api/environments/${w.envId}/variables/SHARED_TOKEN/reveal`)).status, 404);
  });

  it('refuses bad keys, reserved names, oversized values and malformed references, naming each and writing nothing', async () => {
    const good = secret('good');
    issued.push(good);
    const bad: [Record<string, string | null>, string][] = [
      [{ GOOD: good, '1BAD': 'x' }, 'body.variables.1BAD'],
      [{ GOOD: good, 'WITH-DASH': 'x' }, 'body.variables.WITH-DASH'],
      [{ GOOD: good, PORT: '1' }, 'body.variables.PORT'],
      [{ GOOD: good, NOMAD_TOKEN: 'x' }, 'body.variables.NOMAD_TOKEN'],
      [{ GOOD: good, ['K'.repeat(129)]: 'x' }, `body.variables.${'K'.repeat(129)}`],
      [{ GOOD: good, BIG: 'x'.repeat(32 * 1024 + 1) }, 'body.variables.BIG'],
      [{ GOOD: good, REF: '${{ api.PRIVATE_HOST' }, 'body.variables.REF'],
      [{ GOOD: good, REF: '${{ API.x }}' }, 'body.variables.REF'],
    ];
    for (const [vars, path] of bad) {
      const r = await put(w.owner, `/api/services/${w.serviceId}/variables`, vars);
      assert.equal(r.status, 400, path);
      assert.equal(r.headers.get('content-type'), 'application/problem+json');
      assert.ok(r.body.errors.some((e: { path: string }) => e.path === path), `${path}: ${r.text.slice(0, 300)}`);
    }
    const list = await w.owner.get(`/api/services/${w.serviceId}/variables?limit=100`);
    assert.ok(!list.body.items.some((i: { key: string }) => i.key === 'GOOD'), 'a failing batch wrote nothing');
    assert.equal((await w.sut.services.projectDomains.secrets.read({ teamId: w.teamId, kind: 'service', id: w.serviceId }, ['GOOD'])).size, 0);
    const notJson = await w.owner.request('PUT', `/api/services/${w.serviceId}/variables`, { variables: { A: 5 } });
    assert.equal(notJson.status, 400);
    assert.equal(notJson.body.errors[0].path, 'body.variables.A');
  });

  it('needs the reveal permission: viewers and read/deploy tokens cannot reveal; other teams get 404', async () => {
    const v = secret('guarded');
    issued.push(v);
    await put(w.owner, `/api/services/${w.serviceId}/variables`, { GUARDED: v });
    const viewer = await inviteAndJoin(w.sut, w.owner, w.teamId, 'viewer-v@example.test', 'viewer');
    const member = await inviteAndJoin(w.sut, w.owner, w.teamId, 'member-v@example.test', 'member');
    const tokens: Record<string, Client> = {};
    for (const scope of ['read', 'deploy', 'admin']) {
      const t = await member.client.post('/api/tokens', { name: `t-${scope}`, scopes: [scope] });
      assert.equal(t.status, 201, t.text);
      issued.push(t.body.token);
      tokens[scope] = new Client(w.sut.url, t.body.token);
    }
    const path = `/api/services/${w.serviceId}/variables/GUARDED/reveal`;
    const before = Number(((await w.sut.db.dataSource.query(`SELECT count(*) AS n FROM audit_entries WHERE action = 'variable.reveal'`)) as { n: string }[])[0]?.n);
    for (const [c, status] of [[viewer.client, 403], [tokens.read, 403], [tokens.deploy, 403], [tokens.admin, 200], [member.client, 200]] as const) {
      const r = await (c as Client).post(path);
      replies.push(status === 200 ? '' : r.text);
      assert.equal(r.status, status);
      if (status === 200) assert.equal(r.body.value, v);
    }
    const afterCount = Number(((await w.sut.db.dataSource.query(`SELECT count(*) AS n FROM audit_entries WHERE action = 'variable.reveal'`)) as { n: string }[])[0]?.n);
    assert.equal(afterCount - before, 2, 'every successful reveal, and only those, is audited');
    assert.equal((await viewer.client.get(`/api/services/${w.serviceId}/variables`)).status, 200);
    const other = await w.owner.post('/api/teams', { name: 'Other V', slug: 'other-v' });
    const outsider = await inviteAndJoin(w.sut, w.owner, other.body.id, 'out-v@example.test', 'owner');
    for (const r of [await outsider.client.post(path), await outsider.client.get(`/api/services/${w.serviceId}/variables`)]) {
      replies.push(r.text);
      assert.equal(r.status, 404);
    }
  });

  it('never lets a value reach a list, a get, an error, the database in clear, or the log', async () => {
    const svc = await w.owner.get(`/api/services/${w.serviceId}`);
    const env = await w.owner.get(`/api/environments/${w.envId}`);
    replies.push(svc.text, env.text, (await w.owner.get(`/api/services/${w.serviceId}/variables?limit=100`)).text);
    const stored = JSON.stringify(await w.sut.db.dataSource.query('SELECT * FROM variables')) + JSON.stringify(await w.sut.db.dataSource.query('SELECT * FROM audit_entries'))
      + JSON.stringify(await w.sut.db.dataSource.query(`SELECT name, encode(ciphertext, 'escape') FROM secret_values`));
    const logs = w.sut.logs.join('\n');
    assert.ok(issued.length >= 6);
    for (const s of issued) {
      const needle = s.slice(0, 40);
      assert.ok(!replies.some((t) => t.includes(needle)), 'a value reached an API answer that is not a reveal');
      assert.ok(!stored.includes(needle), 'a value is stored in clear');
      assert.ok(!logs.includes(needle), 'a value reached the log');
    }
  });
});

describe('variables over HTTP (Vault secret store)', () => {
  let kv: KvTestServer;
  let vault: VaultAdapter;
  let w: World;
  before(async () => {
    kv = await startKvTestServer();
    vault = new VaultAdapter({ address: kv.url, token: kv.token, kvMount: 'secret', timeoutMs: 2000 });
    w = await world(await startTestApp({ secretStore: () => new VaultSecretStore(new VaultAdapterKv(vault)) }));
  });
  after(async () => {
    // Optional: a failed before hook must not leave the KV server holding the test process open.
    await w?.sut.close();
    await vault?.close();
    await kv?.close();
  });

  it('writes a batch as one KV v2 write and reveals it back', async () => {
    const v = secret('vaulted');
    const before = kv.requests.filter((r) => r.method === 'POST').length;
    const r = await w.owner.request('PUT', `/api/services/${w.serviceId}/variables`, { variables: { A: v, B: 'b', C: 'c' } });
    assert.equal(r.status, 200, r.text);
    assert.equal(kv.requests.filter((x) => x.method === 'POST').length - before, 1);
    assert.equal((await w.owner.post(`/api/services/${w.serviceId}/variables/A/reveal`)).body.value, v);
    assert.deepEqual(kv.violations, []);
  });

  it('a batch that Vault refuses writes nothing (503 without the value), and the rows stay as they were', async () => {
    const v = secret('refused');
    kv.failWhen = (r) => r.method === 'POST';
    let r;
    try {
      r = await w.owner.request('PUT', `/api/services/${w.serviceId}/variables`, { variables: { A: v, NEW_KEY: v } });
    } finally {
      kv.failWhen = undefined;
    }
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'secret_store/unavailable');
    assert.ok(!r.text.includes(v));
    const keys = (await w.owner.get(`/api/services/${w.serviceId}/variables`)).body.items.map((i: { key: string }) => i.key);
    assert.ok(!keys.includes('NEW_KEY'));
    assert.notEqual((await w.owner.post(`/api/services/${w.serviceId}/variables/A/reveal`)).body.value, v);
    assert.ok(w.sut.logs.every((l) => !l.includes(v)));
  });
});
