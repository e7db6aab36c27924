/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API and jobs the double holds */
/**
 * A major database upgrade through the deployment engine, over HTTP: the real app on a fresh Postgres, the Nomad double
 * and a real S3-compatible server (s3rver) on loopback. Recording Postgres 16 → 17 and deploying backs up the old
 * version (a record with trigger `upgrade`), creates a SECOND host volume, runs the restore job with the new version's
 * image, and the deployment turns healthy with 17 on the new volume while the old volume stays (no delete reaches
 * the double). A failing restore fails the deployment with the reason and puts 16 back on the volume holding its data.
 * A redeploy on the same major (the image tag follows minor releases) keeps the volume in place.
 *
 * The double runs no containers: its batch gate stands in for them, running the jobs' own rclone argv (upload after
 * the dump, download before the restore) against s3rver and putting the dump file in the allocation, where Drover
 * reads it through Nomad's fs API. The dump and restore themselves run for real across two Postgres majors in
 * upgrade-engines.test.ts (15 → 18, with the 15 client tools: the new major's are not installable here); the
 * cross-version images and argv of the jobs are checked in scheduler/src/databases/jobs.test.ts.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Scenario } from '@drover/scheduler/testing/nomad-double/index.ts';
import { jobId as makeJobId } from '@drover/scheduler/compiler/names.ts';
import { ALLOC_DATA, DUMP_FILES } from '@drover/scheduler/databases/argv.ts';
import { expectStatus, waitForDeployment, type Client, type TestApp } from '../testing/app.ts';
import { startDeployStack, type DeployStack } from '../testing/stack.ts';
import { runOk, startS3, type S3 } from '../backups/testing/engines.ts';
import { DatabaseEntity } from './database.entity.ts';

let stack: DeployStack;
let nomad: DeployStack['nomad'];
let sut: TestApp;
let owner: Client;
let teamId: string;
let ns: string;
let s3: S3;
let work: string;
let destinationId: string;

const ok = expectStatus;

before(async () => {
  stack = await startDeployStack({ stepMs: 60 });
  ({ nomad, sut, owner, teamId, ns } = stack);
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'drover-upgrade-'));
  destinationId = (await ok(owner.post(`/api/teams/${teamId}/backup-destinations`, {
    name: 'local', endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey,
  }), 201)).id;
});

after(async () => {
  await stack?.close();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** An environment with a Postgres 16 database `slug` (backup destination set) and a service referencing it, deployed healthy. */
async function setup(project: string): Promise<{ db: any; svc: any; dbJob: string }> {
  const p = await ok(owner.post(`/api/teams/${teamId}/projects`, { slug: project }), 201);
  const envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
  const db = await ok(owner.post(`/api/environments/${envId}/databases`, { name: 'pg', engine: 'postgres', version: '16' }), 201);
  await ok(owner.request('PUT', `/api/databases/${db.id}/backup-schedule`, { destinationId, cron: '0 3 * * *', keep: 3 }));
  const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'api', image: 'ghcr.io/acme/api:1.0', port: 8080 }), 201);
  await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { DATABASE_URL: '${{ pg.DATABASE_URL }}' } }));
  const first = await deploy(svc.id);
  assert.equal(first.state, 'healthy', first.reason);
  return { db, svc, dbJob: makeJobId(project, 'production', 'pg', db.id) };
}

async function deploy(serviceId: string): Promise<Record<string, any>> {
  const d = await ok(owner.post(`/api/services/${serviceId}/deployments`, {}), 202);
  return waitForDeployment(owner, d.id, ['healthy', 'failed', 'cancelled'], 60_000);
}

const creates = (): any[] => nomad.control.requests().filter((c) => c.method === 'PUT' && c.path === '/v1/volume/host/create' && c.status === 200).map((c) => (c.body as any).Volume);
const volumeNames = (): string[] => [...nomad.control.state.volumes.values()].filter((v) => v.Namespace === ns).map((v) => String(v.Name));
const argvOf = (task: any): string[] => [task.Config.entrypoint[0], ...task.Config.args];
const taskOf = (job: any, name: string): any => job.TaskGroups[0].Tasks.find((t: any) => t.Name === name);
const registered = (prefix: string): any[] => nomad.control.requests()
  .filter((c) => c.method === 'PUT' && c.path === '/v1/jobs' && c.status === 200 && String((c.body as any)?.Job?.ID ?? '').startsWith(prefix)).map((c) => (c.body as any).Job);

/**
 * standIn gates the backup and restore jobs of `dbJob`: the backup's dump task "writes" `dump` into the allocation and
 * its upload task runs the job's own rclone argv on it; the restore's download task runs the job's own rclone argv
 * and records what it fetched, and its restore task ends as `restoreEnds` says.
 */
