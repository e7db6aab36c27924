/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * Public database access over HTTP: the real app on a fresh Postgres with the Nomad double. Off by default; a team
 * opens a database with a hostname under the apps domain (checked like domains, unique across teams, never a service's
 * domain, one public MySQL at most); the next deploy registers the database job with a Traefik TCP router (HostSNI,
 * TLS, the shared entry point) whose tags make a valid Traefik dynamic configuration; closing it drops the router.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Ajv } from 'ajv';
import { readContract } from '@drover/scheduler/contracts/index.ts';
import { expectStatus as ok, inviteAndJoin, setupOwner, startTestApp, waitForDeployment, type Client, type TestApp } from '../testing/app.ts';
import { STACK_NOMAD_TOKEN, startDeployStack, type DeployStack } from '../testing/stack.ts';
import { checkPublicHostname, publicUrl } from './public.ts';

const APPS = 'apps.example.com';
let stack: DeployStack;
let nomad: DeployStack['nomad'];
let sut: TestApp;
let closed: TestApp;
let owner: Client;
let teamId: string;
let envId: string;

type Schema = Record<string, any>;
const schema = readContract('traefik-v3-file-provider.json') as Schema;
const validate = new Ajv({ allErrors: true, strict: false }).compile(schema);
const deref = (s: Schema): Schema => (typeof s.$ref === 'string' ? deref(schema.definitions[s.$ref.replace('#/definitions/', '')] ?? {}) : s);

/**
 * dynamicConfig does what Traefik's Consul Catalog provider does with a catalog entry's tags (pkg/provider/consulcatalog):
 * keys matched case-insensitively against the schema, `tls=true` as `{}`, the one TCP service made from the entry
 * (named after it, with its address) when the tags define none, and given to a router that names none.
 */
function dynamicConfig(tags: string[], catalogName: string): Schema {
  const root: Schema = {};
  for (const tag of tags) {
    if (!tag.startsWith('traefik.') || tag === 'traefik.enable=true') continue;
    const eq = tag.indexOf('=');
    const segs = tag.slice(0, eq).split('.').slice(1);
    let s: Schema = schema;
    let node = root;
    segs.forEach((seg, i) => {
      const d = deref(s);
      const branches = [d, ...((d.oneOf ?? d.anyOf ?? []) as Schema[]).map(deref)];
      let hit: { name: string; schema: Schema } | undefined;
      for (const b of branches) {
        const k = Object.keys(b.properties ?? {}).find((p) => p.toLowerCase() === seg.toLowerCase());
        if (k) hit = { name: k, schema: b.properties[k] };
      }
      if (!hit && typeof d.additionalProperties === 'object') hit = { name: seg, schema: d.additionalProperties };
      assert.ok(hit, `unknown key ${seg} in ${tag}`);
      if (i < segs.length - 1) node = (node[hit.name] ??= {});
      else {
        const t = deref(hit.schema).type;
        const v = tag.slice(eq + 1);
        node[hit.name] = t === 'boolean' ? v === 'true' : t === 'object' && v === 'true' ? {} : t === 'array' ? v.split(',') : v;
      }
      s = hit.schema;
    });
  }
  const tcp = root.tcp as { routers?: Record<string, Schema>; services?: Record<string, Schema> } | undefined;
  if (tcp?.routers) {
    tcp.services ??= { [catalogName]: { loadBalancer: { servers: [{ address: '10.0.0.7:27315' }] } } };
    const names = Object.keys(tcp.services);
    for (const r of Object.values(tcp.routers)) if (!r.service && names.length === 1) r.service = names[0];
  }
  return root;
}

/** dbJobs lists the database jobs the double accepted for `databaseId`, oldest first. */
function dbJobs(databaseId: string): any[] {
  return nomad.control.requests()
    .filter((c) => (c.method === 'PUT' || c.method === 'POST') && c.status === 200 && (c.body as { Job?: any })?.Job?.Meta?.['drover.database'] === databaseId)
    .map((c) => (c.body as { Job: any }).Job);
}

