/**
 * Backup, restore and restore-verification jobs of a managed database, and the host volume create request of its
 * data volume. Pure functions of their input, like the compiler: no credentials ever enter a job's JSON (tools read
 * them from files and environment variables that templates render from Nomad Variables or Vault), argv comes from
 * argv.ts, and tenant text reaches a job only as checked IDs, a checked bucket name and a checked object key.
 */
import type { Database, DatabaseEngine, DesiredState } from '../compiler/model.ts';
import type { JobRegisterRequest, NomadTask, NomadTemplate } from '../compiler/nomad-types.ts';
import type { ItemSource, JobData, EnvLine, Segment, DatabaseField } from '../compiler/variables.ts';
import { renderTemplates } from '../compiler/variables.ts';
import { ENGINES, checkDatabase, databaseJobId, pinned } from '../compiler/database.ts';
import { assertId, fitParts, hostVolumeName, namespaceName, nomadVariablesPath, shortHash, vaultKvDataPath } from '../compiler/names.ts';
import { hostVolumeRequest, hour, jobMeta, placementConstraints, sec, volumeMount } from '../compiler/common.ts';
import { CompileError } from '../compiler/errors.ts';
import {
  ALLOC_DATA, BUCKET_PATTERN, MONGO_TOOLS_CONFIG, countArgv, downloadArgv, dumpArgv, dumpPath, rcloneEnv,
  redisRestoreSteps, restoreArgv, uploadArgv,
} from './argv.ts';

/** RCLONE_IMAGE is the official rclone image the upload and download steps run (pinned to a minor release). */
export const RCLONE_IMAGE = 'rclone/rclone:1.68';

/** DUMP_TASK is the name of the task whose own exit code decides a backup (the uploader's never does). */
export const DUMP_TASK = 'dump';
/** UPLOAD_TASK is the poststop task that uploads the dump. */
export const UPLOAD_TASK = 'upload';
/** CHECK_TASK is the verification task whose stdout holds the counts (parseCounts). */
export const CHECK_TASK = 'check';

/** Destination is a team's S3-compatible backup destination; its credentials stay in the secret store. */
export interface Destination {
  /** id is the destination's ID. */
  id: string;
  /** endpoint is the http(s) URL of the S3 API. */
  endpoint: string;
  /** region is the S3 region ('' when the server ignores it). */
  region: string;
  /** bucket is the bucket name (BUCKET_PATTERN). */
  bucket: string;
}

/** DestinationSource is a data item taken from a destination's credentials in the secret store. */
export interface DestinationSource {
  /** kind tags it. */
  kind: 'destination';
  /** destinationId is the destination's ID. */
  destinationId: string;
  /** field is which credential. */
  field: 'ACCESS_KEY_ID' | 'SECRET_ACCESS_KEY';
}

/** BackupItemSource is a backup job's data item: a database credential, a literal (the endpoint) or a destination credential. */
export type BackupItemSource = ItemSource | DestinationSource;

/** BackupJobData is what the caller writes before registering a backup/restore/verify job (as JobData, plus destination items). */
export interface BackupJobData extends Omit<JobData, 'items'> {
  /** items maps each item key to its source. */
  items: Record<string, BackupItemSource>;
}

/** CompiledDatabaseJob is one compiled auxiliary job with its data. */
export interface CompiledDatabaseJob {
  /** request is the `PUT /v1/jobs` body. */
  request: JobRegisterRequest;
  /** data is written to `data.path` before registering. */
  data: BackupJobData;
  /** objectKey is the S3 key the job uploads or downloads. */
  objectKey: string;
}

/** BackupSpec says what a backup job does. */
export interface BackupSpec {
  /** destination is where the dump goes. */
  destination: Destination;
  /** schedule makes the job periodic (five-field cron, UTC unless `timezone`); absent: one run, registered on demand. */
  schedule?: { cron: string; timezone: string };
  /** backupId is the ID of the backup record (on-demand) or of the schedule (periodic: each child is a record). */
  backupId: string;
}

