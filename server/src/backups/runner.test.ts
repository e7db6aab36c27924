/**
 * The backup runner end to end: a backup requested over the API is claimed, run as a Nomad batch job on the Nomad
 * double, judged through Nomad's fs API and a real S3-compatible server, and its verdict recorded; a dump task that
 * fails makes the record `failed` even though the object was uploaded.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { jobId, namespaceName } from '@drover/scheduler/compiler/names.ts';
import { auxJobId } from '@drover/scheduler/databases/jobs.ts';
import { planSettings } from '@drover/scheduler/manifest/to-state.ts';
import { DUMP_FILES, rcloneEnv, uploadArgv } from '@drover/scheduler/databases/argv.ts';
import { systemClock } from '../core/clock.ts';
import { createMemoryCoordination } from '../platform/coordination/index.ts';
import { subscribeDeploymentEvents, type DeploymentBusEvent } from '../deployments/events.ts';
import { digestObject } from './s3.ts';
import aws4 from 'aws4';
import { Client, setupOwner, startTestApp, type TestApp } from '../testing/app.ts';
import { BackupRunner as Sut } from './runner.ts';
import { runOk, startS3, type S3 } from './testing/engines.ts';

describe('backup runner', () => {
  let app: TestApp;
  let owner: Client;
  let double: NomadDouble;
  let nomad: NomadClient;
  let s3: S3;
  let work: string;
  let databaseId: string;
  let destinationId: string;
  let ns: string;

  before(async () => {
    app = await startTestApp();
    const o = await setupOwner(app);
    owner = o.client;
    const team = (await owner.get(`/api/teams/${o.teamId}`)).body;
    ns = namespaceName(team.slug, team.id);
    double = await startNomadDouble({ namespaces: [ns], stepMs: 150 });
    nomad = new NomadClient({ address: double.url, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } });
    s3 = await startS3();
    work = mkdtempSync(join(tmpdir(), 'drover-runner-'));
    const p = await owner.post(`/api/teams/${o.teamId}/projects`, { slug: 'shop' });
    const env = (await owner.get(`/api/projects/${p.body.id}/environments`)).body.items[0].id;
    databaseId = (await owner.post(`/api/environments/${env}/databases`, { name: 'main', engine: 'redis' })).body.id;
    destinationId = (await owner.post(`/api/teams/${o.teamId}/backup-destinations`, {
      name: 'local', endpoint: s3.endpoint, bucket: s3.bucket, accessKeyId: s3.credentials.accessKeyId, secretAccessKey: s3.credentials.secretAccessKey,
    })).body.id;
  });
  after(async () => {
    await double.close();
    await s3.close();
    await app.close();
    rmSync(work, { recursive: true, force: true });
  });

  const sut = (): Sut => new Sut({
    dataSource: app.db.dataSource, nomad, settings: planSettings({ appsDomain: 'apps.example.test', secrets: { kind: 'nomad' }, nodePool: 'default', constraints: [] }),
    volumePlugin: 'mkdir', secrets: app.services.projectDomains.secrets, access: app.services.access, audit: app.services.audit, clock: systemClock, pollMs: 20, batchTimeoutMs: 20_000,
  });

  /**
   * stand in for the containers: upload with the job's rclone argv, and put the dump file in the allocation while the
   * double holds it running (gateBatch), so the file is there before the dump task ends, however slow the machine.
   * The returned function waits until the allocation was played and removes the gate.
   */
  async function play(backupId: string, bytes: Buffer): Promise<() => Promise<void>> {
    const key = `drover/${ns}/${databaseId}/${backupId}/${DUMP_FILES.redis}`;
    const file = join(work, `${backupId}.rdb`);
    writeFileSync(file, bytes);
    await runOk(uploadArgv(file, s3.bucket, key), { ...rcloneEnv(s3.endpoint, ''), ...s3.rcloneSecrets });
    let played!: () => void;
    const done = new Promise<void>((resolve) => { played = resolve; });
    const ungate = double.control.gateBatch(auxJobId(jobId('shop', 'production', 'main', databaseId), 'backup', backupId), (a) => {
      double.control.writeFile(a.id, `alloc/data/${DUMP_FILES.redis}`, bytes);
      played();
    }, ns);
    return async () => {
      await done;
      ungate();
    };
  }

  it('queues scheduled backups when the cron fires, prunes beyond the retention count and raises backup.failed', async () => {
    const r = await owner.request('PUT', `/api/databases/${databaseId}/backup-schedule`, { destinationId, cron: '* * * * *', keep: 1 });
    assert.equal(r.status, 200, r.text);
    const bus = createMemoryCoordination().events;
    const seen: DeploymentBusEvent[] = [];
    const unsubscribe = await subscribeDeploymentEvents(bus, (e) => seen.push(e));
    let at = Date.now();
    const clock = { now: () => new Date(at) };
    const runner = new Sut({
      dataSource: app.db.dataSource, nomad, settings: planSettings({ appsDomain: 'apps.example.test', secrets: { kind: 'nomad' }, nodePool: 'default', constraints: [] }),
      volumePlugin: 'mkdir', secrets: app.services.projectDomains.secrets, access: app.services.access, audit: app.services.audit, clock, pollMs: 20, batchTimeoutMs: 20_000, bus,
    });
    const scheduled = async (): Promise<{ id: string; status: string; objectKey: string | null; prunedAt: string | null; reason: string | null }[]> =>
      (await owner.get(`/api/databases/${databaseId}/backups?limit=100`)).body.items.filter((x: { trigger: string }) => x.trigger === 'schedule');

    assert.equal(await runner.queueScheduled(), 0, 'the cron has not fired since the schedule was saved');
    at += 61_000;
    assert.equal(await runner.queueScheduled(), 1);
    assert.equal(await runner.queueScheduled(), 0, 'one backup per firing');
    const first = (await scheduled())[0]!;
    const played = await play(first.id, randomBytes(5_000));
    await runner.tick();
    await played();
    at += 61_000;
    assert.equal(await runner.queueScheduled(), 1);
    const second = (await scheduled()).find((x) => x.id !== first.id)!;
    const played2 = await play(second.id, randomBytes(6_000));
    await runner.tick();
    await played2();
    const after2 = await scheduled();
    assert.equal(after2.find((x) => x.id === second.id)?.status, 'succeeded');
    const old = after2.find((x) => x.id === first.id)!;
    assert.equal(old.status, 'succeeded');
    assert.ok(old.prunedAt, 'the backup beyond keep=1 is marked pruned');
    const gone = await digestObject({ endpoint: s3.endpoint, region: '', bucket: s3.bucket, key: old.objectKey ?? '' }, s3.credentials);
    assert.equal(gone.ok ? 'present' : gone.missing ? 'missing' : gone.error, 'missing', 'its object is deleted from the destination');
    const kept = await digestObject({ endpoint: s3.endpoint, region: '', bucket: s3.bucket, key: after2.find((x) => x.id === second.id)?.objectKey ?? '' }, s3.credentials);
    assert.ok(kept.ok, 'the newest backup is kept');

    // A scheduled run whose dump task fails is recorded failed and raises backup.failed with its reason.
    at += 61_000;
    assert.equal(await runner.queueScheduled(), 1);
    const third = (await scheduled()).find((x) => x.id !== first.id && x.id !== second.id)!;
    double.control.setScenario(auxJobId(jobId('shop', 'production', 'main', databaseId), 'backup', third.id), 'crash', ns);
    const played3 = await play(third.id, randomBytes(1_000));
    await runner.tick();
    await played3();
    assert.equal((await scheduled()).find((x) => x.id === third.id)?.status, 'failed');
    await new Promise((resolve) => setTimeout(resolve, 50));
    const failed = seen.filter((e) => e.type === 'backup.failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]?.serviceId, databaseId);
    assert.match(failed[0]?.reason ?? '', new RegExp(`${third.id}.*dump task exited with code 1`));
    assert.equal((await scheduled()).find((x) => x.id === second.id)?.prunedAt, null, 'a failed run never prunes the last good backup');
    await unsubscribe();
  });

  /** putObject stores bytes at key in the loopback S3 (what the upload task does), signed like any client. */
  async function putObject(key: string, bytes: Buffer): Promise<void> {
    const u = new URL(s3.endpoint);
    const path = `/${s3.bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
    const signed = aws4.sign({ host: u.host, path, method: 'PUT', service: 's3', region: 'us-east-1', body: bytes, headers: {} }, s3.credentials);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(signed.headers ?? {})) if (k !== 'Host') headers[k] = String(v);
    const r = await fetch(`${s3.endpoint}${path}`, { method: 'PUT', headers, body: new Uint8Array(bytes) });
    assert.equal(r.status, 200, await r.text());
  }

  /**
   * stand in for every container of the batch jobs registered while `during` runs, while the double holds each batch
   * allocation running (gateBatch): each backup job's dump file is uploaded and put in its allocation, each verify
   * job's check task prints Redis's keyspace — before their tasks end, however slow the machine. Returns the job IDs
   * played, in the order their allocations ran.
   */
  async function playAll<T>(during: () => Promise<T>, bytes: Buffer): Promise<{ result: T; jobs: string[] }> {
    const jobs: string[] = [];
    const ungate = double.control.gateBatch(jobId('shop', 'production', 'main', databaseId), async (a) => {
      jobs.push(a.jobId);
      const job = (await nomad.jobs.info(a.jobId, { namespace: ns })).data;
      const id = (job.Meta as Record<string, string> | undefined)?.['drover.deployment'] ?? '';
      if (a.jobId.includes('-backup-')) {
        await putObject(`drover/${ns}/${databaseId}/${id}/${DUMP_FILES.redis}`, bytes);
        double.control.writeFile(a.id, `alloc/data/${DUMP_FILES.redis}`, bytes);
      } else if (a.jobId.includes('-verify-')) {
        double.control.writeFile(a.id, 'alloc/logs/check.stdout.0', '# Keyspace\ndb0:keys=42,expires=0,avg_ttl=0\n');
      }
    }, ns);
    try {
      return { result: await during(), jobs };
    } finally {
      ungate();
    }
  }

  it('verifies a backup into a scratch instance and restores one into its database after a safety backup', async () => {
    const b = (await owner.post(`/api/databases/${databaseId}/backups`, { destinationId })).body;
    const bytes = randomBytes(4_000);
    await playAll(() => sut().runQueued(), bytes);
    assert.equal((await owner.get(`/api/backups/${b.id}`)).body.status, 'succeeded');

    const v = await owner.post(`/api/backups/${b.id}/verify`, {});
    assert.equal(v.status, 202, v.text);
    const ran = await playAll(() => sut().runChecks(), bytes);
    assert.equal(ran.result, 1);
    assert.ok(ran.jobs.some((j) => j.includes('-verify-')), 'a verify job ran');
    const afterVerify = (await owner.get(`/api/backups/${b.id}`)).body;
    const check = afterVerify.checks.find((c: { id: string }) => c.id === v.body.id);
    assert.equal(check.status, 'succeeded', check.reason);
    assert.deepEqual(check.counts, { db0: 42 }, 'the counts found are recorded next to the backup');

    const r = await owner.post(`/api/backups/${b.id}/restore`, {});
    assert.equal(r.status, 202, r.text);
    const restored = await playAll(() => sut().runChecks(), bytes);
    const restore = (await owner.get(`/api/backups/${b.id}`)).body.checks.find((c: { id: string }) => c.id === r.body.id);
    assert.equal(restore.status, 'succeeded', restore.reason);
    assert.ok(restore.safetyBackupId, 'a safety backup was taken');
    const safety = (await owner.get(`/api/backups/${restore.safetyBackupId}`)).body;
    assert.equal(safety.trigger, 'safety');
    assert.equal(safety.status, 'succeeded', safety.reason);
    const order = restored.jobs.map((j) => (j.includes('-backup-') ? 'backup' : j.includes('-restore-') ? 'restore' : 'other'));
    assert.deepEqual(order.filter((x) => x !== 'other'), ['backup', 'restore'], 'the safety backup ran before the restore');

    // When the safety backup fails (nothing plays its containers: no dump file, no object), nothing is restored.
    const r2 = await owner.post(`/api/backups/${b.id}/restore`, {});
    const seenBefore = new Set((await nomad.jobs.list({ namespace: ns })).data.map((j) => j.ID));
    await sut().runChecks();
    const failed = (await owner.get(`/api/backups/${b.id}`)).body.checks.find((c: { id: string }) => c.id === r2.body.id);
    assert.equal(failed.status, 'failed');
    assert.match(failed.reason, /safety backup failed.*nothing was restored/);
    const newJobs = (await nomad.jobs.list({ namespace: ns })).data.map((j) => j.ID ?? '').filter((j) => !seenBefore.has(j));
    assert.equal(newJobs.filter((j) => j.includes('-restore-')).length, 0, 'no restore job after a failed safety backup');

    // Only a succeeded backup can be restored or verified.
    const queued = (await owner.post(`/api/databases/${databaseId}/backups`, { destinationId })).body;
    const refused = await owner.post(`/api/backups/${queued.id}/restore`, {});
    assert.equal(refused.status, 409);
    assert.match(refused.text, /backup\/not_ready|not_ready/);
    await sut().runQueued();
    assert.deepEqual(double.control.volumeDeletes(), []);
  });

  it('records succeeded with the size and SHA-256 of the dump file, and failed when the dump task failed', async () => {
    const good = (await owner.post(`/api/databases/${databaseId}/backups`, { destinationId })).body;
    const bytes = randomBytes(120_000);
    const played = await play(good.id, bytes);
    assert.equal(await sut().runQueued(), 1);
    await played();
    const list = (await owner.get(`/api/databases/${databaseId}/backups`)).body.items;
    const g = list.find((x: { id: string }) => x.id === good.id);
    assert.equal(g.status, 'succeeded', g.reason);
    assert.equal(g.sizeBytes, bytes.byteLength);
    assert.match(g.sha256, /^[0-9a-f]{64}$/);
    assert.equal(await sut().runQueued(), 0, 'nothing left queued');

    // The dump task exits 1 (the double's crash scenario); the poststop uploader's object is there and even matches.
    const bad = (await owner.post(`/api/databases/${databaseId}/backups`, { destinationId })).body;
    double.control.setScenario(auxJobId(jobId('shop', 'production', 'main', databaseId), 'backup', bad.id), 'crash', ns);
    const played2 = await play(bad.id, bytes);
    assert.equal(await sut().runQueued(), 1);
    await played2();
    const b = (await owner.get(`/api/databases/${databaseId}/backups`)).body.items.find((x: { id: string }) => x.id === bad.id);
    assert.equal(b.status, 'failed');
    assert.match(b.reason, /dump task exited with code 1/);
    assert.deepEqual(double.control.volumeDeletes(), []);
  });
});