before(async () => {
  stack = await startDeployStack({ stepMs: 100, env: { DROVER_APPS_DOMAIN: APPS, DROVER_DB_PUBLIC_ACCESS: 'true', DROVER_DB_CERT_RESOLVER: 'le' } });
  ({ nomad, sut, owner, teamId } = stack);
  const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' }), 201);
  envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
  closed = await startTestApp({ env: { NOMAD_ADDR: nomad.url, NOMAD_TOKEN: STACK_NOMAD_TOKEN, NOMAD_MGMT_TOKEN: STACK_NOMAD_TOKEN } });
});

after(async () => {
  await closed?.close();
  await stack?.close();
});

describe('public database access', () => {
  it('is off by default, and refused while the cluster does not allow it', async () => {
    const o = await setupOwner(closed);
    const p = await ok(o.client.post(`/api/teams/${o.teamId}/projects`, { slug: 'lab' }), 201);
    const env = (await ok(o.client.get(`/api/projects/${p.id}/environments`))).items[0].id;
    const db = await ok(o.client.post(`/api/environments/${env}/databases`, { name: 'db', engine: 'postgres' }), 201);
    assert.deepEqual(db.public, { enabled: false, available: false, hostname: null, port: null, routing: 'sni', url: null });
    const r = await o.client.request('PATCH', `/api/databases/${db.id}`, { public: { enabled: true } });
    assert.equal(r.status, 422);
    assert.equal(r.body.errors[0].path, 'body.public.enabled');
    assert.equal((await ok(o.client.get(`/api/databases/${db.id}`))).public.enabled, false, 'nothing half-written');
  });

  it('checks the hostname like a domain, under the apps domain, and one change at a time', async () => {
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'checks', engine: 'postgres' }), 201);
    for (const [hostname, message] of [
      ['db.example.org', /one label under apps\.example\.com/], ['a.b.apps.example.com', /one label under/], ['db`) || HostSNI(`*', /./],
      ['DB.apps.example.com', /lower case/], ['*.apps.example.com', /wildcard/], ['apps.example.com', /one label under/],
    ] as const) {
      const r = await owner.request('PATCH', `/api/databases/${db.id}`, { public: { enabled: true, hostname } });
      assert.equal(r.status, 422, hostname);
      assert.equal(r.body.errors[0].path, 'body.public.hostname', hostname);
      assert.match(r.body.errors[0].message, message, hostname);
    }
    const both = await owner.request('PATCH', `/api/databases/${db.id}`, { version: '17', public: { enabled: true } });
    assert.equal(both.status, 400, 'a version and a public change are two requests');
    assert.equal((await ok(owner.get(`/api/databases/${db.id}`))).public.enabled, false);
    // An internationalised name is stored in its punycode form.
    assert.equal(checkPublicHostname('bücher.apps.example.com', APPS), 'xn--bcher-kva.apps.example.com');
  });

  it('a hostname is held by one database across teams, never a service domain; one public MySQL at most', async () => {
    const a = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'held', engine: 'redis' }), 201);
    const opened = await ok(owner.request('PATCH', `/api/databases/${a.id}`, { public: { enabled: true, hostname: `cache.${APPS}` } }));
    assert.deepEqual(opened.public, { enabled: true, available: true, hostname: `cache.${APPS}`, port: 5432, routing: 'sni', url: `rediss://cache.${APPS}:5432` });

    // Another team cannot take it.
    const other = await setupOther();
    const b = await ok(other.client.post(`/api/environments/${other.envId}/databases`, { name: 'mine', engine: 'postgres' }), 201);
    const r = await other.client.request('PATCH', `/api/databases/${b.id}`, { public: { enabled: true, hostname: `cache.${APPS}` } });
    assert.equal(r.status, 409);
    assert.match(JSON.stringify(r.body), /public_taken/);
    assert.equal(r.body.errors[0].path, 'body.public.hostname');

    // A service's generated domain is one label under the apps domain too: it cannot be claimed.
    const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'shopfront', image: 'ghcr.io/acme/web:1.0', port: 8080 }), 201);
    const domains = (await ok(owner.get(`/api/services/${svc.id}/domains`))).items;
    const generated = domains.find((d: any) => d.kind === 'generated')?.hostname;
    assert.ok(generated, 'the service has a generated domain');
    const s = await other.client.request('PATCH', `/api/databases/${b.id}`, { public: { enabled: true, hostname: generated } });
    assert.equal(s.status, 409);
    assert.match(s.body.errors[0].message, /service domain/);

    // Closing frees the name.
    await ok(owner.request('PATCH', `/api/databases/${a.id}`, { public: { enabled: false } }));
    await ok(other.client.request('PATCH', `/api/databases/${b.id}`, { public: { enabled: true, hostname: `cache.${APPS}` } }));

    // MySQL has one entry point of its own: a second public MySQL database is refused.
    const m1 = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'mysql-one', engine: 'mysql' }), 201);
    const m2 = await ok(other.client.post(`/api/environments/${other.envId}/databases`, { name: 'mysql-two', engine: 'mysql' }), 201);
    const first = await ok(owner.request('PATCH', `/api/databases/${m1.id}`, { public: { enabled: true } }));
    assert.equal(first.public.hostname, `mysql-one-${m1.id.slice(0, 8)}.${APPS}`, 'a generated hostname when none is named');
    assert.equal(first.public.port, 3306);
    assert.equal(first.public.routing, 'own_entrypoint');
    const second = await other.client.request('PATCH', `/api/databases/${m2.id}`, { public: { enabled: true } });
    assert.equal(second.status, 409);
    assert.match(second.body.errors[0].message, /MySQL/);
    await ok(owner.request('PATCH', `/api/databases/${m1.id}`, { public: { enabled: false } }));
  });

  it('deploys the job with a HostSNI router with TLS on the shared entry point; closing removes it; audited; the full URL only revealed', async () => {
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'orders', engine: 'postgres' }), 201);
    const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1.0', port: 8080 }), 201);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { DATABASE_URL: '${{ orders.DATABASE_URL }}' } }));
    const deploy = async (): Promise<void> => {
      const done = await waitForDeployment(owner, (await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202)).id, ['healthy', 'failed']);
      assert.equal(done.state, 'healthy', done.reason);
    };
    await deploy();
    assert.deepEqual(dbJobs(db.id).at(-1).TaskGroups[0].Services[0].Tags, ['drover.managed=true'], 'private by default: no router');

    const host = `orders.${APPS}`;
    const opened = await ok(owner.request('PATCH', `/api/databases/${db.id}`, { public: { enabled: true, hostname: host } }));
    assert.equal(opened.public.url, `postgresql://${host}:5432/?sslmode=require`);
    assert.equal(dbJobs(db.id).length, 1, 'nothing changes on the cluster before the next deploy');
    await deploy();
    const job = dbJobs(db.id).at(-1);
    const service = job.TaskGroups[0].Services[0];
    const tags: string[] = service.Tags;
    assert.ok(tags.includes('traefik.enable=true') && tags.includes('drover.managed=true'), tags.join(' '));
    const cfg = dynamicConfig(tags, service.Name);
    assert.ok(validate(cfg), JSON.stringify(validate.errors));
    const routers = Object.entries(cfg.tcp.routers) as Array<[string, any]>;
    assert.equal(routers.length, 1);
    const [, router] = routers[0]!;
    assert.equal(router.rule, `HostSNI(\`${host}\`)`);
    assert.deepEqual(router.entryPoints, ['dbtls']);
    assert.deepEqual(router.tls, { certResolver: 'le' });
    assert.ok(router.service in cfg.tcp.services, 'the router uses the service the catalog entry makes');
    assert.throws(() => dynamicConfig(['traefik.tcp.routers.x.rulez=HostSNI(`a.b`)'], 'x'), /unknown key rulez/, 'the converter can fail');

    // The view carries no credentials; the reveal gives DATABASE_PUBLIC_URL with them (no-store, audited).
    const view = JSON.stringify(await ok(owner.get(`/api/databases/${db.id}`)));
    const reveal = await owner.post(`/api/databases/${db.id}/credentials/reveal`, {});
    assert.equal(reveal.status, 200);
    assert.ok(!view.includes(reveal.body.password));
    assert.equal(reveal.body.publicUrl, publicUrl('postgres', host, 5432, { user: reveal.body.user, password: reveal.body.password, name: reveal.body.name }));
    assert.match(reveal.body.publicUrl, /^postgresql:\/\/[^:]+:[^@]+@orders\.apps\.example\.com:5432\/[^?]+\?sslmode=require$/, reveal.body.publicUrl);
    assert.match(reveal.body.publicUrl, new RegExp(`^postgresql://u[a-z0-9]+:[A-Za-z0-9]+@orders\\.apps\\.example\\.com:5432/[a-z0-9_]+\\?sslmode=require$`));

    await ok(owner.request('PATCH', `/api/databases/${db.id}`, { public: { enabled: false } }));
    await deploy();
    assert.deepEqual(dbJobs(db.id).at(-1).TaskGroups[0].Services[0].Tags, ['drover.managed=true'], 'closed: no router after the next deploy');
    const audit = (await ok(owner.get(`/api/teams/${teamId}/audit?limit=100`))).items.filter((e: any) => e.target?.id === db.id);
    assert.deepEqual(audit.map((e: any) => e.action).filter((a: string) => a.startsWith('database.public')), ['database.public_close', 'database.public_open']);
    assert.equal(audit.find((e: any) => e.action === 'database.public_open').details.hostname, host);
    assert.deepEqual(nomad.control.volumeDeletes(), []);
  });

  it('a member without write permission cannot open a database', async () => {
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'guarded', engine: 'mongodb' }), 201);
    const viewer = await inviteAndJoin(sut, owner, teamId, 'viewer@example.test', 'viewer');
    const r = await viewer.client.request('PATCH', `/api/databases/${db.id}`, { public: { enabled: true } });
    assert.equal(r.status, 403);
    assert.equal((await ok(owner.get(`/api/databases/${db.id}`))).public.enabled, false);
  });
});