/** NomadLifecycle is `api.TaskLifecycle`. */
interface NomadLifecycle { Hook: 'prestart' | 'poststart' | 'poststop'; Sidecar: boolean }
/** Task is a NomadTask with an optional lifecycle. */
type Task = NomadTask & { Lifecycle?: NomadLifecycle };

function names(state: DesiredState, d: Database): { namespace: string; dbJob: string } {
  return { namespace: namespaceName(state.team.slug, state.team.id), dbJob: databaseJobId(state, d) };
}

/** auxJobId is the job ID of an auxiliary job of a database: `<db job, shortened>-<kind>-<h(id)>`, at most 63 characters. */
export function auxJobId(dbJob: string, kind: 'backup' | 'restore' | 'verify', id: string): string {
  assertId(id, kind);
  return fitParts([dbJob, kind], shortHash(id));
}

/** objectKey is where a backup lives in the bucket: `drover/<namespace>/<database ID>/<backup ID>/<dump file>`. */
export function objectKey(namespace: string, d: Database, backupId: string): string {
  assertId(backupId, 'backup');
  return `drover/${namespace}/${d.id}/${backupId}/${dumpPath(d.engine, '').slice(1)}`;
}

function dbField(d: Database, field: DatabaseField): Segment {
  return { t: 'data', source: { kind: 'database', databaseId: d.id, field } };
}

/** toolEnv is the env lines the engine's tools read (argv.ts ENV_NAMES), with the address either from the catalog or fixed. */
function toolEnv(d: Database, address: { catalog: string } | 'scratch'): EnvLine[] {
  const host: Segment[] = address === 'scratch' ? [{ t: 'const', text: '127.0.0.1' }] : [{ t: 'addr', service: address.catalog, part: 'host' }];
  const port: Segment[] = address === 'scratch' ? [] : [{ t: 'addr', service: address.catalog, part: 'port' }];
  const lines: EnvLine[] = [];
  const add = (name: string, segments: Segment[]): void => {
    if (segments.length > 0) lines.push({ name, segments });
  };
  switch (d.engine) {
    case 'postgres':
      add('PGHOST', host); add('PGPORT', port); add('PGUSER', [dbField(d, 'USER')]); add('PGPASSWORD', [dbField(d, 'PASSWORD')]);
      add('PGDATABASE', [dbField(d, 'NAME')]);
      break;
    case 'mysql':
      add('DB_HOST', host); add('DB_PORT', port); add('DB_USER', [dbField(d, 'USER')]); add('MYSQL_PWD', [dbField(d, 'PASSWORD')]);
      add('DB_NAME', [dbField(d, 'NAME')]);
      break;
    case 'redis':
      add('DB_HOST', host); add('DB_PORT', port); add('REDISCLI_AUTH', [dbField(d, 'PASSWORD')]);
      break;
    case 'mongodb':
      add('DB_HOST', host); add('DB_PORT', port); add('DB_USER', [dbField(d, 'USER')]);
      break;
  }
  return lines;
}

interface Ctx {
  state: DesiredState;
  d: Database;
  namespace: string;
  job: string;
  items: Record<string, BackupItemSource>;
  path: string;
}

function open(ctx: Ctx): { open: string; access: (key: string) => string } {
  const backend = ctx.state.settings.secrets;
  if (backend.kind === 'vault') {
    const version = ctx.state.deployment.vaultKvVersion;
    if (version === undefined || !Number.isInteger(version) || version < 1) throw new CompileError('deployment.vaultKvVersion', 'Vault mode needs the KV version written for this job');
    return { open: `{{ with secret "${ctx.path}?version=${version}" }}{{ $d := .Data.data }}`, access: (k) => `(index $d "${k}")` };
  }
  return { open: `{{ with nomadVar "${ctx.path}" }}{{ $d := . }}`, access: (k) => `(index $d "${k}").Value` };
}

