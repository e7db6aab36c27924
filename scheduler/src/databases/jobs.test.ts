import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNomad } from '../contracts/index.ts';
import { validateHostVolumeCreate, validateJob } from '../nomad-validate/index.ts';
import { compile } from '../compiler/index.ts';
import { ENGINES } from '../compiler/database.ts';
import { aDatabase, aSettings, aState, aVaultBackend } from '../compiler/fixtures.ts';
import type { Database, DatabaseEngine, DesiredState } from '../compiler/model.ts';
import type { JobRegisterRequest } from '../compiler/nomad-types.ts';
import {
  compileBackupJob as sut, compileRestoreJob, compileVerifyJob, hostVolumeCreateRequest, volumeCapacityWarning,
  DUMP_TASK, UPLOAD_TASK, CHECK_TASK, RCLONE_IMAGE,
} from './jobs.ts';
import type { CompiledDatabaseJob, Destination } from './jobs.ts';
import { countArgv, downloadArgv, dumpArgv, dumpPath, redisRestoreSteps, restoreArgv, uploadArgv } from './argv.ts';

const ENGINE_LIST: DatabaseEngine[] = ['postgres', 'mysql', 'redis', 'mongodb'];
const NODE = '5e0f7a1c-2b3d-4e5f-8a9b-0c1d2e3f4a5b';
const aDestination = (o: Partial<Destination> = {}): Destination => ({
  id: 'b0000000-0000-4000-8000-00000000de57', endpoint: 'https://s3.example.net', region: 'eu-west-1', bucket: 'acme-backups', ...o,
});
// Credential values a deployer could generate: none may appear in any job JSON.
const SECRET_VALUES = ['S3SECRETKEYa1b2c3', 'AKIAEXAMPLEKEYID', 'dbPassw0rdXYZ'];

function dbOf(engine: DatabaseEngine, o: Partial<Database> = {}): Database {
  return aDatabase({ engine, version: ENGINES[engine].versions.at(-1)!, volume: { id: '7d2e4b10-0000-4000-8000-0000000000d2', sizeBytes: 5 * 1024 ** 3, nodeId: NODE }, ...o });
}

function stateOf(d: Database, o: Partial<DesiredState> = {}): DesiredState {
  return aState({ services: [], databases: [d], ...o });
}

function everyJob(): { name: string; job: CompiledDatabaseJob; d: Database }[] {
  const out: { name: string; job: CompiledDatabaseJob; d: Database }[] = [];
  for (const engine of ENGINE_LIST) {
    for (const version of ENGINES[engine].versions) {
      for (const vault of [false, true]) {
        const d = dbOf(engine, { version });
        const state = stateOf(d, vault ? { settings: aSettings({ secrets: aVaultBackend }), deployment: { id: 'dep-1', vaultKvVersion: 3 } } : {});
        const tag = `${engine} ${version}${vault ? ' vault' : ''}`;
        out.push({ name: `${tag} backup`, d, job: sut(state, d, { destination: aDestination(), backupId: 'a0000000-0000-4000-8000-0000000000b1' }) });
        out.push({ name: `${tag} scheduled backup`, d, job: sut(state, d, { destination: aDestination(), backupId: 'a0000000-0000-4000-8000-0000000000b2', schedule: { cron: '0 2 * * *', timezone: 'Europe/Paris' } }) });
        out.push({ name: `${tag} restore`, d, job: compileRestoreJob(state, d, { destination: aDestination(), restoreId: 'a0000000-0000-4000-8000-0000000000c1', objectKey: 'drover/t/db/b1/dump.pgc' }) });
        out.push({ name: `${tag} verify`, d, job: compileVerifyJob(state, d, { destination: aDestination(), verificationId: 'a0000000-0000-4000-8000-0000000000e1', objectKey: 'drover/t/db/b1/dump.pgc' }) });
      }
    }
  }
  return out;
}

test('contract: every backup, scheduled backup, restore and verify job of every engine and version matches the Nomad API schema', () => {
  for (const { name, job } of everyJob()) assert.deepEqual(validateNomad('JobRegisterRequest', job.request), [], name);
});

test("Nomad's own validation rules accept every backup, restore and verify job", () => {
  for (const { name, job } of everyJob()) assert.deepEqual(validateJob(job.request.Job), [], name);
});

