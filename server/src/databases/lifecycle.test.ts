/**
 * The database lifecycle against the Nomad double: volumes are created once and never deleted by deploy, redeploy,
 * remove or a version change (the double records every host volume delete); a major upgrade creates a second volume;
 * a backup's verdict is taken from the dump task's own state, the dump file read through Nomad's fs API and the
 * object read back from a real S3-compatible server (s3rver on loopback).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { startNomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import type { NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { aDatabase, aSettings, aState } from '@drover/scheduler/compiler/fixtures.ts';
import { namespaceName } from '@drover/scheduler/compiler/names.ts';
import type { Database, DesiredState } from '@drover/scheduler/compiler/model.ts';
import type { BackupItemSource, Destination } from '@drover/scheduler/databases/jobs.ts';
import { DUMP_FILES, uploadArgv, rcloneEnv } from '@drover/scheduler/databases/argv.ts';
import { DatabaseLifecycle as Sut } from './lifecycle.ts';
import type { AccessChecker } from '../core/access.ts';
import type { AuditInput } from '../core/audit.ts';
import { runOk, startS3 } from '../backups/testing/engines.ts';
import type { S3 } from '../backups/testing/engines.ts';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Actor } from '../core/actor.ts';

let double: NomadDouble;
let nomad: NomadClient;
let s3: S3;
let work: string;
const state: DesiredState = aState({ services: [], settings: aSettings({ networkMode: 'bridge', serviceProvider: 'nomad', nodePool: 'default', constraints: [] }) });
const ns = namespaceName(state.team.slug, state.team.id);
const audits: AuditInput[] = [];

before(async () => {
  double = await startNomadDouble({ namespaces: [ns], stepMs: 150 });
  nomad = new NomadClient({ address: double.url, retry: { maxAttempts: 2, baseDelayMs: 5, maxDelayMs: 20 } });
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'drover-lifecycle-'));
});
after(async () => {
  await double.close();
  await s3.close();
  rmSync(work, { recursive: true, force: true });
});

// The generated credentials a SecretStore would hold (values never reach a job; they go to Nomad Variables).
const values = new Map<string, string>();
const resolve = async (src: BackupItemSource): Promise<string> => {
  if (src.kind === 'literal') return src.value;
  if (src.kind === 'destination') return src.field === 'ACCESS_KEY_ID' ? s3.credentials.accessKeyId : s3.credentials.secretAccessKey;
  const k = JSON.stringify(src);
  if (!values.has(k)) values.set(k, randomBytes(18).toString('hex'));
  return values.get(k)!;
};
// Owners and admins pass `manage`; the role check itself is the AccessChecker's (tested in authz).
const access: AccessChecker = {
  requireTeam: async () => ({ teamId: state.team.id, role: 'owner' }) as never,
  requireProject: async () => ({ teamId: state.team.id, role: 'owner' }) as never,
};

function sut(): Sut {
  return new Sut({ nomad, volumePlugin: 'mkdir', resolve, access, audit: { record: async (e) => { audits.push(e); } }, pollMs: 20, batchTimeoutMs: 20_000 });
}
const destination = (): Destination => ({ id: 'b0000000-0000-4000-8000-00000000de57', endpoint: s3.endpoint, region: '', bucket: s3.bucket });

async function volumesOf(): Promise<string[]> {
  return (await nomad.hostVolumes.list({}, { namespace: ns })).data.map((v) => v.Name ?? '').sort();
}

const played = new Set<string>();

/**
 * playDump stands in for the containers the double does not run: the upload task's rclone argv uploads the bytes
 * (first: the double's allocation may finish within a few steps), and when the backup's allocation appears the dump
 * task's file is written into it, where the lifecycle reads it through Nomad's fs API.
 */
async function playDump(jobPrefix: string, d: Database, bytes: Buffer, objectKey: string): Promise<() => Promise<void>> {
  const file = join(work, `${played.size}-${Date.now()}.dump`);
  writeFileSync(file, bytes);
  await runOk(uploadArgv(file, s3.bucket, objectKey), { ...rcloneEnv(s3.endpoint, ''), ...s3.rcloneSecrets });
  return placeDump(jobPrefix, d, bytes);
}