/** fileTemplate renders a file whose lines are `prefix` + one data item as JSON (a quoted string) for each entry. */
function fileTemplate(ctx: Ctx, dest: string, lines: { prefix: string; key: string; source: BackupItemSource }[], envvars: boolean): NomadTemplate {
  const o = open(ctx);
  let body = '';
  for (const l of lines) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*(=|: | )$/.test(l.prefix)) throw new Error('internal: unsafe template prefix');
    ctx.items[l.key] = l.source;
    body += `${l.prefix}{{ ${o.access(l.key)} | toJSON }}\n`;
  }
  return {
    EmbeddedTmpl: `${o.open}\n${body}{{ end }}\n`, DestPath: `secrets/${dest}`, Envvars: envvars, ChangeMode: 'noop', Perms: '0400',
    LeftDelim: '{{', RightDelim: '}}', ErrMissingKey: false,
  };
}

function engineTemplates(ctx: Ctx, address: { catalog: string } | 'scratch'): NomadTemplate[] {
  const rendered = renderTemplates({ state: ctx.state, namespace: ctx.namespace, job: ctx.job }, toolEnv(ctx.d, address), ctx.state.settings.serviceProvider, 'db');
  if (rendered.data) Object.assign(ctx.items, rendered.data.items);
  const templates = [...rendered.templates];
  if (ctx.d.engine === 'mongodb') {
    templates.push(fileTemplate(ctx, 'mongo-tools.yaml', [{ prefix: 'password: ', key: `${ctx.state.deployment.id}.mongo.PASSWORD`, source: { kind: 'database', databaseId: ctx.d.id, field: 'PASSWORD' } }], false));
    if (`/${templates.at(-1)?.DestPath ?? ''}` !== MONGO_TOOLS_CONFIG) throw new Error('internal: mongo tools config path');
  }
  return templates;
}

function rcloneTemplates(ctx: Ctx, dest: Destination): NomadTemplate[] {
  const dep = ctx.state.deployment.id;
  return [fileTemplate(ctx, 'rclone.env', [
    { prefix: 'RCLONE_CONFIG_DROVER_ENDPOINT=', key: `${dep}.s3.ENDPOINT`, source: { kind: 'literal', value: new URL(dest.endpoint).origin } },
    { prefix: 'RCLONE_CONFIG_DROVER_ACCESS_KEY_ID=', key: `${dep}.s3.ACCESS_KEY_ID`, source: { kind: 'destination', destinationId: dest.id, field: 'ACCESS_KEY_ID' } },
    { prefix: 'RCLONE_CONFIG_DROVER_SECRET_ACCESS_KEY=', key: `${dep}.s3.SECRET_ACCESS_KEY`, source: { kind: 'destination', destinationId: dest.id, field: 'SECRET_ACCESS_KEY' } },
  ], true)];
}

