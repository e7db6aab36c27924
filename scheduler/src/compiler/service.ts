/**
 * Service jobs: one Nomad job per service — a `service` job, or a periodic `batch` job for cron services. The docker
 * driver config is built from an allowlist (image, command, args, ports, auth); artifacts run with `exec` (or
 * `raw_exec` where the operator allows it) and a checksum; every user variable travels as data (variables.ts).
 */
import { CompileError } from './errors.ts';
import type { DesiredState, Service } from './model.ts';
import { ENV_NAME_PATTERN } from './model.ts';
import type { JobRegisterRequest, NomadCheck, NomadService, NomadTask, NomadVolumeRequest } from './nomad-types.ts';
import {
  assertId, generatedDomain, hostVolumeName, isSlug, jobId as makeJobId, namespaceName,
} from './names.ts';
import {
  artifactUrlProblem, CHECKSUM_PATTERN, checkPathProblem, commandProblem, cronProblem, DIGEST_PATTERN,
  escapeHclTemplate, hostnameProblem, imageProblem, mountProblem, RESERVED_ENV, timezoneProblem,
} from './rules.ts';
import {
  hostVolumeRequest, jobMeta, ms, placementConstraints, restartPolicies, sec, serviceMeta, taskResources,
  updateStrategy, volumeMount, hour,
} from './common.ts';
import { traefikTags } from './traefik.ts';
import type { EnvLine, JobData, Resolver } from './variables.ts';
import { renderTemplates } from './variables.ts';

/** GROUP is the task group name of every Drover job; TASK its task name; PORT_LABEL its one port label. */
export const GROUP = 'app';
/** TASK is the task name of every Drover service job. */
export const TASK = 'app';
/** PORT_LABEL is the label of the dynamic port every listening service gets. */
export const PORT_LABEL = 'http';

/** CompiledJob is one job with the data its templates read and the host volumes it needs. */
export interface CompiledJob {
  /** request is the JobRegisterRequest body. */
  request: JobRegisterRequest;
  /** data is what the deployer writes before registering (null: nothing). */
  data: JobData | null;
  /** volumes are the dynamic host volumes the job mounts (the deployer creates missing ones). */
  volumes: { name: string; sizeBytes: number }[];
}

function positiveInt(n: number | undefined, path: string): void {
  if (n !== undefined && (!Number.isInteger(n) || n <= 0)) throw new CompileError(path, 'must be a positive integer');
}

/** listens says whether a service gets a port (artifact services always, images with `port`, never cron). */
export function listens(s: Service): boolean {
  if (s.cron) return false;
  return s.source.kind === 'artifact' || s.source.port !== undefined;
}

