/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API and jobs read back from the double */
/**
 * Restore into a NEW database, end to end: a backup requested over the API and a restore into a new database
 * (`POST /api/backups/:id/restore` with `target: new`) run by the backup runner as Nomad jobs on the Nomad double,
 * while the containers are stood in for by running THE JOBS' OWN argv (read back from the registered jobs, paths
 * mapped to the allocation and volume directories, `${VAR}`s interpolated as Nomad does) against Debian's real
 * Postgres and Redis and the loopback S3 server. The double's batch gate holds each allocation until that real work
 * ended, and a real failure ends the job's tasks failed. Proven: the new database holds the source's data, the source
 * is unchanged and untouched, and a restore that really fails marks the new database failed with the reason.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { jobId, namespaceName } from '@drover/scheduler/compiler/names.ts';
import { auxJobId } from '@drover/scheduler/databases/jobs.ts';
import { ALLOC_DATA, interpolate } from '@drover/scheduler/databases/argv.ts';
import { planSettings } from '@drover/scheduler/manifest/to-state.ts';
import { systemClock } from '../core/clock.ts';
import { Client, expectStatus, inviteAndJoin, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';
import { BackupRunner } from './runner.ts';
import { Reconciler } from '../deployments/reconciler.ts';
import { DeploymentStore } from '../deployments/store.ts';
import { createMemoryCoordination } from '../platform/coordination/index.ts';
import pino from 'pino';
import { run, startPostgres, startRedis, startS3, type Postgres, type Redis, type S3 } from './testing/engines.ts';

const ok = expectStatus;

describe('restore into a new database', () => {
  let app: TestApp;
  let owner: Client;
  let double: NomadDouble;
  let nomad: NomadClient;
  let s3: S3;
  let ns: string;
  let envId: string;
  let destinationId: string;
  let teamId: string;
  let projectId: string;
  const dirs: string[] = [];

  before(async () => {
    app = await startTestApp();
    const o = await setupOwner(app);
    owner = o.client;
    const team = (await owner.get(`/api/teams/${o.teamId}`)).body;
    ns = namespaceName(team.slug, team.id);
    double = await startNomadDouble({ namespaces: [ns], stepMs: 50 });
    nomad = new NomadClient({ address: double.url, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } });
    s3 = await startS3();
    teamId = o.teamId;
    const p = await ok(owner.post(`/api/teams/${o.teamId}/projects`, { slug: 'shop' }), 201);
    projectId = p.id;
    envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
    destinationId = (await ok(owner.post(`/api/teams/${o.teamId}/backup-destinations`, {
      name: 'local', endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey,
    }), 201)).id;
  });
  after(async () => {
    await double.close();
    await s3.close();
    await app.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  const runner = (): BackupRunner => new BackupRunner({
    dataSource: app.db.dataSource, nomad, settings: planSettings({ appsDomain: 'apps.example.test', secrets: { kind: 'nomad' }, nodePool: 'default', constraints: [] }),
    volumePlugin: 'mkdir', secrets: app.services.projectDomains.secrets, access: app.services.access, audit: app.services.audit, clock: systemClock, pollMs: 20, batchTimeoutMs: 60_000,
  });

  const tmp = (prefix: string): string => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };

  /**
   * stand in for a batch job's containers: run each task's argv from the registered job (prestart, main, then poststop,
   * as Nomad orders them), `/alloc/data` mapped to `alloc` and `/data` (the volume) to `volume`, with the task's Env, the
   * secrets its templates render (S3 keys, the engine's connection) and rclone's endpoint. Returns the first failure.
   */
  async function playJob(job: any, o: { alloc: string; volume?: string; engineEnv: Record<string, string> }): Promise<string | null> {
    const tasks: any[] = job.TaskGroups[0].Tasks;
    const phase = (t: any): number => (t.Lifecycle?.Hook === 'prestart' ? 0 : t.Lifecycle?.Hook === 'poststop' ? 2 : 1);
    let failure: string | null = null;
    for (const t of [...tasks].sort((a, b) => phase(a) - phase(b))) {
      if (failure && phase(t) < 2) continue;
      // A path is an argument or an option's value (`--file=/alloc/data/dump.pgc`).
      const argv = [...t.Config.entrypoint, ...t.Config.args].map((a: string) => a
        .replace(new RegExp(`(^|=)${ALLOC_DATA}(?=/|$)`), `$1${o.alloc}`)
        .replace(/(^|=)\/data(?=\/|$)/, (_m, p: string) => `${p}${o.volume ?? '/data'}`));
      const env = { ...t.Env, RCLONE_CONFIG_DROVER_ENDPOINT: s3.endpoint, ...s3.rcloneSecrets, ...o.engineEnv };
      const r = await run(interpolate(argv, env), env);
      if (r.code !== 0 && phase(t) < 2) failure = `${t.Name}: ${argv[0]} exited ${r.code ?? r.signal}: ${r.stderr.slice(0, 500)}`;
    }
    return failure;
  }

  /** backUp requests a backup of `databaseId` and runs it, its job played against the real source server. */
  async function backUp(databaseId: string, name: string, engine: 'postgres' | 'redis', sourceEnv: Record<string, string>): Promise<string> {
    const b = await ok(owner.post(`/api/databases/${databaseId}/backups`, { destinationId }), 202);
    const file = engine === 'postgres' ? 'dump.pgc' : 'dump.rdb';
    const ungate = double.control.gateBatch(auxJobId(jobId('shop', 'production', name, databaseId), 'backup', b.id), async (a) => {
      const alloc = tmp('drover-alloc-');
      const failure = await playJob(double.control.job(a.jobId, a.namespace), { alloc, engineEnv: sourceEnv });
      // Drover reads the dump file through Nomad's fs API: the double serves what the dump task wrote.
      double.control.writeFile(a.id, `alloc/data/${file}`, readFileSync(join(alloc, file)));
      return failure ? 'crash' : undefined;
    }, ns);
    try {
      assert.equal(await runner().runQueued(), 1);
    } finally {
      ungate();
    }
    const done = await ok(owner.get(`/api/backups/${b.id}`));
    assert.equal(done.status, 'succeeded', done.reason);
    return b.id;
  }

  /** restoreNew restores `backupId` into a new database named `name` and runs it, its restore job played by `play`. */
  async function restoreNew(backupId: string, name: string, play: (job: any) => Promise<string | null>): Promise<{ check: any; db: any }> {
    const r = await ok(owner.post(`/api/backups/${backupId}/restore`, { target: 'new', name }), 202);
    assert.equal(r.intoNewDatabase, true);
    assert.equal(r.status, 'queued');
    const queued = await ok(owner.get(`/api/databases/${r.databaseId}`));
    assert.deepEqual(queued.restore, { backupId, status: 'restoring', reason: null });
    const ungate = double.control.gateBatch(auxJobId(jobId('shop', 'production', name, r.databaseId), 'restore', r.id), async (a) => {
      const failure = await play(double.control.job(a.jobId, a.namespace));
      return failure ? 'crash' : undefined;
    }, ns);
    try {
      assert.equal(await runner().runChecks(), 1);
    } finally {
      ungate();
    }
    const check = (await ok(owner.get(`/api/backups/${backupId}`))).checks.find((c: any) => c.id === r.id);
    return { check, db: await ok(owner.get(`/api/databases/${r.databaseId}`)) };
  }

  /** jobWrites lists the job registrations and deregistrations the double received for `job`. */
  const jobWrites = (job: string): string[] => double.control.requests()
    .filter((c) => (c.method === 'DELETE' && c.path.startsWith(`/v1/job/${job}`)) || ((c.method === 'PUT' || c.method === 'POST') && (c.body as { Job?: { ID?: string } } | undefined)?.Job?.ID === job))
    .map((c) => `${c.method} ${c.path}`);

  const registrationsOf = (job: string): number => jobWrites(job).filter((w) => !w.startsWith('DELETE')).length;

  it('Postgres: the new database holds the source’s data, the source is unchanged and untouched; a restore that fails marks the new database failed', async () => {
    const source = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'orders', engine: 'postgres', version: '15' }), 201);
    const pg: Postgres = await startPostgres();
    const target: Postgres = await startPostgres();
    try {
      await pg.psql(`CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
        INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 300) g;
        CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, total numeric(10,2));
        INSERT INTO orders (customer, total) SELECT 1 + g % 300, g * 1.5 FROM generate_series(1, 5000) g;`);
      const snapshot = (server: Postgres) => server.psql("SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM customers c UNION ALL SELECT md5(string_agg(o::text, ',' ORDER BY id)) FROM orders o");
      const before = await snapshot(pg);
      const backupId = await backUp(source.id, 'orders', 'postgres', pg.env);
      const sourceJob = jobId('shop', 'production', 'orders', source.id);
      const sourceWrites = jobWrites(sourceJob);

      // The new database's server is `target` (what Nomad would start from its job); the restore job's argv runs against it.
      const { check, db } = await restoreNew(backupId, 'orders-copy', (job) => playJob(job, { alloc: tmp('drover-alloc-'), engineEnv: target.env }));
      assert.equal(check.status, 'succeeded', check.reason);
      assert.equal(check.safetyBackupId, null, 'no safety backup: the source is not restored into');
      assert.deepEqual(db.restore, { backupId, status: 'succeeded', reason: null });
      assert.equal(db.engine, 'postgres');
      assert.equal(db.version, '15');
      assert.equal(db.status, 'live');
      assert.equal(await snapshot(target), before, 'the new database holds the source’s data');
      assert.equal(await snapshot(pg), before, 'the source is unchanged');
      assert.deepEqual(jobWrites(sourceJob), sourceWrites, 'the source database’s job was neither registered nor stopped');
      assert.equal((await ok(owner.get(`/api/databases/${source.id}`))).restore, null);
      assert.equal((await ok(owner.get(`/api/backups/${backupId}`))).checks.filter((c: any) => c.safetyBackupId).length, 0);
      // Its own volume and credentials: a second volume was created, named for the new database.
      const newJob = jobId('shop', 'production', 'orders-copy', db.id);
      const creates = double.control.requests().filter((c) => c.method === 'PUT' && /\/v1\/volume\/host\/create/.test(c.path) && c.status === 200)
        .map((c) => (c.body as { Volume?: { Name?: string } }).Volume?.Name ?? '');
      assert.ok(creates.some((n) => n.includes(newJob.slice(0, 20))), `a volume for the new database was created (${creates.join(', ')})`);
      // That volume as Nomad reported it when the runner deployed the new database (mkdir: CapacityBytes 0, size not enforced).
      const viewed = await ok(owner.get(`/api/databases/${db.id}`));
      assert.equal(viewed.volume.capacityBytes, 0);
      assert.ok(viewed.volume.nodeId, 'the node holding the new volume');
      assert.match(viewed.warnings[0] ?? '', /^size not enforced/);
      const srcCreds = await ok(owner.post(`/api/databases/${source.id}/credentials/reveal`, {}));
      const newCreds = await ok(owner.post(`/api/databases/${db.id}/credentials/reveal`, {}));
      assert.notEqual(newCreds.password, srcCreds.password, 'the new database has its own credentials');

      // The name is the new database's: taken names and a missing name are refused before anything is created.
      const taken = await owner.post(`/api/backups/${backupId}/restore`, { target: 'new', name: 'orders' });
      assert.equal(taken.status, 409, taken.text);
      const unnamed = await owner.post(`/api/backups/${backupId}/restore`, { target: 'new' });
      assert.equal(unnamed.status, 422, unnamed.text);
      assert.match(unnamed.text, /body\.name/);

      // Deploy permission on the backup and on the target environment, of the backup's team; refused before anything is made.
      const count = async () => (await ok(owner.get(`/api/environments/${envId}/databases?limit=100`))).items.length;
      const before2 = await count();
      const viewer = await inviteAndJoin(app, owner, teamId, 'viewer@example.test', 'viewer');
      const byViewer = await viewer.client.post(`/api/backups/${backupId}/restore`, { target: 'new', name: 'viewer-copy' });
      assert.equal(byViewer.status, 403, byViewer.text);
      const elsewhere = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: 'elsewhere' }), 201);
      const elsewhereEnv = (await ok(owner.get(`/api/projects/${elsewhere.id}/environments`))).items[0].id;
      const member = await inviteAndJoin(app, owner, teamId, 'member@example.test', 'member', [projectId]);
      const intoOther = await member.client.post(`/api/backups/${backupId}/restore`, { target: 'new', name: 'member-copy', environmentId: elsewhereEnv });
      assert.equal(intoOther.status, 404, intoOther.text);
      const team2 = await ok(owner.post('/api/teams', { name: 'Second team' }), 201);
      const p2 = await ok(owner.post(`/api/teams/${team2.id}/projects`, { slug: 'foreign' }), 201);
      const foreignEnv = (await ok(owner.get(`/api/projects/${p2.id}/environments`))).items[0].id;
      const intoForeign = await owner.post(`/api/backups/${backupId}/restore`, { target: 'new', name: 'foreign-copy', environmentId: foreignEnv });
      assert.equal(intoForeign.status, 404, intoForeign.text);
      assert.equal((await ok(owner.get(`/api/environments/${foreignEnv}/databases`))).items.length, 0);
      assert.equal(await count(), before2, 'nothing was created by a refused restore');
      // Into another environment of the team, by a member who may deploy there: allowed (queued; not run here).
      const intoElsewhere = await ok(owner.post(`/api/backups/${backupId}/restore`, { target: 'new', name: 'orders-staging', environmentId: elsewhereEnv }), 202);
      const staged = await ok(owner.get(`/api/databases/${intoElsewhere.databaseId}`));
      assert.equal(staged.environmentId, elsewhereEnv);
      assert.equal(staged.projectId, elsewhere.id);
      // Removed before the runner took it: nothing is deployed for it, and it is marked failed with the reason.
      await ok(owner.request('DELETE', `/api/databases/${staged.id}`), 204);
      assert.equal(await runner().runChecks(), 1);
      const stagedAfter = await ok(owner.get(`/api/databases/${staged.id}`));
      assert.equal(stagedAfter.restore.status, 'failed');
      assert.match(stagedAfter.restore.reason, /removed before the restore ran/);
      assert.equal(registrationsOf(jobId('elsewhere', 'production', 'orders-staging', staged.id)), 0);

      // A restore that really fails (the new database's server is down: pg_restore cannot connect) marks it failed.
      await target.stop();
      const failed = await restoreNew(backupId, 'orders-broken', (job) => playJob(job, { alloc: tmp('drover-alloc-'), engineEnv: target.env }));
      assert.equal(failed.check.status, 'failed');
      assert.match(failed.check.reason, /restore into the new database failed: the restore task exited with code 1/);
      assert.equal(failed.db.restore.status, 'failed');
      assert.equal(failed.db.restore.reason, failed.check.reason);
      assert.equal(await snapshot(pg), before, 'the source is unchanged');
      assert.deepEqual(jobWrites(sourceJob), sourceWrites);
      assert.deepEqual(double.control.volumeDeletes(), []);
    } finally {
      await target.stop();
      await pg.stop();
    }
  });

  it('Redis: the new database is deployed, stopped, the RDB placed and started again; it holds the source’s keys and the source is unchanged', async () => {
    const source = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'cache', engine: 'redis', version: '7' }), 201);
    const redis: Redis = await startRedis();
    dirs.push(redis.dir);
    // The new database's server: started on its (empty) volume when the new database is deployed, as Nomad would.
    const target: Redis = await startRedis();
    dirs.push(target.dir);
    let restarted: Redis | null = null;
    try {
      for (let i = 0; i < 200; i++) await redis.cli('SET', `key:${i}`, `value-${i}`);
      await redis.cli('HSET', 'user:1', 'name', 'Ada');
      const keys = Number((await redis.cli('DBSIZE')).trim());
      const backupId = await backUp(source.id, 'cache', 'redis', redis.env);
      const sourceJob = jobId('shop', 'production', 'cache', source.id);
      const sourceWrites = jobWrites(sourceJob);

      let stoppedBefore = false;
      const { check, db } = await restoreNew(backupId, 'cache-copy', async (job) => {
        // Drover stopped the new database's job before registering the restore job: its server is down.
        const newJob = job.Meta['drover.database'] ? jobId('shop', 'production', 'cache-copy', job.Meta['drover.database']) : '';
        stoppedBefore = double.control.requests().some((c) => c.method === 'DELETE' && c.path.startsWith(`/v1/job/${newJob}`));
        await target.stop();
        return playJob(job, { alloc: tmp('drover-alloc-'), volume: target.dir, engineEnv: target.env });
      });
      assert.equal(check.status, 'succeeded', check.reason);
      assert.ok(stoppedBefore, 'the new database was stopped before the RDB was placed');
      assert.deepEqual(db.restore, { backupId, status: 'succeeded', reason: null });
      const newJob = jobId('shop', 'production', 'cache-copy', db.id);
      const writes = jobWrites(newJob);
      assert.match(writes.at(-1) ?? '', /^(PUT|POST) /, `started again after the restore (${writes.join(', ')})`);
      // Started again on its volume, it holds the source's keys.
      restarted = await startRedis({ dir: target.dir, password: target.env.REDISCLI_AUTH! });
      assert.equal(Number((await restarted.cli('DBSIZE')).trim()), keys);
      assert.equal((await restarted.cli('HGET', 'user:1', 'name')).trim(), 'Ada');
      assert.equal(Number((await redis.cli('DBSIZE')).trim()), keys, 'the source is unchanged');
      assert.deepEqual(jobWrites(sourceJob), sourceWrites, 'the source database’s job was neither registered nor stopped');
      // The reconciler knows the jobs the backup runner registered (the new database's, the backup and restore jobs):
      // none is an orphan, so none is purged even with orphan removal on.
      const reconciler = new Reconciler({ dataSource: app.db.dataSource, store: new DeploymentStore(app.db.dataSource), nomad, bus: createMemoryCoordination().events, logger: pino({ level: 'silent' }) }, { removeOrphans: true });
      const report = await reconciler.reconcileOnce();
      assert.equal(report.ran, true);
      assert.deepEqual(report.orphans, []);
      assert.equal(double.control.job(newJob, ns)?.Stop ?? false, false, 'the new database still runs');
      assert.deepEqual(double.control.volumeDeletes(), []);
    } finally {
      await restarted?.stop();
      await target.stop();
      await redis.stop();
    }
  });
});