function placeDump(jobPrefix: string, d: Database, bytes: Buffer): () => Promise<void> {
  const done = (async () => {
    for (let i = 0; i < 2000; i++) {
      const a = (await nomad.allocations.list({}, { namespace: ns })).data
        .find((x) => (x.JobID ?? '').startsWith(jobPrefix) && (x.JobID ?? '').includes('-backup-') && !played.has(x.ID ?? ''));
      if (a?.ID) {
        played.add(a.ID);
        double.control.writeFile(a.ID, `alloc/data/${DUMP_FILES[d.engine]}`, bytes);
        return;
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    throw new Error('no backup allocation appeared');
  })();
  return () => done;
}

test('deploy creates the volume once and pins the job to its node; redeploy and remove never delete it', async () => {
  const d = aDatabase({ id: '7d2e4b10-0000-4000-8000-0000000001d1', name: 'main', version: '16', volume: { id: '7d2e4b10-0000-4000-8000-0000000001d2', sizeBytes: 1024 ** 3 } });
  const first = await sut().deploy(state, d);
  assert.equal((await volumesOf()).filter((n) => n === first.volume.name).length, 1);
  assert.match(first.volume.warning ?? '', /does not enforce a size/);
  const job = (await nomad.jobs.info(first.jobId, { namespace: ns })).data;
  assert.deepEqual(job.Constraints?.at(-1), { LTarget: '${node.unique.id}', Operand: '=', RTarget: first.volume.nodeId });
  const vars = (await nomad.variables.read(`nomad/jobs/${first.jobId}`, { namespace: ns })).data;
  assert.ok(Object.keys(vars.Items ?? {}).length >= 3, 'credentials are written as Nomad Variables');
  const again = await sut().deploy(state, d);
  assert.equal(again.volume.id, first.volume.id, 'a redeploy reuses the volume');
  await sut().remove(state, d);
  assert.ok((await volumesOf()).includes(first.volume.name), 'removing the database keeps its volume');
  const redeployed = await sut().deploy(state, d);
  assert.equal(redeployed.volume.id, first.volume.id, 'deploying again after a remove finds the data');
  assert.deepEqual(double.control.volumeDeletes(), []);
});

test('a backup succeeds only when the dump task exited 0 and the object read back matches the dump file read through Nomad', async () => {
  const d = aDatabase({ id: '7d2e4b10-0000-4000-8000-0000000002d1', name: 'orders', version: '17', volume: { id: '7d2e4b10-0000-4000-8000-0000000002d2', sizeBytes: 1024 ** 3 } });
  const { database } = await sut().deploy(state, d);
  const bytes = randomBytes(300_000);
  const key = `drover/${ns}/${d.id}/a0000000-0000-4000-8000-0000000002b1/dump.pgc`;
  const played = await playDump('shop-production-orders', d, bytes, key);
  const ok = await sut().backup(state, database, { destination: destination(), backupId: 'a0000000-0000-4000-8000-0000000002b1', credentials: s3.credentials });
  await played();
  assert.equal(ok.objectKey, key);
  assert.equal(ok.verdict.status, 'succeeded', ok.verdict.reason ?? '');
  assert.equal(ok.verdict.digest?.size, bytes.byteLength);

  // The dump task fails (exit 1); the poststop uploader still runs and uploads the partial file: failed.
  const key2 = `drover/${ns}/${d.id}/a0000000-0000-4000-8000-0000000002b2/dump.pgc`;
  const jobId = `shop-production-orders`;
  const child = (await import('@drover/scheduler/databases/jobs.ts')).auxJobId;
  const compiledId = child((await nomad.jobs.list({ namespace: ns })).data.find((j) => (j.ID ?? '').startsWith(jobId) && !(j.ID ?? '').includes('backup'))!.ID!, 'backup', 'a0000000-0000-4000-8000-0000000002b2');
  double.control.setScenario(compiledId, 'crash', ns);
  const played2 = await playDump(compiledId, d, bytes.subarray(0, 1000), key2);
  const bad = await sut().backup(state, database, { destination: destination(), backupId: 'a0000000-0000-4000-8000-0000000002b2', credentials: s3.credentials });
  await played2();
  assert.equal(bad.verdict.status, 'failed');
  assert.match(bad.verdict.reason ?? '', /dump task exited with code 1/);

  // The object is missing (nothing uploaded): failed, naming the read-back.
  const played3 = placeDump('shop-production-orders', d, bytes);
  const missing = await sut().backup(state, database, { destination: destination(), backupId: 'a0000000-0000-4000-8000-0000000002b3', credentials: s3.credentials });
  await played3();
  assert.equal(missing.verdict.status, 'failed');
  assert.match(missing.verdict.reason ?? '', /could not be read back/);
  assert.deepEqual(double.control.volumeDeletes(), []);
});

test('a major version change backs up, creates a second volume, restores into it and keeps the old one; destroying a volume needs the typed name', async () => {
  const d = aDatabase({ id: '7d2e4b10-0000-4000-8000-0000000003d1', name: 'legacy', version: '16', volume: { id: '7d2e4b10-0000-4000-8000-0000000003d2', sizeBytes: 1024 ** 3 } });
  const before = await sut().deploy(state, d);
  const bytes = randomBytes(50_000);
  const backupId = 'a0000000-0000-4000-8000-0000000003b1';
  const played = await playDump('shop-production-legacy', d, bytes, `drover/${ns}/${d.id}/${backupId}/dump.pgc`);
  const r = await sut().changeVersion(state, before.database, '17', {
    newVolumeId: '7d2e4b10-0000-4000-8000-0000000003d3', destination: destination(), backupId, restoreId: 'a0000000-0000-4000-8000-0000000003c1', credentials: s3.credentials,
  });
  await played();
  assert.equal(r.backup?.verdict.status, 'succeeded');
  assert.equal(r.keptVolume?.id, before.volume.id);
  assert.notEqual(r.deployed.volume.id, before.volume.id);
  const names = await volumesOf();
  assert.ok(names.includes(before.volume.name) && names.includes(r.deployed.volume.name), 'both volumes exist');
  const job = (await nomad.jobs.info(r.deployed.jobId, { namespace: ns })).data;
  assert.equal(job.TaskGroups?.[0]?.Volumes?.data?.Source, r.deployed.volume.name);
  assert.equal((job.TaskGroups?.[0]?.Tasks?.[0]?.Config as { image: string }).image, 'postgres:17');
  // A redeploy on the same version: data in place, no new volume.
  const same = await sut().changeVersion(state, r.deployed.database, '17', { newVolumeId: '7d2e4b10-0000-4000-8000-0000000003d4', destination: destination(), backupId, restoreId: 'a0000000-0000-4000-8000-0000000003c2', credentials: s3.credentials });
  assert.equal(same.deployed.volume.id, r.deployed.volume.id);
  assert.deepEqual(double.control.volumeDeletes(), []);

  // Destroying the old volume is the one explicit act: the typed name is required, then it is audited.
  const actor: Actor = { kind: 'session', userId: 'u1', scopes: ['read', 'deploy', 'admin'], ip: '127.0.0.1', requestId: 'r1' };
  const scope = { teamId: state.team.id, projectId: state.project.id };
  await assert.rejects(sut().destroyVolume(actor, scope, state, d, 'legacy2'), { code: 'database/confirmation_mismatch' });
  assert.deepEqual(double.control.volumeDeletes(), []);
  // While the replaced allocation still runs it claims the old volume: refused until it has stopped.
  for (let i = 0; ; i++) {
    const claims = (await nomad.hostVolumes.get(before.volume.id, { namespace: ns })).data.Allocations ?? [];
    if (!claims.some((a) => a?.ClientStatus === 'running' || a?.ClientStatus === 'pending')) break;
    await assert.rejects(sut().destroyVolume(actor, scope, state, d, 'legacy'), { code: 'database/volume_in_use' });
    assert.ok(i < 200, 'the old allocation stops');
    await new Promise((r) => setTimeout(r, 50));
  }
  await sut().destroyVolume(actor, scope, state, d, 'legacy');
  assert.equal(double.control.volumeDeletes().length, 1);
  assert.ok(!(await volumesOf()).includes(before.volume.name));
  assert.ok((await volumesOf()).includes(r.deployed.volume.name));
  assert.equal(audits.at(-1)?.action, 'database.volume_destroyed');
});
