/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API and jobs the double holds */
/**
 * Managed databases when the cluster keeps secrets in Vault: the real app (VAULT_ADDR set) on a fresh Postgres, the
 * Nomad double over HTTP, the loopback KV v2 server that checks every call against vault-openapi.json, and s3rver.
 * The database job's credentials are written as a KV version at the job's own path and its templates pin that
 * version (a `vault` block with the workload role, no token in the task); backup and verify jobs read the password
 * and the destination keys the same way. Nothing goes to Nomad Variables and no credential reaches a job's JSON.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { validateNomad } from '@drover/scheduler/contracts/index.ts';
import { validateJob } from '@drover/scheduler/nomad-validate/index.ts';
import { jobId as makeJobId } from '@drover/scheduler/compiler/names.ts';
import { ALLOC_DATA, DUMP_FILES } from '@drover/scheduler/databases/argv.ts';
import type { KvTestServer } from '../secrets/kv-test-server.ts';
import { runOk, startS3, type S3 } from '../backups/testing/engines.ts';
import { Client, type TestApp, expectStatus, waitForDeployment } from '../testing/app.ts';
import { startDeployStack, type DeployStack } from '../testing/stack.ts';

let nomad: NomadDouble;
let kv: KvTestServer;
let s3: S3;
let work: string;
let sut: TestApp;
let owner: Client;
let teamId: string;
let ns: string;

const ok = expectStatus;

let stack: DeployStack;
before(async () => {
  stack = await startDeployStack({ vault: true, stepMs: 60 });
  ({ nomad, sut, owner, teamId, ns } = stack);
  if (!stack.kv) throw new Error('the stack started without Vault');
  kv = stack.kv;
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'drover-dbvault-'));
});

after(async () => {
  await stack?.close();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

const lastRegistered = (id: string): any => nomad.control.requests()
  .filter((c) => c.method === 'PUT' && c.path === '/v1/jobs' && c.status === 200 && (c.body as any)?.Job?.ID === id).map((c) => c.body as any).at(-1);
const registeredLike = (prefix: string): any[] => nomad.control.requests()
  .filter((c) => c.method === 'PUT' && c.path === '/v1/jobs' && c.status === 200 && String((c.body as any)?.Job?.ID ?? '').startsWith(prefix)).map((c) => c.body as any);

/** pins returns the KV versions the templates of a job read at `path` (every `with secret` opener must read it). */
function pins(job: any, path: string): number[] {
  const text = JSON.stringify(job.Job.TaskGroups.flatMap((g: any) => g.Tasks.flatMap((t: any) => t.Templates.map((x: any) => x.EmbeddedTmpl))));
  assert.doesNotMatch(text, /nomadVar/);
  const opened = [...text.matchAll(/with secret \\"([^"\\]+)\?version=([0-9]+)\\"/g)];
  assert.ok(opened.length > 0, `${job.Job.ID} reads Vault`);
  for (const m of opened) assert.equal(m[1], `secret/data/${path}`, `${job.Job.ID} reads only its own path`);
  return [...new Set(opened.map((m) => Number(m[2])))];
}

