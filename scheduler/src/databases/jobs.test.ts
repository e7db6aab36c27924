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

test('database jobs in Vault mode: the credentials come from the job’s own KV path at a pinned version through the workload identity, never the job JSON', () => {
  for (const engine of ENGINE_LIST) {
    for (const version of ENGINES[engine].versions) {
      const d = dbOf(engine, { version });
      const state = stateOf(d, { settings: aSettings({ secrets: aVaultBackend }), deployment: { id: 'dep-1', vaultKvVersion: 7 } });
      const { jobs, variables } = compile(state);
      const job = jobs[0]! as JobRegisterRequest;
      const name = `${engine} ${version}`;
      assert.deepEqual(validateNomad('JobRegisterRequest', job), [], name);
      assert.deepEqual(validateJob(job.Job), [], name);
      const path = `kv/data/drover/${job.Namespace}/${job.Job.ID}`;
      const data = variables[job.Job.ID]!;
      assert.equal(data.backend, 'vault', name);
      assert.equal(data.path, path, name);
      assert.ok(Object.values(data.items).some((i) => i.kind === 'database' && i.field === 'PASSWORD'), `${name}: the password is a data item`);
      const task = job.Job.TaskGroups[0]!.Tasks[0]!;
      assert.deepEqual(task.Vault, { Role: 'drover-workload', Cluster: 'default', ChangeMode: 'noop', Env: false, DisableFile: true }, name);
      assert.deepEqual(task.Identities?.map((i) => [i.Name, i.Audience]), [['vault_default', ['vault.io']]], name);
      const templates = (task.Templates ?? []).map((t) => t.EmbeddedTmpl).join('\n');
      assert.ok(templates.includes(`{{ with secret "${path}?version=7" }}`), `${name}: pinned KV read`);
      assert.doesNotMatch(templates, /nomadVar/, name);
      assert.equal([...templates.matchAll(/with secret "([^"]+)"/g)].every((m) => m[1] === `${path}?version=7`), true, `${name}: only its own path`);
      for (const s of SECRET_VALUES) assert.ok(!JSON.stringify(job).includes(s), name);
      assert.doesNotMatch(JSON.stringify(task.Env), /PASSWORD/, name);
    }
  }
});

test('backup, restore and verify jobs in Vault mode read the password and the S3 keys from their own KV path at the pinned version', () => {
  for (const { name, job } of everyJob().filter((j) => j.name.includes(' vault '))) {
    const path = `kv/data/drover/${job.request.Namespace}/${job.request.Job.ID}`;
    assert.equal(job.data.backend, 'vault', name);
    assert.equal(job.data.path, path, name);
    const reads = job.request.Job.TaskGroups[0]!.Tasks.flatMap((t) => (t.Templates ?? []).map((x) => x.EmbeddedTmpl)).join('\n');
    assert.doesNotMatch(reads, /nomadVar/, name);
    const opened = [...reads.matchAll(/with secret "([^"]+)"/g)].map((m) => m[1]);
    assert.ok(opened.length > 0 && opened.every((p) => p === `${path}?version=3`), `${name}: ${opened.join(', ')}`);
    for (const t of job.request.Job.TaskGroups[0]!.Tasks) {
      if ((t.Templates ?? []).length > 0) assert.equal(t.Vault?.DisableFile, true, `${name}: ${t.Name} reads through its workload identity only`);
    }
  }
});

test('a major upgrade dumps with the old version’s tools and restores with the new version’s, through the same object', () => {
  // Newer restore tools read older dumps (pg_restore reads custom-format archives of earlier pg_dump releases, mysql
  // replays SQL, a newer redis loads an older RDB, mongorestore reads older archives); never the other way round. The
  // new major's own pg_restore is not installable here (Debian ships the 15 tools), so the images and argv are checked;
  // server/src/databases/upgrade-engines.test.ts restores a real 15 dump into a real newer server with this argv.
  for (const engine of ENGINE_LIST) {
    const versions = ENGINES[engine].versions;
    for (let i = 0; i + 1 < versions.length; i++) {
      const from = versions[i]!, to = versions[i + 1]!;
      const old = dbOf(engine, { version: from });
      const next = dbOf(engine, { version: to, volume: { id: '7d2e4b10-0000-4000-8000-0000000000d3', sizeBytes: 5 * 1024 ** 3, nodeId: NODE } });
      const backup = sut(stateOf(old), old, { destination: aDestination(), backupId: 'a0000000-0000-4000-8000-0000000000b9' });
      const restore = compileRestoreJob(stateOf(next), next, { destination: aDestination(), restoreId: 'a0000000-0000-4000-8000-0000000000c9', objectKey: backup.objectKey });
      const name = `${engine} ${from} → ${to}`;
      for (const j of [backup, restore]) {
        assert.deepEqual(validateNomad('JobRegisterRequest', j.request), [], name);
        assert.deepEqual(validateJob(j.request.Job), [], name);
      }
      const tasks = (j: CompiledDatabaseJob) => new Map(j.request.Job.TaskGroups[0]!.Tasks.map((t) => [t.Name, t]));
      const argv = (t: { Config: Record<string, unknown> } | undefined) => [...(t?.Config.entrypoint as string[]), ...(t?.Config.args as string[])];
      const dump = tasks(backup).get(DUMP_TASK);
      assert.equal(dump?.Config.image, `${ENGINES[engine].image}:${from}`, name);
      assert.deepEqual(argv(dump), dumpArgv(engine), name);
      const restoring = [...tasks(restore).values()].filter((t) => t.Name !== 'download');
      assert.ok(restoring.length > 0 && restoring.every((t) => t.Config.image === `${ENGINES[engine].image}:${to}`), `${name}: restored by the new version`);
      if (engine !== 'redis') assert.deepEqual(argv(tasks(restore).get('restore')), restoreArgv(engine), name);
      else assert.deepEqual(argv(tasks(restore).get('restore')), redisRestoreSteps(to, 'a0000000-0000-4000-8000-0000000000c9').place, name);
      assert.deepEqual(argv(tasks(backup).get(UPLOAD_TASK)), uploadArgv(dumpPath(engine), 'acme-backups', backup.objectKey), name);
      assert.deepEqual(argv(tasks(restore).get('download')), downloadArgv('acme-backups', backup.objectKey, dumpPath(engine)), name);
      if (engine === 'postgres') assert.ok(argv(dump).includes('-Fc'), 'the custom format, which newer pg_restore reads');
    }
  }
});