/** setupOther makes a second team (the owner creates it and owns it) with a project, returning a client and its environment. */
async function setupOther(): Promise<{ client: Client; envId: string }> {
  const team = await ok(owner.post('/api/teams', { name: 'Other', slug: 'other' }), 201);
  const p = await ok(owner.post(`/api/teams/${team.id}/projects`, { slug: 'shop' }), 201);
  return { client: owner, envId: (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id };
}

describe('public URLs and hostnames (unit)', () => {
  it('each engine asks for TLS the way its clients spell it; without credentials the URL carries none', () => {
    const creds = { user: 'u1', password: 'p@ss', name: 'app' };
    assert.equal(publicUrl('postgres', 'db.a.example', 5432, creds), 'postgresql://u1:p%40ss@db.a.example:5432/app?sslmode=require');
    assert.equal(publicUrl('mysql', 'db.a.example', 3306, creds), 'mysql://u1:p%40ss@db.a.example:3306/app?ssl-mode=REQUIRED');
    assert.equal(publicUrl('redis', 'db.a.example', 5432, { user: 'default', password: 'x', name: null }), 'rediss://default:x@db.a.example:5432');
    assert.equal(publicUrl('mongodb', 'db.a.example', 5432, creds), 'mongodb://u1:p%40ss@db.a.example:5432/?authSource=admin&tls=true');
    assert.equal(publicUrl('mysql', 'db.a.example', 3306), 'mysql://db.a.example:3306/?ssl-mode=REQUIRED');
  });

  it('a hostname is one label directly under the apps domain, in its ASCII form', () => {
    assert.equal(checkPublicHostname('orders.apps.example.com', APPS), 'orders.apps.example.com');
    for (const bad of ['orders.apps.example.com.evil.net', 'apps.example.com', 'x.y.apps.example.com', 'orders.xapps.example.com', 'or ders.apps.example.com', '']) {
      assert.throws(() => checkPublicHostname(bad, APPS), (e: any) => e.code === 'database/invalid' && e.errors[0]?.path === 'body.public.hostname', bad);
    }
  });
});