describe('databases with Vault', () => {
  it('deploys the database with its credentials in its own KV path at a pinned version; backup and verify jobs read theirs the same way', async () => {
    const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: 'vaulted' }), 201);
    const envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
    const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'pg', engine: 'postgres' }), 201);
    const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1', port: 8080 }), 201);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { DATABASE_URL: '${{ pg.DATABASE_URL }}' } }));
    const d = await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202);
    const done = await waitForDeployment(owner, d.id, ['healthy', 'failed', 'cancelled'], 30_000);
    assert.equal(done.state, 'healthy', done.reason);
    const creds = await ok(owner.post(`/api/databases/${db.id}/credentials/reveal`, {}));

    // The database job: contract and Nomad's rules (the double checked them on register, and again here), the workload
    // identity reads the job's own KV path at the version Drover wrote, and no credential is in the JSON.
    const dbJob = makeJobId('vaulted', 'production', 'pg', db.id);
    const job = lastRegistered(dbJob);
    assert.ok(job, 'the database job was registered');
    assert.deepEqual(validateNomad('JobRegisterRequest', job), []);
    assert.deepEqual(validateJob(job.Job), []);
    const task = job.Job.TaskGroups[0].Tasks[0];
    assert.deepEqual(task.Vault, { Role: 'nomad-workloads', Cluster: 'default', ChangeMode: 'noop', Env: false, DisableFile: true });
    assert.deepEqual(task.Identities.map((i: any) => [i.Name, i.Audience]), [['vault_default', ['vault.io']]]);
    const path = `drover/${ns}/${dbJob}`;
    const [version] = pins(job, path);
    assert.ok(version !== undefined && version >= 1);
    const stored = kv.data.get(path)?.[version - 1];
    assert.ok(stored, 'the pinned version exists');
    assert.ok(Object.values(stored).includes(creds.password), 'the password is in the KV version the job pins');
    assert.ok(Object.values(stored).includes(creds.user));
    const text = JSON.stringify(job);
    assert.ok(!text.includes(creds.password) && !text.includes(creds.user), 'no credential in the database job JSON');
    // The service reads the same password from its own path.
    const svcStored = kv.data.get(`drover/${ns}/${done.jobId}`)?.at(-1);
    assert.ok(Object.values(svcStored ?? {}).some((v) => v.includes(creds.password)), "the service's DATABASE_URL item carries it");

    // A backup in Vault mode: its job reads the password and the destination keys from its own path.
    const dest = await ok(owner.post(`/api/teams/${teamId}/backup-destinations`, {
      name: 'local', endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey,
    }), 201);
    const dump = randomBytes(8_000);
    const ungate = [
      nomad.control.gateBatch(`${dbJob}-backup-`, async (a) => {
        const j = nomad.control.job(a.jobId, a.namespace) as any;
        const upload = j.TaskGroups[0].Tasks.find((t: any) => t.Name === 'upload');
        nomad.control.writeFile(a.id, `alloc/data/${DUMP_FILES.postgres}`, dump);
        const file = join(work, 'dump.pgc');
        writeFileSync(file, dump);
        const argv = [upload.Config.entrypoint[0], ...upload.Config.args].map((x: string) => (x === `${ALLOC_DATA}/${DUMP_FILES.postgres}` ? file : x));
        await runOk(argv, { ...upload.Env, RCLONE_CONFIG_DROVER_ENDPOINT: s3.endpoint, ...s3.rcloneSecrets });
      }, ns),
      nomad.control.gateBatch(`${dbJob}-verify-`, (a) => {
        nomad.control.writeFile(a.id, 'alloc/logs/check.stdout.0', 'public.orders|12\n');
      }, ns),
    ];
    try {
      const b = await ok(owner.post(`/api/databases/${db.id}/backups`, { destinationId: dest.id }), 202);
      assert.equal(await sut.services.backupRunner.runQueued(), 1);
      const backup = await ok(owner.get(`/api/backups/${b.id}`));
      assert.equal(backup.status, 'succeeded', backup.reason);
      const v = await ok(owner.post(`/api/backups/${b.id}/verify`, {}), 202);
      assert.equal(await sut.services.backupRunner.runChecks(), 1);
      const check = (await ok(owner.get(`/api/backups/${b.id}`))).checks.find((c: any) => c.id === v.id);
      assert.equal(check.status, 'succeeded', check.reason);
      assert.deepEqual(check.counts, { 'public.orders': 12 });

      for (const kind of ['backup', 'verify']) {
        const [aux] = registeredLike(`${dbJob}-${kind}-`);
        assert.ok(aux, `a ${kind} job was registered`);
        assert.deepEqual(validateNomad('JobRegisterRequest', aux), [], kind);
        assert.deepEqual(validateJob(aux.Job), [], kind);
        const auxPath = `drover/${ns}/${aux.Job.ID}`;
        const [n] = pins(aux, auxPath);
        const values = Object.values(kv.data.get(auxPath)?.[(n ?? 0) - 1] ?? {});
        assert.ok(values.includes(creds.password), `${kind}: the password is in its pinned KV version`);
        assert.ok(values.includes(s3.credentials.secretAccessKey), `${kind}: the destination key too`);
        for (const t of aux.Job.TaskGroups[0].Tasks) if (t.Templates.length > 0) assert.equal(t.Vault?.Role, 'nomad-workloads', `${kind}: ${t.Name}`);
        const auxText = JSON.stringify(aux);
        assert.ok(!auxText.includes(creds.password) && !auxText.includes(s3.credentials.secretAccessKey), `${kind}: no credential in the job JSON`);
      }
    } finally {
      for (const u of ungate) u();
    }
    assert.equal(nomad.control.requests().filter((r) => r.path.startsWith('/v1/var')).length, 0, 'nothing goes to Nomad Variables');
    assert.deepEqual(kv.violations, [], 'every Vault call is in vault-openapi.json');
    assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400 || c.status >= 500).map((c) => `${c.status} ${c.method} ${c.path}`), []);
  });
});