/** checkService applies the compiler's own checks to a service; it throws CompileError naming the field. */
export function checkService(state: DesiredState, s: Service): void {
  const path = `services.${s.slug}`;
  if (!isSlug(s.slug)) throw new CompileError(path, 'the service name is not a slug');
  assertId(s.id, 'service');
  if (s.source.kind === 'image') {
    const p = imageProblem(s.source.reference);
    if (p) throw new CompileError(`${path}.image`, p);
    if (s.source.digest !== undefined && !DIGEST_PATTERN.test(s.source.digest)) throw new CompileError(`${path}.image`, 'digest must be sha256:<64 hex>');
    if (s.source.port !== undefined && (!Number.isInteger(s.source.port) || s.source.port < 1 || s.source.port > 65535)) {
      throw new CompileError(`${path}.port`, 'must be a port number 1–65535');
    }
    if (s.source.registryCredentialId !== undefined) assertId(s.source.registryCredentialId, 'registry credential');
  } else {
    const p = artifactUrlProblem(s.source.url);
    if (p) throw new CompileError(`${path}.artifact.url`, p);
    if (!CHECKSUM_PATTERN.test(s.source.checksum)) throw new CompileError(`${path}.artifact.checksum`, 'must be <md5|sha1|sha256|sha512>:<hex>');
    if (!s.command) throw new CompileError(`${path}.artifact.command`, 'an artifact service needs a command');
  }
  if (s.command) {
    const p = commandProblem(s.command);
    if (p) throw new CompileError(p.index >= 0 ? `${path}.command[${p.index}]` : `${path}.command`, p.reason);
  }
  positiveInt(s.replicas, `${path}.replicas`);
  if (s.replicas > state.team.limits.maxReplicas) throw new CompileError(`${path}.replicas`, `must be at most ${state.team.limits.maxReplicas}`);
  positiveInt(s.resources.cpu, `${path}.resources.cpu`);
  positiveInt(s.resources.memoryMB, `${path}.resources.memory`);
  positiveInt(s.resources.memoryMaxMB, `${path}.resources.memory_max`);
  if (s.volumes.length > 0 && s.replicas !== 1) throw new CompileError(`${path}.replicas`, 'a service with volumes runs one replica');
  const volNames = new Set<string>();
  const mounts = new Set<string>();
  s.volumes.forEach((v, i) => {
    if (!isSlug(v.name)) throw new CompileError(`${path}.volumes[${i}].name`, 'must be a slug');
    assertId(v.id, 'volume');
    const mp = mountProblem(v.mount);
    if (mp) throw new CompileError(`${path}.volumes[${i}].mount`, mp);
    if (volNames.has(v.name)) throw new CompileError(`${path}.volumes[${i}].name`, 'is used twice');
    if (mounts.has(v.mount)) throw new CompileError(`${path}.volumes[${i}].mount`, 'is used twice');
    volNames.add(v.name);
    mounts.add(v.mount);
    positiveInt(v.sizeBytes, `${path}.volumes[${i}].size`);
  });
  const apps = state.settings.appsDomain;
  s.domains.forEach((d, i) => {
    assertId(d.id, 'domain');
    const p = hostnameProblem(d.hostname);
    if (p) throw new CompileError(`${path}.domains[${i}]`, p);
    if (d.hostname === apps || d.hostname.endsWith(`.${apps}`)) throw new CompileError(`${path}.domains[${i}]`, 'must not be under the apps domain');
  });
  if (s.healthcheck) {
    if (s.healthcheck.path !== undefined) {
      const p = checkPathProblem(s.healthcheck.path);
      if (p) throw new CompileError(`${path}.healthcheck.path`, p);
    }
    if (!(s.healthcheck.intervalMs >= 1000)) throw new CompileError(`${path}.healthcheck.interval`, 'must be at least 1s');
    if (!(s.healthcheck.timeoutMs >= 1 && s.healthcheck.timeoutMs <= s.healthcheck.intervalMs)) {
      throw new CompileError(`${path}.healthcheck.timeout`, 'must be positive and at most the interval');
    }
  }
  if (s.public && !listens(s)) throw new CompileError(`${path}.public`, 'only a service that listens on a port can be public');
  if (s.domains.length > 0 && !listens(s)) throw new CompileError(`${path}.domains`, 'a service without a port has no domains');
  if (s.healthcheck && !listens(s)) throw new CompileError(`${path}.healthcheck`, 'a service without a port has no health check');
  if (s.cron) {
    const p = cronProblem(s.cron.schedule);
    if (p) throw new CompileError(`${path}.cron`, p);
    const t = timezoneProblem(s.cron.timezone);
    if (t) throw new CompileError(`${path}.timezone`, t);
    if (s.replicas !== 1) throw new CompileError(`${path}.replicas`, 'a cron service runs one instance per run');
  }
  const names = new Set<string>();
  for (const v of s.variables) {
    if (!ENV_NAME_PATTERN.test(v.name)) throw new CompileError(`${path}.variables.${v.name}`, 'is not a valid variable name');
    if (RESERVED_ENV.test(v.name)) throw new CompileError(`${path}.variables.${v.name}`, 'is set by Drover (PORT, NOMAD_*, DROVER_*)');
    if (names.has(v.name)) throw new CompileError(`${path}.variables.${v.name}`, 'is defined twice');
    names.add(v.name);
  }
}

/** Names are the names compile derived once for the whole environment (hashing is the costly part). */
export interface Names {
  /** namespace is the team's namespace. */
  namespace: string;
  /** jobOf returns the job ID of a service or database by its ID. */
  jobOf: (ownerId: string) => string;
}

