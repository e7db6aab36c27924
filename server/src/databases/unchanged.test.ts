/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API and jobs the double holds */
/**
 * An environment deploy restarts a database only when something about the database changed. The real app over HTTP on
 * a fresh Postgres, the worker running, the Nomad double over HTTP, in both variable modes (Nomad Variables; Vault KV
 * through the loopback KV v2 server). Deploying the environment again with only an app's image changed registers no
 * database job (the double records registrations), keeps the database's allocation (same ID, running) and writes no
 * new credential version or variable items for it; the deployments say the database is unchanged and which deployment
 * it still runs. An environment of databases only ends its deployment "unchanged"; an explicit deploy of the database
 * still registers it. A real change (public access opened) registers it again on the same volume with the same
 * credential values, and so does the next deploy of a database whose last deployment failed. No volume delete ever
 * reaches the double.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { jobId } from '@drover/scheduler/compiler/names.ts';
import type { KvTestServer } from '../secrets/kv-test-server.ts';
import { Client, expectStatus as ok, waitForDeployment } from '../testing/app.ts';
import { STACK_NOMAD_TOKEN, startDeployStack, type DeployStack } from '../testing/stack.ts';

const APPS = 'apps.example.com';
const TERMINAL = ['healthy', 'failed', 'cancelled', 'superseded'];

for (const mode of ['nomad', 'vault'] as const) {
  describe(`an unchanged database in an environment deploy (${mode === 'nomad' ? 'Nomad Variables' : 'Vault KV'})`, () => {
    let nomad: NomadDouble;
    let kv: KvTestServer | undefined;
    let owner: Client;
    let teamId: string;
    let ns: string;

    let stack: DeployStack;
    before(async () => {
      stack = await startDeployStack({ vault: mode === 'vault', stepMs: 40, env: { DROVER_APPS_DOMAIN: APPS, DROVER_DB_PUBLIC_ACCESS: 'true', DROVER_DB_CERT_RESOLVER: 'le' } });
      ({ nomad, kv, owner, teamId, ns } = stack);
    });

    after(async () => { await stack?.close(); });

    /** registrations are the job bodies of database `databaseId` the double accepted, in order. */
    const registrations = (databaseId: string): any[] => nomad.control.requests()
      .filter((c) => (c.method === 'PUT' || c.method === 'POST') && c.status === 200 && /^\/v1\/jobs?(\/[^/]+)?$/.test(c.path))
      .map((c) => (c.body as { Job?: any })?.Job).filter((j) => j?.Meta?.['drover.database'] === databaseId && j?.Type === 'service');
    const volumeCreates = (name: string): number => nomad.control.requests()
      .filter((c) => c.method === 'PUT' && /\/v1\/volume\/host\/create/.test(c.path) && c.status === 200 && (c.body as any)?.Volume?.Name === name).length;
    /** credentialWrites are the credential item sets written for job `jobId`, in order (Nomad Variables writes or KV versions). */
    const credentialWrites = (jobId: string): Record<string, string>[] => (kv
      ? (kv.data.get(`drover/${ns}/${jobId}`) ?? []).map((v) => v ?? {})
      : nomad.control.requests().filter((c) => c.method === 'PUT' && c.path === `/v1/var/nomad/jobs/${jobId}` && c.status === 200).map((c) => (c.body as any).Items));
    /** allocations lists a job's allocations as the double reports them over HTTP. */
    const allocations = async (jobId: string): Promise<any[]> => {
      const r = await fetch(`${nomad.url}/v1/job/${encodeURIComponent(jobId)}/allocations?namespace=${ns}`, { headers: { 'X-Nomad-Token': STACK_NOMAD_TOKEN } });
      assert.equal(r.status, 200);
      return (await r.json()) as any[];
    };
    const healthyAlloc = async (jobId: string): Promise<any> => {
      for (const until = Date.now() + 15_000; Date.now() < until;) {
        const running = (await allocations(jobId)).filter((a) => a.ClientStatus === 'running' && a.DeploymentStatus?.Healthy === true);
        if (running.length === 1) return running[0];
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.fail(`no healthy allocation of ${jobId}`);
    };
    const deployEnvironment = async (envId: string): Promise<any[]> => {
      const r = await ok(owner.post(`/api/environments/${envId}/deployments`, {}), 202);
      const out = [];
      for (const item of r.items) {
        const d = await waitForDeployment(owner, item.id, TERMINAL);
        assert.equal(d.state, 'healthy', d.reason);
        out.push(d);
      }
      return out;
    };
    const events = async (deploymentId: string): Promise<any[]> => (await ok(owner.get(`/api/deployments/${deploymentId}/events`))).items;
    /** bySuffix maps item keys without their deployment prefix to the values (what the templates read, whoever wrote them). */
    const bySuffix = (items: Record<string, string>, prefix?: string): Record<string, string> => Object.fromEntries(Object.entries(items)
      .filter(([k]) => !prefix || k.startsWith(`${prefix}.`)).map(([k, v]) => [k.includes('.') ? k.slice(k.indexOf('.') + 1) : k, v]).sort());

    it('an app-only change leaves the database alone; a real change redeploys it on the same volume with the same credentials', async () => {
      const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: 'shop' }), 201);
      const envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
      const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'pg', engine: 'postgres' }), 201);
      const api = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1', port: 8080 }), 201);
      await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1', port: 8080 }), 201);

      // First deploy: two service deployments in one batch, the database registered once (not once per service).
      const first = await deployEnvironment(envId);
      assert.equal(first.length, 2);
      assert.equal(registrations(db.id).length, 1, 'one environment deploy registers the database once');
      const job = registrations(db.id)[0];
      const registeredBy = job.Meta['drover.deployment'];
      assert.ok(first.some((d) => d.id === registeredBy));
      assert.match(job.Meta['drover.spec'], /^v1\.[0-9a-f]{32}$/);
      const alloc = await healthyAlloc(job.ID);
      assert.equal(credentialWrites(job.ID).length, 1);
      const volume = (Object.values(job.TaskGroups[0].Volumes)[0] as any).Source;

      // Only the app's image changes: the database job is not registered, its allocation keeps running.
      await ok(owner.request('PATCH', `/api/services/${api.id}`, { image: 'ghcr.io/acme/api:2' }));
      const second = await deployEnvironment(envId);
      assert.equal(registrations(db.id).length, 1, 'the unchanged database job is not registered again');
      const now = (await allocations(job.ID)).filter((a) => a.ClientStatus === 'running');
      assert.deepEqual(now.map((a) => a.ID), [alloc.ID], 'the same allocation keeps running');
      assert.equal(credentialWrites(job.ID).length, 1, 'no new credential version or variable items for the database');
      for (const d of second) {
        const notes = (await events(d.id)).filter((e) => e.kind === 'databases').map((e) => e.message).join(' | ');
        assert.match(notes, new RegExp(`database pg unchanged: still running deployment ${registeredBy}`), `${d.id}: ${notes}`);
      }
      const apiJob = nomad.control.requests().filter((c) => c.method === 'PUT' && c.path === '/v1/jobs' && c.status === 200 && (c.body as any)?.Job?.Meta?.['drover.service'] === api.id).at(-1);
      assert.equal((apiJob?.body as any).Job.TaskGroups[0].Tasks[0].Config.image, 'ghcr.io/acme/api:2', 'the app itself was deployed');

      // A real change (public access): registered again, on the same volume, with the same credential values.
      await ok(owner.request('PATCH', `/api/databases/${db.id}`, { public: { enabled: true } }));
      const third = await deployEnvironment(envId);
      const jobs = registrations(db.id);
      assert.equal(jobs.length, 2, 'the changed database is registered once');
      const changed = jobs[1];
      assert.ok(third.some((d) => d.id === changed.Meta['drover.deployment']));
      assert.notEqual(changed.Meta['drover.spec'], job.Meta['drover.spec']);
      assert.ok(changed.TaskGroups[0].Services[0].Tags.some((t: string) => t.startsWith('traefik.tcp.routers.')), 'the public router is on the job');
      assert.equal((Object.values(changed.TaskGroups[0].Volumes)[0] as any).Source, volume, 'the same volume');
      assert.equal(volumeCreates(volume), 1, 'the volume was created once');
      const writes = credentialWrites(job.ID);
      assert.equal(writes.length, 2);
      const [w0, w1] = [writes[0] ?? {}, writes[1] ?? {}];
      if (kv) {
        assert.deepEqual(bySuffix(w1), bySuffix(w0), 'the new KV version holds the same credential values');
      } else {
        const newer = changed.Meta['drover.deployment'];
        assert.deepEqual(bySuffix(w1, newer), bySuffix(w0, registeredBy), 'the new variable items hold the same credential values');
        assert.deepEqual(bySuffix(w1, registeredBy), bySuffix(w0, registeredBy), 'the running deployment keeps its items while the new one rolls out');
      }
      await healthyAlloc(job.ID);
      assert.deepEqual(nomad.control.volumeDeletes(), [], 'no volume delete reaches Nomad');
    });

    it('an environment of databases only ends its deployment unchanged; an explicit deploy of the database registers it', async () => {
      const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: 'data' }), 201);
      const envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
      const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'cache', engine: 'redis' }), 201);

      const [first] = await deployEnvironment(envId);
      assert.equal(registrations(db.id).length, 1);
      const job = registrations(db.id)[0];
      const alloc = await healthyAlloc(job.ID);

      const [again] = await deployEnvironment(envId);
      assert.match(again.reason, new RegExp(`^unchanged: database cache still runs deployment ${first.id}`));
      const kinds = (await events(again.id)).map((e) => e.kind);
      assert.ok(kinds.includes('unchanged') && !kinds.includes('registered'), kinds.join(', '));
      assert.equal(registrations(db.id).length, 1, 'not registered again');
      assert.deepEqual((await allocations(job.ID)).filter((a) => a.ClientStatus === 'running').map((a) => a.ID), [alloc.ID]);
      assert.equal(credentialWrites(job.ID).length, 1);

      // The explicit deploy of the database itself is the way to restart it on purpose.
      const forced = await waitForDeployment(owner, (await ok(owner.post(`/api/databases/${db.id}/deployments`, {}), 202)).id, TERMINAL);
      assert.equal(forced.state, 'healthy', forced.reason);
      assert.equal(registrations(db.id).length, 2, 'an explicit deploy registers it');
      assert.equal(registrations(db.id)[1].Meta['drover.deployment'], forced.id);
      assert.equal((Object.values(registrations(db.id)[1].TaskGroups[0].Volumes)[0] as any).Source, (Object.values(job.TaskGroups[0].Volumes)[0] as any).Source);
      assert.deepEqual(nomad.control.volumeDeletes(), []);
    });

    it('a database whose last deployment failed is registered again by the next environment deploy, though its job is unchanged', async () => {
      const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: 'flaky' }), 201);
      const envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
      const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'queue', engine: 'redis' }), 201);
      const dbJob = jobId('flaky', 'production', 'queue', db.id);
      nomad.control.setScenario(dbJob, 'pull-fail', ns);
      const r = await ok(owner.post(`/api/environments/${envId}/deployments`, {}), 202);
      const failed = await waitForDeployment(owner, r.items[0].id, TERMINAL, 60_000);
      assert.equal(failed.state, 'failed', failed.reason);
      assert.equal(registrations(db.id).length, 1);

      // The same job, but not in good standing: registered again (a restart is what it needs), not "unchanged".
      nomad.control.setScenario(dbJob, 'healthy', ns);
      const [again] = await deployEnvironment(envId);
      assert.doesNotMatch(again.reason, /unchanged/);
      const jobs = registrations(db.id);
      assert.equal(jobs.length, 2, 'registered again');
      assert.equal(jobs[1].Meta['drover.spec'], jobs[0].Meta['drover.spec'], 'with the same specification');
      assert.equal(jobs[1].Meta['drover.deployment'], again.id);
      await healthyAlloc(dbJob);
      assert.deepEqual(nomad.control.volumeDeletes(), []);
    });
  });
}
