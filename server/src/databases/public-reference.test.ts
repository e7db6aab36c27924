/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * `${{ db.DATABASE_PUBLIC_URL }}` over HTTP: the real app on a fresh Postgres with the Nomad double. A reference to
 * the public URL of a private database is refused when the deployment is made (422 naming the variable's path); once
 * the database is public, the service job registered with Nomad renders the URL from the data items Drover wrote
 * (Nomad Variables) — the same URL the credentials reveal gives — and the job itself holds no credential.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectStatus as ok, waitForDeployment, type Client } from '../testing/app.ts';
import { startDeployStack, type DeployStack } from '../testing/stack.ts';

const APPS = 'apps.example.com';
let stack: DeployStack;
let nomad: DeployStack['nomad'];
let owner: Client;
let envId: string;
let otherEnvId: string;

before(async () => {
  stack = await startDeployStack({ stepMs: 100, env: { DROVER_APPS_DOMAIN: APPS, DROVER_DB_PUBLIC_ACCESS: 'true', DROVER_DB_CERT_RESOLVER: 'le' } });
  ({ nomad, owner } = stack);
  const p = await ok(owner.post(`/api/teams/${stack.teamId}/projects`, { slug: 'shop' }), 201);
  envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
  // The refused reference lives in an environment of its own: a deployment compiles its whole environment.
  const q = await ok(owner.post(`/api/teams/${stack.teamId}/projects`, { slug: 'books' }), 201);
  otherEnvId = (await ok(owner.get(`/api/projects/${q.id}/environments`))).items[0].id;
});

after(async () => {
  await stack?.close();
});

/** serviceJobs lists the jobs of a service the double accepted, oldest first. */
function serviceJobs(serviceId: string): any[] {
  return nomad.control.requests()
    .filter((c) => (c.method === 'PUT' || c.method === 'POST') && c.status === 200 && (c.body as { Job?: any })?.Job?.Meta?.['drover.service'] === serviceId)
    .map((c) => (c.body as { Job: any }).Job);
}

/** writtenItems are the items of the last Nomad Variables write of a job (what its templates read). */
function writtenItems(jobId: string): Record<string, string> {
  const writes = nomad.control.requests().filter((c) => c.method === 'PUT' && c.path === `/v1/var/nomad/jobs/${jobId}` && c.status === 200);
  const last = writes.at(-1);
  assert.ok(last, `variables were written for ${jobId}`);
  return (last.body as { Items: Record<string, string> }).Items;
}

/**
 * rendered evaluates the env line `name=` of a job's templates the way consul-template does for the forms the
 * compiler writes: `(index $d "<key>").Value | toJSON` or `printf "%v…" <string or item>… | toJSON`, with `items` as
 * the Nomad variable. Throws on any other form, so a template the compiler did not write this way fails the test.
 */
function rendered(job: any, name: string, items: Record<string, string>): { value: string; changeMode: string } {
  for (const t of job.TaskGroups[0].Tasks[0].Templates ?? []) {
    const line = (t.EmbeddedTmpl as string).split('\n').find((l) => l.startsWith(`${name}={{ `));
    if (!line) continue;
    const expr = line.slice(name.length + 4, line.lastIndexOf(' | toJSON }}'));
    const tokens = [...expr.matchAll(/"([^"]*)"|\(index \$d "([^"]+)"\)\.Value/g)];
    const args = expr.startsWith('printf ') ? tokens.slice(1) : tokens;
    const value = args.map((m) => {
      if (m[2] === undefined) return m[1] ?? '';
      const v = items[m[2]];
      assert.ok(v !== undefined, `item ${m[2]} was written`);
      return v;
    }).join('');
    return { value, changeMode: t.ChangeMode };
  }
  throw new Error(`no template renders ${name}`);
}

describe('referencing a database\'s public URL', () => {
  it('refuses a deployment referencing DATABASE_PUBLIC_URL of a database that is not public, naming the variable\'s path', async () => {
    const db = await ok(owner.post(`/api/environments/${otherEnvId}/databases`, { name: 'ledger', engine: 'postgres' }), 201);
    assert.ok(!db.variables.includes('DATABASE_PUBLIC_URL'), 'a private database does not offer it');
    const svc = await ok(owner.post(`/api/environments/${otherEnvId}/services`, { slug: 'books', image: 'ghcr.io/acme/books:1.0', port: 8080 }), 201);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { LEDGER: '${{ ledger.DATABASE_PUBLIC_URL }}' } }));
    const r = await owner.post(`/api/services/${svc.id}/deployments`, {});
    assert.equal(r.status, 422, JSON.stringify(r.body));
    assert.equal(r.body.errors[0].path, 'services.books.variables.LEDGER');
    assert.match(r.body.errors[0].message, /^database ledger is not public, so it has no DATABASE_PUBLIC_URL/);
    assert.equal(serviceJobs(svc.id).length, 0, 'nothing registered');
  });

  it('renders DATABASE_PUBLIC_URL and REDIS_PUBLIC_URL of public databases in the registered job: the URLs the reveal gives, no credential in the job', async () => {
    const orders = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'orders', engine: 'postgres' }), 201);
    const cache = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'cache', engine: 'redis' }), 201);
    const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1.0', port: 8080 }), 201);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, {
      variables: { EXTERNAL_DB: '${{ orders.DATABASE_PUBLIC_URL }}', EXTERNAL_CACHE: '${{ cache.REDIS_PUBLIC_URL }}', DATABASE_URL: '${{ orders.DATABASE_URL }}' },
    }));
    const opened = await ok(owner.request('PATCH', `/api/databases/${orders.id}`, { public: { enabled: true, hostname: `orders.${APPS}` } }));
    assert.ok(opened.variables.includes('DATABASE_PUBLIC_URL'), opened.variables.join(' '));
    const openedCache = await ok(owner.request('PATCH', `/api/databases/${cache.id}`, { public: { enabled: true, hostname: `cache.${APPS}` } }));
    assert.ok(openedCache.variables.includes('DATABASE_PUBLIC_URL') && openedCache.variables.includes('REDIS_PUBLIC_URL'), openedCache.variables.join(' '));

    const dep = await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202);
    const done = await waitForDeployment(owner, dep.id, ['healthy', 'failed']);
    assert.equal(done.state, 'healthy', done.reason);

    const job = serviceJobs(svc.id).at(-1);
    assert.ok(job, 'the service job was registered');
    const items = writtenItems(job.ID);
    const revealOrders = await ok(owner.post(`/api/databases/${orders.id}/credentials/reveal`, {}));
    const revealCache = await ok(owner.post(`/api/databases/${cache.id}/credentials/reveal`, {}));
    const db = rendered(job, 'EXTERNAL_DB', items);
    assert.equal(db.value, revealOrders.publicUrl);
    assert.match(db.value, /^postgresql:\/\/[^:]+:[^@]+@orders\.apps\.example\.com:5432\/[^?]+\?sslmode=require$/);
    assert.equal(db.changeMode, 'noop', 'a fixed public address: no restart when allocations move');
    const redis = rendered(job, 'EXTERNAL_CACHE', items);
    assert.equal(redis.value, revealCache.publicUrl);
    assert.match(redis.value, /^rediss:\/\/default:[A-Za-z0-9]+@cache\.apps\.example\.com:5432$/);
    const text = JSON.stringify(job);
    for (const secret of [revealOrders.password, revealCache.password]) assert.ok(!text.includes(secret), 'no credential in the job JSON');
  });
});