/** compileService compiles one service (checked with checkService first) into its job. */
export function compileService(state: DesiredState, s: Service, resolver: Resolver, warnings: string[], names?: Names): CompiledJob {
  checkService(state, s);
  const { settings, team, project, environment } = state;
  const path = `services.${s.slug}`;
  const namespace = names?.namespace ?? namespaceName(team.slug, team.id);
  const job = names?.jobOf(s.id) ?? makeJobId(project.slug, environment.slug, s.slug, s.id);
  const hasPort = listens(s);
  const bridge = settings.networkMode === 'bridge';

  const env: Record<string, string> = {};
  let driver: string;
  let config: Record<string, unknown>;
  const lines: EnvLine[] = resolver.resolveService(s);
  const argv = (s.command ?? []).map(escapeHclTemplate);

  if (s.source.kind === 'image') {
    driver = 'docker';
    const ref = s.source.digest ? `${s.source.reference.replace(/@sha256:[a-f0-9]{64}$/, '')}@${s.source.digest}` : s.source.reference;
    config = { image: ref };
    if (argv.length > 0) {
      config.command = argv[0];
      if (argv.length > 1) config.args = argv.slice(1);
    }
    if (hasPort && !bridge) config.ports = [PORT_LABEL];
    if (hasPort) env.PORT = String(s.source.port);
    if (s.source.registryCredentialId !== undefined) {
      const id = s.source.registryCredentialId;
      lines.push(
        { name: 'DROVER_REGISTRY_USERNAME', segments: [{ t: 'data', source: { kind: 'registry', credentialId: id, field: 'username' } }] },
        { name: 'DROVER_REGISTRY_PASSWORD', segments: [{ t: 'data', source: { kind: 'registry', credentialId: id, field: 'password' } }] },
      );
      config.auth = [{ username: '${DROVER_REGISTRY_USERNAME}', password: '${DROVER_REGISTRY_PASSWORD}' }];
    }
  } else {
    driver = settings.allowRawExec ? 'raw_exec' : 'exec';
    config = { command: argv[0] };
    if (argv.length > 1) config.args = argv.slice(1);
    env.PORT = `\${NOMAD_PORT_${PORT_LABEL}}`;
  }

  const provider = settings.serviceProvider;
  const rendered = renderTemplates({ state, namespace, job }, lines, provider);
  const vault = settings.secrets.kind === 'vault' && rendered.data !== null ? settings.secrets : null;

  const volumes: Record<string, NomadVolumeRequest> = {};
  const created: CompiledJob['volumes'] = [];
  for (const v of s.volumes) {
    const source = hostVolumeName(job, v.name, v.id);
    volumes[v.name] = hostVolumeRequest(v.name, source);
    created.push({ name: source, sizeBytes: v.sizeBytes });
  }

  const task: NomadTask = {
    Name: TASK,
    Driver: driver,
    Config: config,
    Env: env,
    Resources: taskResources(s.resources, team, settings, path, warnings),
    Templates: rendered.templates.length > 0 ? rendered.templates : null,
    Artifacts: s.source.kind === 'artifact'
      ? [{ GetterSource: new URL(s.source.url).href, GetterOptions: { checksum: s.source.checksum }, GetterMode: 'any', RelativeDest: 'local/' }]
      : null,
    VolumeMounts: s.volumes.length > 0 ? s.volumes.map((v) => volumeMount(v.name, v.mount)) : null,
    Vault: vault ? { Role: vault.role, Cluster: vault.cluster, ChangeMode: 'noop', Env: false, DisableFile: true } : null,
    Consul: rendered.readsCatalog && provider === 'consul' ? { Cluster: settings.consulCluster } : null,
    Identities: vault ? [{ Name: `vault_${vault.cluster}`, Audience: vault.audience, TTL: hour(1), Env: false, File: false }] : null,
    KillTimeout: sec(5),
    Leader: false,
  };

  let services: NomadService[] | null = null;
  if (hasPort) {
    const hosts: string[] = [];
    if (s.public) {
      hosts.push(generatedDomain(s.slug, environment.slug, s.id, settings.appsDomain));
      for (const d of s.domains) {
        if (d.verified) hosts.push(d.hostname);
        else warnings.push(`${path}.domains: ${d.hostname} is routed once its ownership is verified`);
      }
    } else if (s.domains.length > 0) warnings.push(`${path}.domains: a private service is not routed`);
    const hc = s.healthcheck ?? { intervalMs: 10_000, timeoutMs: 2_000 };
    const check: NomadCheck = hc.path !== undefined
      ? { Name: 'drover-http', Type: 'http', Path: hc.path, Method: 'GET', Protocol: 'http', Interval: ms(hc.intervalMs), Timeout: ms(hc.timeoutMs), PortLabel: PORT_LABEL }
      : { Name: 'drover-tcp', Type: 'tcp', Interval: ms(hc.intervalMs), Timeout: ms(hc.timeoutMs), PortLabel: PORT_LABEL };
    const { tags, canaryTags } = traefikTags(s.id, hosts, settings.traefik);
    const meta = serviceMeta(state, 'drover_service', s.id);
    services = [{
      Name: job, PortLabel: PORT_LABEL, Provider: provider, AddressMode: 'auto', Tags: tags, CanaryTags: canaryTags,
      Meta: meta, CanaryMeta: { ...meta, drover_canary: 'true' }, Checks: [check],
    }];
  }

  const stateful = s.volumes.length > 0;
  const policies = restartPolicies(s.restart, s.cron !== undefined);
  const toContainer = s.source.kind === 'image' ? (s.source.port ?? 0) : bridge ? -1 : 0;
  const request: JobRegisterRequest = {
    Namespace: namespace,
    ...(settings.region !== '' ? { Region: settings.region } : {}),
    Job: {
      ID: job,
      Name: job,
      Namespace: namespace,
      ...(settings.region !== '' ? { Region: settings.region } : {}),
      Type: s.cron ? 'batch' : 'service',
      Priority: 50,
      Datacenters: settings.datacenters,
      NodePool: settings.nodePool,
      Constraints: placementConstraints(settings),
      Meta: jobMeta(state, 'drover.service', s.id),
      Update: s.cron ? null : updateStrategy({ stateful, replicas: s.replicas, checks: hasPort }),
      Periodic: s.cron
        ? { Enabled: true, Specs: [s.cron.schedule.trim().split(/[ \t]+/).join(' ')], SpecType: 'cron', ProhibitOverlap: true, TimeZone: s.cron.timezone }
        : null,
      TaskGroups: [{
        Name: GROUP,
        Count: s.replicas,
        Networks: hasPort ? [{ Mode: settings.networkMode, DynamicPorts: [{ Label: PORT_LABEL, To: toContainer }] }] : null,
        Services: services,
        Tasks: [task],
        RestartPolicy: policies.restart,
        ReschedulePolicy: policies.reschedule,
        Volumes: stateful ? volumes : null,
        Meta: {},
      }],
    },
  };
  return { request, data: rendered.data, volumes: created };
}