test('no credential, and no endpoint, reaches a job: they are data items the templates read', () => {
  for (const { name, job, d } of everyJob()) {
    const text = JSON.stringify(job.request);
    for (const s of [...SECRET_VALUES, 's3.example.net']) assert.ok(!text.includes(s), `${name}: ${s}`);
    assert.doesNotMatch(text, /(PASSWORD|password|KEY)[=:](?! ?\{\{)/, name);
    const kinds = Object.values(job.data.items).map((i) => i.kind);
    assert.ok(kinds.includes('destination'), `${name}: destination credentials are data`);
    assert.ok(kinds.includes('database') || d.engine === 'redis', `${name}: database credentials are data`);
    for (const t of job.request.Job.TaskGroups[0]!.Tasks) {
      for (const v of Object.values(t.Env)) assert.match(v, /^(s3|Other|true|eu-west-1|127\.0\.0\.1|\$\{NOMAD_PORT_scratch\})$/, `${name}: ${t.Name} env`);
    }
  }
});

test('a backup job: batch, the dump task runs the argv module’s dump into the alloc dir with the official image, the poststop upload runs rclone', () => {
  for (const engine of ENGINE_LIST) {
    const d = dbOf(engine);
    const { request, objectKey } = sut(stateOf(d), d, { destination: aDestination(), backupId: 'a0000000-0000-4000-8000-0000000000b1' });
    const job = request.Job;
    assert.equal(job.Type, 'batch');
    assert.equal(job.Periodic, null);
    assert.equal(job.Update, null);
    const [dump, upload] = job.TaskGroups[0]!.Tasks as (typeof job.TaskGroups[0]['Tasks'][0] & { Lifecycle?: { Hook: string; Sidecar: boolean } })[];
    assert.equal(dump!.Name, DUMP_TASK);
    assert.equal(dump!.Config.image, `${ENGINES[engine].image}:${d.version}`);
    assert.deepEqual([...(dump!.Config.entrypoint as string[]), ...(dump!.Config.args as string[])], dumpArgv(engine));
    assert.equal(dump!.Lifecycle, undefined);
    assert.equal(upload!.Name, UPLOAD_TASK);
    assert.equal(upload!.Config.image, RCLONE_IMAGE);
    assert.deepEqual(upload!.Lifecycle, { Hook: 'poststop', Sidecar: false });
    assert.deepEqual([...(upload!.Config.entrypoint as string[]), ...(upload!.Config.args as string[])], uploadArgv(dumpPath(engine), 'acme-backups', objectKey));
    // The backup reaches the database over the network: it never mounts the single-writer volume.
    assert.equal(job.TaskGroups[0]!.Volumes, null);
    assert.equal(job.TaskGroups[0]!.RestartPolicy.Attempts, 0);
  }
});

test('a scheduled backup is periodic, never overlaps, and uploads each child under its own job ID', () => {
  const d = dbOf('postgres');
  const { request, objectKey } = sut(stateOf(d), d, { destination: aDestination(), backupId: 'a0000000-0000-4000-8000-0000000000b2', schedule: { cron: '0 2 * * *', timezone: 'UTC' } });
  assert.deepEqual(request.Job.Periodic, { Enabled: true, Specs: ['0 2 * * *'], SpecType: 'cron', ProhibitOverlap: true, TimeZone: 'UTC' });
  assert.match(objectKey, /\/\$\{NOMAD_JOB_ID\}\/dump\.pgc$/);
  assert.throws(() => sut(stateOf(d), d, { destination: aDestination(), backupId: 'a0000000-0000-4000-8000-0000000000b2', schedule: { cron: '0 2 * * * ; rm', timezone: 'UTC' } }), /cron/);
});

test('tenant text is checked before it reaches a job: bucket, endpoint, IDs', () => {
  const d = dbOf('postgres');
  const s = stateOf(d);
  assert.throws(() => sut(s, d, { destination: aDestination({ bucket: 'Bad Bucket' }), backupId: 'a0000000-0000-4000-8000-0000000000b1' }), /bucket/);
  assert.throws(() => sut(s, d, { destination: aDestination({ endpoint: 'file:///etc' }), backupId: 'a0000000-0000-4000-8000-0000000000b1' }), /endpoint/);
  assert.throws(() => sut(s, d, { destination: aDestination(), backupId: '../x' }), /backup/);
  assert.throws(() => compileRestoreJob(s, d, { destination: aDestination(), restoreId: 'a0000000-0000-4000-8000-0000000000c1', objectKey: '../../etc' }), /object key/);
});

test('restore: download first (prestart), then the engine’s restore argv; Redis mounts its stopped volume pinned to its node, moves the AOF aside and places the RDB', () => {
  for (const engine of ENGINE_LIST) {
    const d = dbOf(engine);
    const { request } = compileRestoreJob(stateOf(d), d, { destination: aDestination(), restoreId: 'a0000000-0000-4000-8000-0000000000c1', objectKey: 'drover/k/dump' });
    const g = request.Job.TaskGroups[0]!;
    const argv = (name: string): string[] => {
      const t = g.Tasks.find((x) => x.Name === name)!;
      return [...(t.Config.entrypoint as string[]), ...(t.Config.args as string[])];
    };
    assert.deepEqual(argv('download'), downloadArgv('acme-backups', 'drover/k/dump', dumpPath(engine)));
    if (engine === 'redis') {
      const steps = redisRestoreSteps(d.version, 'a0000000-0000-4000-8000-0000000000c1');
      assert.deepEqual(argv('aside'), steps.aside);
      assert.deepEqual(argv('restore'), steps.place);
      assert.equal(g.Volumes?.data?.AccessMode, 'single-node-single-writer');
      assert.equal(g.Volumes?.data?.Sticky, true);
      assert.deepEqual(request.Job.Constraints?.at(-1), { LTarget: '${node.unique.id}', Operand: '=', RTarget: NODE });
    } else {
      assert.deepEqual(argv('restore'), restoreArgv(engine));
      assert.equal(g.Volumes, null);
    }
  }
});

test('verify: scratch server on loopback with no volume, the check task leads and runs the count argv', () => {
  for (const engine of ENGINE_LIST) {
    const d = dbOf(engine);
    const { request } = compileVerifyJob(stateOf(d), d, { destination: aDestination(), verificationId: 'a0000000-0000-4000-8000-0000000000e1', objectKey: 'drover/k/dump' });
    const g = request.Job.TaskGroups[0]!;
    assert.equal(g.Volumes, null);
    const check = g.Tasks.find((t) => t.Name === CHECK_TASK)!;
    assert.equal(check.Leader, true);
    assert.deepEqual([...(check.Config.entrypoint as string[]), ...(check.Config.args as string[])], countArgv(engine));
    const scratch = g.Tasks.find((t) => t.Name === 'scratch')!;
    assert.ok((scratch.Config.args as string[]).some((a) => a.includes('127.0.0.1')), engine);
  }
});

test('database jobs: no canary, AutoRevert, a sticky single-writer host volume, pinned to the volume’s node, no credentials', () => {
  for (const engine of ENGINE_LIST) {
    for (const version of ENGINES[engine].versions) {
      const d = dbOf(engine, { version });
      const { jobs, volumes } = compile(stateOf(d));
      const job = jobs[0]! as JobRegisterRequest;
      assert.deepEqual(validateNomad('JobRegisterRequest', job), []);
      assert.deepEqual(validateJob(job.Job), []);
      assert.equal(job.Job.Update?.Canary, 0);
      assert.equal(job.Job.Update?.AutoRevert, true);
      const v = job.Job.TaskGroups[0]!.Volumes!.data!;
      assert.equal(v.AccessMode, 'single-node-single-writer');
      assert.equal(v.Sticky, true);
      assert.equal(v.Source, volumes[job.Job.ID]![0]!.name);
      assert.deepEqual(job.Job.Constraints?.at(-1), { LTarget: '${node.unique.id}', Operand: '=', RTarget: NODE });
      for (const s of SECRET_VALUES) assert.ok(!JSON.stringify(job).includes(s));
    }
  }
  assert.throws(() => compile(stateOf(dbOf('postgres', { volume: { id: '7d2e4b10-0000-4000-8000-0000000000d2', sizeBytes: 1, nodeId: 'x"; drop' } }))), /node ID/);
});

test('host volume create request: contract and HostVolume.Validate pass; single-node-single-writer capability; size as min and max; named as the job mounts it', () => {
  for (const engine of ENGINE_LIST) {
    const d = dbOf(engine);
    const state = stateOf(d);
    const req = hostVolumeCreateRequest(state, d, 'mkdir');
    assert.deepEqual(validateNomad('HostVolumeCreateRequest', req), []);
    assert.deepEqual(validateHostVolumeCreate(req), []);
    assert.deepEqual(req.Volume.RequestedCapabilities, [{ AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system' }]);
    assert.equal(req.Volume.RequestedCapacityMinBytes, d.volume.sizeBytes);
    assert.equal(req.Volume.RequestedCapacityMaxBytes, d.volume.sizeBytes);
    const { volumes, jobs } = compile(state);
    assert.equal(req.Volume.Name, volumes[jobs[0]!.Job.ID]![0]!.name);
  }
  assert.throws(() => hostVolumeCreateRequest(stateOf(dbOf('redis')), dbOf('redis'), 'x y'), /plugin/);
});

test('volumeCapacityWarning warns where the plugin ignores the size', () => {
  assert.match(volumeCapacityWarning(10, 0, 'mkdir') ?? '', /does not enforce/);
  assert.match(volumeCapacityWarning(10, 5, 'lvm') ?? '', /less than/);
  assert.equal(volumeCapacityWarning(10, 10, 'lvm'), null);
});