function standIn(dbJob: string, dump: Buffer, restoreEnds: Scenario | undefined): { fetched: Buffer[]; restoreImages: string[]; liveAtBackup: string[]; done: () => void } {
  const fetched: Buffer[] = [];
  const restoreImages: string[] = [];
  const liveAtBackup: string[] = [];
  const env = (task: any): Record<string, string> => ({ ...task.Env, RCLONE_CONFIG_DROVER_ENDPOINT: new URL(s3.endpoint).origin, ...s3.rcloneSecrets });
  const local = (name: string): string => join(work, `${name}-${randomBytes(4).toString('hex')}`);
  const ungateBackup = nomad.control.gateBatch(`${dbJob}-backup-`, async (a) => {
    const job = nomad.control.job(a.jobId, a.namespace) as any;
    // What the dump would reach over the network: the database job running when the backup runs.
    liveAtBackup.push((nomad.control.job(dbJob, ns) as any).TaskGroups[0].Tasks[0].Config.image);
    nomad.control.writeFile(a.id, `alloc/data/${DUMP_FILES.postgres}`, dump);
    const file = local('dump');
    writeFileSync(file, dump);
    await runOk(argvOf(taskOf(job, 'upload')).map((x) => (x === `${ALLOC_DATA}/${DUMP_FILES.postgres}` ? file : x)), env(taskOf(job, 'upload')));
  }, ns);
  const ungateRestore = nomad.control.gateBatch(`${dbJob}-restore-`, async (a) => {
    const job = nomad.control.job(a.jobId, a.namespace) as any;
    restoreImages.push(taskOf(job, 'restore').Config.image);
    const file = local('restore');
    await runOk(argvOf(taskOf(job, 'download')).map((x) => (x === `${ALLOC_DATA}/${DUMP_FILES.postgres}` ? file : x)), env(taskOf(job, 'download')));
    fetched.push(readFileSync(file));
    return restoreEnds;
  }, ns);
  return { fetched, restoreImages, liveAtBackup, done: () => { ungateBackup(); ungateRestore(); } };
}

async function row(id: string) {
  return sut.db.dataSource.getRepository(DatabaseEntity).findOneByOrFail({ id });
}

