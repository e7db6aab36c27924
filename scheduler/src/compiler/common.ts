/**
 * Common pieces of every job: durations, ownership Meta, placement from cluster settings, resources with defaults and
 * team maximums, restart/reschedule policies from `restart`, update strategies and host volume requests.
 */
import type { ClusterSettings, DesiredState, RestartMode, Resources, Team } from './model.ts';
import type {
  NomadConstraint, NomadReschedulePolicy, NomadResources, NomadRestartPolicy, NomadUpdate, NomadVolumeMount,
  NomadVolumeRequest,
} from './nomad-types.ts';

/** ms converts milliseconds to Nomad's integer nanoseconds. */
export const ms = (n: number): number => Math.round(n * 1e6);
/** sec converts seconds to nanoseconds. */
export const sec = (n: number): number => ms(n * 1000);
/** min converts minutes to nanoseconds. */
export const min = (n: number): number => sec(n * 60);
/** hour converts hours to nanoseconds. */
export const hour = (n: number): number => min(n * 60);

/** jobMeta is the ownership Meta of a job (`drover.*`, IDs only); Drover only touches jobs that carry it. */
export function jobMeta(state: DesiredState, ownerKey: 'drover.service' | 'drover.database', ownerId: string): Record<string, string> {
  return {
    'drover.team': state.team.id,
    'drover.project': state.project.id,
    'drover.environment': state.environment.id,
    [ownerKey]: ownerId,
    'drover.deployment': state.deployment.id,
  };
}

/** serviceMeta is the Consul-safe service Meta (`drover_*`, IDs only). */
export function serviceMeta(state: DesiredState, ownerKey: 'drover_service' | 'drover_database', ownerId: string): Record<string, string> {
  return {
    drover_team: state.team.id,
    drover_project: state.project.id,
    drover_environment: state.environment.id,
    [ownerKey]: ownerId,
    drover_deployment: state.deployment.id,
  };
}

/** placementConstraints are the operator's constraints; tenants never set placement. */
export function placementConstraints(settings: ClusterSettings): NomadConstraint[] | null {
  if (settings.constraints.length === 0) return null;
  return settings.constraints.map((c) => ({ LTarget: c.attribute, Operand: c.operator, RTarget: c.value }));
}

/**
 * taskResources applies defaults and the team's maximums; clamping and a memory_max the cluster will not honour
 * produce warnings (Nomad itself warns at registration without memory oversubscription).
 */
export function taskResources(r: Resources, team: Team, settings: ClusterSettings, path: string, warnings: string[]): NomadResources {
  let cpu = r.cpu ?? settings.defaults.cpu;
  let mem = r.memoryMB ?? settings.defaults.memoryMB;
  if (cpu > team.limits.maxCpu) {
    warnings.push(`${path}.resources.cpu: ${cpu} MHz is above the team maximum, using ${team.limits.maxCpu}`);
    cpu = team.limits.maxCpu;
  }
  if (mem > team.limits.maxMemoryMB) {
    warnings.push(`${path}.resources.memory: ${mem} MiB is above the team maximum, using ${team.limits.maxMemoryMB}`);
    mem = team.limits.maxMemoryMB;
  }
  const out: NomadResources = { CPU: cpu, MemoryMB: mem };
  if (r.memoryMaxMB !== undefined) {
    let max = r.memoryMaxMB;
    if (max > team.limits.maxMemoryMaxMB) {
      warnings.push(`${path}.resources.memory_max: ${max} MiB is above the team maximum, using ${team.limits.maxMemoryMaxMB}`);
      max = team.limits.maxMemoryMaxMB;
    }
    if (max > mem) {
      out.MemoryMaxMB = max;
      if (!settings.memoryOversubscription) {
        warnings.push(`${path}.resources.memory_max: the cluster has no memory oversubscription, so Nomad ignores memory_max`);
      }
    }
  }
  return out;
}

/** restartPolicies maps `restart` (manifest.md) to Nomad's restart and reschedule policies for a service or cron job. */
export function restartPolicies(mode: RestartMode, batch: boolean): { restart: NomadRestartPolicy; reschedule: NomadReschedulePolicy } {
  const disabled: NomadReschedulePolicy = { Attempts: 0, Interval: 0, Delay: sec(5), DelayFunction: 'constant', MaxDelay: 0, Unlimited: false };
  if (batch) {
    if (mode === 'never') {
      return { restart: { Attempts: 0, Interval: hour(24), Delay: sec(15), Mode: 'fail', RenderTemplates: false }, reschedule: disabled };
    }
    return {
      restart: { Attempts: 3, Interval: hour(24), Delay: sec(15), Mode: 'fail', RenderTemplates: false },
      reschedule: { Attempts: 1, Interval: hour(24), Delay: sec(30), DelayFunction: 'constant', MaxDelay: 0, Unlimited: false },
    };
  }
  if (mode === 'never') {
    return { restart: { Attempts: 0, Interval: min(30), Delay: sec(15), Mode: 'fail', RenderTemplates: false }, reschedule: disabled };
  }
  return {
    restart: { Attempts: 3, Interval: min(30), Delay: sec(15), Mode: 'delay', RenderTemplates: false },
    reschedule: { Attempts: 0, Interval: 0, Delay: sec(30), DelayFunction: 'exponential', MaxDelay: hour(1), Unlimited: true },
  };
}

/**
 * updateStrategy is the update block of a service job: AutoRevert always; canaries (one per replica, auto-promoted)
 * for stateless services; no canary and one at a time for services that hold a volume.
 */
export function updateStrategy(opts: { stateful: boolean; replicas: number; checks: boolean }): NomadUpdate {
  return {
    Stagger: sec(30),
    MaxParallel: 1,
    HealthCheck: opts.checks ? 'checks' : 'task_states',
    MinHealthyTime: sec(10),
    HealthyDeadline: min(5),
    ProgressDeadline: min(10),
    Canary: opts.stateful ? 0 : opts.replicas,
    AutoRevert: true,
    AutoPromote: !opts.stateful,
  };
}

/** hostVolumeRequest is a group's request for a dynamic host volume Drover created (`dv-…`). */
export function hostVolumeRequest(name: string, source: string): NomadVolumeRequest {
  if (!source.startsWith('dv-')) throw new Error('internal: host volume names start with dv-');
  return {
    Name: name, Type: 'host', Source: source, ReadOnly: false, Sticky: true,
    AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system', PerAlloc: false,
  };
}

/** volumeMount mounts a group volume into a task. */
export function volumeMount(name: string, destination: string): NomadVolumeMount {
  return { Volume: name, Destination: destination, ReadOnly: false, PropagationMode: 'private' };
}