function checkDestination(dest: Destination): void {
  assertId(dest.id, 'destination');
  if (!BUCKET_PATTERN.test(dest.bucket)) throw new CompileError('destination.bucket', 'is not a valid bucket name');
  let u: URL;
  try {
    u = new URL(dest.endpoint);
  } catch {
    throw new CompileError('destination.endpoint', 'is not a URL');
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new CompileError('destination.endpoint', 'must be http(s)');
  rcloneEnv(dest.endpoint, dest.region);
}

function vaultParts(state: DesiredState): Pick<NomadTask, 'Vault' | 'Identities'> {
  const s = state.settings.secrets;
  if (s.kind !== 'vault') return { Vault: null, Identities: null };
  return {
    Vault: { Role: s.role, Cluster: s.cluster, ChangeMode: 'noop', Env: false, DisableFile: true },
    Identities: [{ Name: `vault_${s.cluster}`, Audience: s.audience, TTL: hour(1), Env: false, File: false }],
  };
}

function task(state: DesiredState, name: string, image: string, argv: string[], templates: NomadTemplate[], o: Partial<Task> = {}): Task {
  const [entry, ...args] = argv;
  if (entry === undefined) throw new Error('internal: empty argv');
  return {
    Name: name, Driver: 'docker', Config: { image, entrypoint: [entry], args }, Env: {},
    Resources: { CPU: 200, MemoryMB: 256 }, Templates: templates, Artifacts: null, VolumeMounts: null, ...vaultParts(state),
    Consul: null, KillTimeout: sec(30), Leader: false, ...o,
  };
}

function rcloneTask(state: DesiredState, ctx: Ctx, name: string, dest: Destination, argv: string[], hook: NomadLifecycle['Hook']): Task {
  const env = rcloneEnv(dest.endpoint, dest.region);
  delete (env as Record<string, string | undefined>).RCLONE_CONFIG_DROVER_ENDPOINT;
  return task(state, name, RCLONE_IMAGE, argv, rcloneTemplates(ctx, dest), { Env: env, Lifecycle: { Hook: hook, Sidecar: false } });
}

function batchJob(state: DesiredState, d: Database, ctx: Ctx, kind: string, tasks: Task[], o: { periodic?: BackupSpec['schedule']; volume?: string; ports?: boolean }): JobRegisterRequest {
  const { settings } = state;
  const restartAttempts = kind === 'verify' ? 10 : 0;
  const meta = { ...jobMeta(state, 'drover.database', d.id), 'drover.kind': kind };
  return {
    Namespace: ctx.namespace,
    ...(settings.region !== '' ? { Region: settings.region } : {}),
    Job: {
      ID: ctx.job, Name: ctx.job, Namespace: ctx.namespace, ...(settings.region !== '' ? { Region: settings.region } : {}),
      Type: 'batch', Priority: 55, Datacenters: settings.datacenters, NodePool: settings.nodePool,
      Constraints: o.volume ? pinned(placementConstraints(settings), d) : placementConstraints(settings),
      Meta: meta, Update: null,
      Periodic: o.periodic ? { Enabled: true, Specs: [o.periodic.cron], SpecType: 'cron', ProhibitOverlap: true, TimeZone: o.periodic.timezone } : null,
      TaskGroups: [{
        Name: kind, Count: 1,
        Networks: [{ Mode: settings.networkMode, DynamicPorts: o.ports ? [{ Label: 'scratch', To: -1 }] : null }],
        Services: null,
        Tasks: tasks,
        RestartPolicy: { Attempts: restartAttempts, Interval: hour(1), Delay: sec(10), Mode: 'fail', RenderTemplates: false },
        ReschedulePolicy: { Attempts: 0, Interval: 0, Delay: sec(5), DelayFunction: 'constant', MaxDelay: 0, Unlimited: false },
        Volumes: o.volume ? { data: hostVolumeRequest('data', o.volume) } : null,
        Meta: {},
      }],
    },
  };
}

function context(state: DesiredState, d: Database, kind: 'backup' | 'restore' | 'verify', id: string): Ctx {
  checkDatabase(d);
  const { namespace, dbJob } = names(state, d);
  const job = auxJobId(dbJob, kind, id);
  const backend = state.settings.secrets;
  const path = backend.kind === 'vault' ? vaultKvDataPath(backend.kvMount, namespace, job) : nomadVariablesPath(job);
  return { state, d, namespace, job, items: {}, path };
}

function finish(ctx: Ctx, request: JobRegisterRequest, key: string): CompiledDatabaseJob {
  return { request, data: { backend: ctx.state.settings.secrets.kind, namespace: ctx.namespace, path: ctx.path, items: ctx.items }, objectKey: key };
}

/**
 * compileBackupJob compiles a backup of `d`: a batch job (periodic with a schedule) whose `dump` task runs the
 * engine's native dump (official image, argv.ts) against the database over the private network into the
 * allocation's shared directory, and whose poststop `upload` task (rclone) uploads the file. Periodic children are
 * named `<job>/periodic-<unix>`; on-demand jobs are registered once per backup ID.
 */
export function compileBackupJob(state: DesiredState, d: Database, spec: BackupSpec): CompiledDatabaseJob {
  checkDestination(spec.destination);
  const ctx = context(state, d, 'backup', spec.backupId);
  const engine = ENGINES[d.engine];
  // Periodic children upload under their own job ID (`${NOMAD_JOB_ID}` is `<job>/periodic-<unix>`, interpolated by Nomad).
  const key = spec.schedule ? `drover/${ctx.namespace}/${d.id}/\${NOMAD_JOB_ID}/${DUMP_NAME[d.engine]}` : objectKey(ctx.namespace, d, spec.backupId);
  const dump = task(state, DUMP_TASK, `${engine.image}:${d.version}`, dumpArgv(d.engine), engineTemplates(ctx, { catalog: names(state, d).dbJob }), { Resources: { CPU: 500, MemoryMB: 512 } });
  const upload = rcloneTask(state, ctx, UPLOAD_TASK, spec.destination, uploadArgv(dumpPath(d.engine), spec.destination.bucket, key), 'poststop');
  if (spec.schedule && !/^[0-9*/,\- ]{9,100}$/.test(spec.schedule.cron)) throw new CompileError('backups.schedule', 'is not a cron expression');
  if (spec.schedule && !/^[A-Za-z0-9_+\-/]{1,64}$/.test(spec.schedule.timezone)) throw new CompileError('backups.timezone', 'is not a time zone name');
  const request = batchJob(state, d, ctx, 'backup', [dump, upload], { periodic: spec.schedule });
  return finish(ctx, request, key);
}

const DUMP_NAME: Record<DatabaseEngine, string> = {
  postgres: dumpPath('postgres', '').slice(1), mysql: dumpPath('mysql', '').slice(1), redis: dumpPath('redis', '').slice(1), mongodb: dumpPath('mongodb', '').slice(1),
};

/** RestoreSpec says which backup to restore into which database. */
export interface RestoreSpec {
  /** restoreId is the restore's ID. */
  restoreId: string;
  /** destination holds the backup. */
  destination: Destination;
  /** objectKey is the backup's key in the bucket. */
  objectKey: string;
}

/**
 * compileRestoreJob restores a backup into `target` (the same database after a safety backup, or a new one): a
 * prestart `download` task (rclone) then the engine's restore tool over the private network. Redis is restored into
 * its stopped volume (the caller stops the database job first and starts it after): the current AOF is moved aside
 * (kept), the RDB placed as the new AOF base; the job mounts the volume (single writer) and is pinned to its node.
 */
export function compileRestoreJob(state: DesiredState, target: Database, spec: RestoreSpec): CompiledDatabaseJob {
  checkDestination(spec.destination);
  const ctx = context(state, target, 'restore', spec.restoreId);
  const engine = ENGINES[target.engine];
  const image = `${engine.image}:${target.version}`;
  const download = rcloneTask(state, ctx, 'download', spec.destination, downloadArgv(spec.destination.bucket, spec.objectKey, dumpPath(target.engine)), 'prestart');
  if (target.engine === 'redis') {
    const steps = redisRestoreSteps(target.version, spec.restoreId);
    const source = hostVolumeName(names(state, target).dbJob, 'data', target.volume.id);
    const mount = [volumeMount('data', '/data')];
    const aside = task(state, 'aside', image, steps.aside, [], { VolumeMounts: mount, Lifecycle: { Hook: 'prestart', Sidecar: false } });
    const place = task(state, 'restore', image, steps.place, [], { VolumeMounts: mount });
    return finish(ctx, batchJob(state, target, ctx, 'restore', [download, aside, place], { volume: source }), spec.objectKey);
  }
  const restore = task(state, 'restore', image, restoreArgv(target.engine), engineTemplates(ctx, { catalog: names(state, target).dbJob }), { Resources: { CPU: 500, MemoryMB: 512 } });
  return finish(ctx, batchJob(state, target, ctx, 'restore', [download, restore], {}), spec.objectKey);
}

/** scratchServer is the argv and env of a throwaway server listening on 127.0.0.1:${NOMAD_PORT_scratch}. */
function scratchTask(ctx: Ctx, image: string): Task {
  const d = ctx.d;
  const f = (field: DatabaseField): Segment[] => [dbField(d, field)];
  let argv: string[];
  let lines: EnvLine[] = [];
  const templates: NomadTemplate[] = [];
  switch (d.engine) {
    case 'postgres':
      argv = ['docker-entrypoint.sh', 'postgres', '-c', 'listen_addresses=127.0.0.1', '-c', 'port=${NOMAD_PORT_scratch}'];
      lines = [{ name: 'POSTGRES_USER', segments: f('USER') }, { name: 'POSTGRES_PASSWORD', segments: f('PASSWORD') }, { name: 'POSTGRES_DB', segments: f('NAME') }];
      break;
    case 'mysql':
      argv = ['docker-entrypoint.sh', 'mysqld', '--bind-address=127.0.0.1', '--port=${NOMAD_PORT_scratch}'];
      lines = [
        { name: 'MYSQL_RANDOM_ROOT_PASSWORD', segments: [{ t: 'const', text: 'yes' }] }, { name: 'MYSQL_USER', segments: f('USER') },
        { name: 'MYSQL_PASSWORD', segments: f('PASSWORD') }, { name: 'MYSQL_DATABASE', segments: f('NAME') },
      ];
      break;
    case 'mongodb':
      argv = ['docker-entrypoint.sh', 'mongod', '--bind_ip=127.0.0.1', '--port=${NOMAD_PORT_scratch}'];
      lines = [{ name: 'MONGO_INITDB_ROOT_USERNAME', segments: f('USER') }, { name: 'MONGO_INITDB_ROOT_PASSWORD', segments: f('PASSWORD') }];
      break;
    case 'redis':
      // Redis loads the downloaded RDB at start: no restore step, the dump file is the data.
      argv = ['redis-server', '/secrets/redis.conf', '--bind', '127.0.0.1', '--port', '${NOMAD_PORT_scratch}', '--dir', ALLOC_DATA, '--dbfilename', DUMP_NAME.redis, '--appendonly', 'no', '--save', ''];
      templates.push({ ...fileTemplate(ctx, 'redis.conf', [{ prefix: 'requirepass ', key: `${ctx.state.deployment.id}.scratch.PASSWORD`, source: { kind: 'database', databaseId: d.id, field: 'PASSWORD' } }], false), Perms: '0444' });
      break;
  }
  if (lines.length > 0) {
    const r = renderTemplates({ state: ctx.state, namespace: ctx.namespace, job: ctx.job }, lines, ctx.state.settings.serviceProvider, 'scratch');
    if (r.data) Object.assign(ctx.items, r.data.items);
    templates.push(...r.templates);
  }
  return task(ctx.state, 'scratch', image, argv, templates, { Resources: { CPU: 500, MemoryMB: 1024 } });
}

/** VerifySpec says which backup a verification restores. */
export interface VerifySpec {
  /** verificationId is the verification's ID. */
  verificationId: string;
  /** destination holds the backup. */
  destination: Destination;
  /** objectKey is the backup's key. */
  objectKey: string;
}

/**
 * compileVerifyJob restores a backup into a scratch instance inside one allocation and prints the counts
 * (argv.ts countArgv; the caller reads the `check` task's stdout and parses it with parseCounts): prestart
 * `download`, a prestart sidecar `scratch` server on loopback (no volume: its data dies with the allocation), a
 * prestart `restore` retried until the scratch server answers (rclone renames the file into place when complete), and
 * the `check` task as leader. Redis's scratch server loads the RDB itself.
 */
export function compileVerifyJob(state: DesiredState, d: Database, spec: VerifySpec): CompiledDatabaseJob {
  checkDestination(spec.destination);
  const ctx = context(state, d, 'verify', spec.verificationId);
  const image = `${ENGINES[d.engine].image}:${d.version}`;
  const download = rcloneTask(state, ctx, 'download', spec.destination, downloadArgv(spec.destination.bucket, spec.objectKey, dumpPath(d.engine)), 'prestart');
  const scratch = scratchTask(ctx, image);
  const local: Record<string, string> = d.engine === 'postgres' ? { PGHOST: '127.0.0.1', PGPORT: '${NOMAD_PORT_scratch}' } : { DB_HOST: '127.0.0.1', DB_PORT: '${NOMAD_PORT_scratch}' };
  const tools = engineTemplates(ctx, 'scratch');
  const check = task(state, CHECK_TASK, image, countArgv(d.engine), tools, { Env: local, Leader: true });
  const tasks: Task[] = [download];
  if (d.engine === 'redis') {
    // redis: the server is a main task started once the download is complete; the check retries until it answers.
    tasks.push(scratch, check);
  } else {
    const restore = task(state, 'restore', image, restoreArgv(d.engine), tools, { Env: local, Lifecycle: { Hook: 'prestart', Sidecar: false } });
    tasks.push({ ...scratch, Lifecycle: { Hook: 'prestart', Sidecar: true } }, restore, check);
  }
  return finish(ctx, batchJob(state, d, ctx, 'verify', tasks, { ports: true }), spec.objectKey);
}

/** HostVolumeCreate is the body of `PUT /v1/volume/host/create` for a database's data volume. */
export interface HostVolumeCreate {
  /** Volume is Nomad's HostVolume (create fields only). */
  Volume: {
    Name: string; Namespace: string; PluginID: string; NodePool: string; RequestedCapacityMinBytes: number;
    RequestedCapacityMaxBytes: number; RequestedCapabilities: { AccessMode: string; AttachmentMode: string }[];
    Constraints: { LTarget: string; Operand: string; RTarget: string }[]; Parameters: Record<string, string>;
  };
}

/**
 * hostVolumeCreateRequest is the create request of a database's volume: its `dv-…` name, the team namespace, the
 * operator's plugin (`mkdir` ignores capacity: warn through volumeCapacityWarning), the requested size as both minimum
 * and maximum, and the single capability `single-node-single-writer` / `file-system` the job's request matches.
 */
export function hostVolumeCreateRequest(state: DesiredState, d: Database, pluginId: string): HostVolumeCreate {
  checkDatabase(d);
  if (!/^[a-zA-Z0-9_-]{1,128}$/.test(pluginId)) throw new CompileError('settings.volumePlugin', 'is not a plugin ID');
  const { namespace, dbJob } = names(state, d);
  return {
    Volume: {
      Name: hostVolumeName(dbJob, 'data', d.volume.id), Namespace: namespace, PluginID: pluginId, NodePool: state.settings.nodePool,
      RequestedCapacityMinBytes: d.volume.sizeBytes, RequestedCapacityMaxBytes: d.volume.sizeBytes,
      RequestedCapabilities: [{ AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system' }],
      Constraints: placementConstraints(state.settings) ?? [], Parameters: {},
    },
  };
}

/** volumeCapacityWarning says when the created volume's CapacityBytes does not enforce the requested size (`mkdir`: 0). */
export function volumeCapacityWarning(requestedBytes: number, capacityBytes: number, pluginId: string): string | null {
  if (pluginId === 'mkdir' || capacityBytes === 0) return `the ${pluginId} volume plugin does not enforce a size: the database can use the whole disk of its node`;
  if (capacityBytes < requestedBytes) return `the volume has ${capacityBytes} bytes, less than the ${requestedBytes} requested`;
  return null;
}