describe('major database upgrade through the deployment engine', () => {
  it('backs up 16, creates a second volume, restores into 17 with its own tools and keeps the old volume; a redeploy on 17 keeps its volume', async () => {
    const { db, svc, dbJob } = await setup('shop');
    const before = creates();
    const oldVolume = (await row(db.id)).volumeId;
    const oldName = (nomad.control.job(dbJob, ns) as any).TaskGroups[0].Volumes.data.Source as string;
    assert.ok(before.some((v) => v.Name === oldName), 'the running 16 mounts the volume the first deploy created');

    const dump = randomBytes(40_000);
    const stand = standIn(dbJob, dump, undefined);
    try {
      await ok(owner.request('PATCH', `/api/databases/${db.id}`, { version: '17' }));
      assert.equal((await row(db.id)).upgradeFromVersion, '16');
      const upgraded = await deploy(svc.id);
      assert.equal(upgraded.state, 'healthy', upgraded.reason);

      // The backup of the old version: recorded with trigger `upgrade`, judged from the dump file and the object read back.
      const backups = (await ok(owner.get(`/api/databases/${db.id}/backups`))).items;
      const up = backups.filter((b: any) => b.trigger === 'upgrade');
      assert.equal(up.length, 1);
      assert.equal(up[0].status, 'succeeded', up[0].reason);
      assert.equal(Number(up[0].sizeBytes), dump.byteLength);
      const backupJobs = registered(`${dbJob}-backup-`);
      assert.equal(backupJobs.length, 1);
      assert.equal(taskOf(backupJobs[0], 'dump').Config.image, 'postgres:16', 'the dump runs the old version\'s tools');

      // A second volume for 17; the restore ran with 17's image and fetched exactly the dump of 16.
      const after = creates();
      assert.equal(after.length, before.length + 1, 'a second volume was created');
      const newName = after.at(-1).Name;
      assert.notEqual(newName, oldName);
      assert.deepEqual(stand.restoreImages, ['postgres:17']);
      assert.equal(stand.fetched.length, 1);
      assert.ok(stand.fetched[0]?.equals(dump), 'the restore downloaded the object the backup uploaded');
      const restoreJob = registered(`${dbJob}-restore-`)[0];
      assert.ok(argvOf(taskOf(restoreJob, 'download')).some((x) => x.endsWith(up[0].objectKey)), 'the restore job reads the upgrade backup');

      // 17 runs on the new volume; the old volume is still there; nothing was deleted; the upgrade is no longer pending.
      const live = nomad.control.job(dbJob, ns) as any;
      assert.equal(live.TaskGroups[0].Tasks[0].Config.image, 'postgres:17');
      assert.equal(live.TaskGroups[0].Volumes.data.Source, newName);
      assert.ok(volumeNames().includes(oldName) && volumeNames().includes(newName), 'both volumes exist');
      assert.deepEqual(nomad.control.volumeDeletes(), []);
      const r = await row(db.id);
      assert.equal(r.upgradeFromVersion, null);
      assert.equal(r.version, '17');
      assert.ok(r.previousVolumeIds.includes(oldVolume), 'the old volume stays recorded');
      const events = (await ok(owner.get(`/api/deployments/${upgraded.id}/events`))).items.map((e: any) => e.message).join(' | ');
      assert.match(events, new RegExp(`registered on volume ${newName}`));

      // A redeploy on 17 (the tag follows minor releases): same volume, no create, no backup, no restore.
      const again = await deploy(svc.id);
      assert.equal(again.state, 'healthy', again.reason);
      assert.equal(creates().length, after.length, 'no volume is created for a minor release');
      assert.equal((nomad.control.job(dbJob, ns) as any).TaskGroups[0].Volumes.data.Source, newName);
      assert.equal(registered(`${dbJob}-backup-`).length, 1);
      assert.equal(registered(`${dbJob}-restore-`).length, 1);
      assert.deepEqual(nomad.control.volumeDeletes(), []);
      assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400).map((c) => `${c.method} ${c.path}`), []);
    } finally {
      stand.done();
    }
  });

  it('a retry after an interrupted attempt backs up the old version: the new version left running is put back to 16 first', async () => {
    const { db, svc, dbJob } = await setup('retry');
    await ok(owner.request('PATCH', `/api/databases/${db.id}`, { version: '17' }));
    // The state an interrupted attempt can leave when Nomad did not answer as 16 was to be put back: 17 runs (here on
    // the old volume; in the attempt on the new, empty one) under another specification.
    const left = structuredClone(nomad.control.job(dbJob, ns)) as any;
    left.TaskGroups[0].Tasks[0].Config.image = 'postgres:17';
    left.Meta = { ...left.Meta, 'drover.spec': 'interrupted-attempt' };
    await sut.services.deployments.nomad.jobs.register(left as never);
    const dump = randomBytes(10_000);
    const stand = standIn(dbJob, dump, undefined);
    try {
      const upgraded = await deploy(svc.id);
      assert.equal(upgraded.state, 'healthy', upgraded.reason);
      assert.deepEqual(stand.liveAtBackup, ['postgres:16'], 'the backup ran while 16 (the data being upgraded) was the database job');
      assert.equal((nomad.control.job(dbJob, ns) as any).TaskGroups[0].Tasks[0].Config.image, 'postgres:17');
      assert.deepEqual(nomad.control.volumeDeletes(), []);
    } finally {
      stand.done();
    }
  });

  it('a failing restore fails the deployment with the reason, keeps the old volume and runs 16 on its data again', async () => {
    const { db, svc, dbJob } = await setup('depot');
    const oldName = (nomad.control.job(dbJob, ns) as any).TaskGroups[0].Volumes.data.Source as string;
    const created = creates().length;
    const dump = randomBytes(20_000);
    const stand = standIn(dbJob, dump, 'crash');
    try {
      await ok(owner.request('PATCH', `/api/databases/${db.id}`, { version: '17' }));
      const failed = await deploy(svc.id);
      assert.equal(failed.state, 'failed');
      assert.match(failed.reason, /major upgrade 16 → 17 failed \(the restore into postgres:17 exited with code 1; postgres:16 runs again on its volume dv-[a-z0-9-]+, which is kept\)/);
      assert.ok(failed.reason.includes(oldName), failed.reason);

      // The backup itself succeeded and says so; the restore ran (and failed) on the new volume.
      const up = (await ok(owner.get(`/api/databases/${db.id}/backups`))).items.filter((b: any) => b.trigger === 'upgrade');
      assert.equal(up.length, 1);
      assert.equal(up[0].status, 'succeeded', up[0].reason);
      assert.deepEqual(stand.restoreImages, ['postgres:17']);
      assert.equal(creates().length, created + 1, 'the new volume was created for the restore');
      const newName = creates().at(-1).Name;

      // 16 is back on the volume that holds its data; both volumes are kept; the upgrade stays pending.
      const live = nomad.control.job(dbJob, ns) as any;
      assert.equal(live.TaskGroups[0].Tasks[0].Config.image, 'postgres:16');
      assert.equal(live.TaskGroups[0].Volumes.data.Source, oldName);
      const dbVersions = registered(dbJob).filter((j) => j.ID === dbJob).map((j) => `${j.TaskGroups[0].Tasks[0].Config.image}@${j.TaskGroups[0].Volumes.data.Source === oldName ? 'old' : 'new'}`);
      assert.deepEqual(dbVersions.slice(-2), ['postgres:17@new', 'postgres:16@old']);
      assert.ok(volumeNames().includes(oldName) && volumeNames().includes(newName));
      assert.deepEqual(nomad.control.volumeDeletes(), []);
      assert.equal((await row(db.id)).upgradeFromVersion, '16', 'the next deploy tries the upgrade again');
    } finally {
      stand.done();
    }
  });
});
