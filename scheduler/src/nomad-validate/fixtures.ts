/**
 * Fixture factories for tests of Nomad job validation: minimal jobs Nomad accepts, in the API's JSON shape
 * (durations in integer nanoseconds). Each call returns a fresh object that a test may mutate.
 */
import { MINUTE, SECOND } from './duration.ts';

/** Fixture is a loosely typed job object that tests mutate. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Fixture = any;

/** aServiceJob returns a valid service job: one group with a dynamic port, a Consul service with an HTTP check, one docker task. */
export function aServiceJob(id = 'web-app'): Fixture {
  return {
    ID: id, Name: id, Type: 'service', Namespace: 'default', Region: 'global', Datacenters: ['dc1'], Priority: 50,
    Meta: { 'drover.team': 't1' },
    TaskGroups: [{
      Name: 'web', Count: 2,
      Networks: [{ Mode: 'bridge', DynamicPorts: [{ Label: 'http', To: 8080 }] }],
      Services: [{
        Name: 'web-app', PortLabel: 'http', Provider: 'consul', Tags: ['drover.managed=true'],
        Checks: [{ Name: 'alive', Type: 'http', Path: '/health', Interval: 10 * SECOND, Timeout: 2 * SECOND }],
      }],
      Update: { MaxParallel: 1, Canary: 1, AutoPromote: true, AutoRevert: true, MinHealthyTime: 10 * SECOND, HealthyDeadline: 5 * MINUTE, ProgressDeadline: 10 * MINUTE },
      RestartPolicy: { Attempts: 2, Interval: 30 * MINUTE, Delay: 15 * SECOND, Mode: 'fail' },
      Tasks: [{
        Name: 'app', Driver: 'docker', Config: { image: 'nginx:1.27', ports: ['http'] },
        Env: { PORT: '8080' },
        Resources: { CPU: 200, MemoryMB: 256 },
      }],
    }],
  };
}

/** aBatchJob returns a valid periodic batch job (`crons` = `Specs`: every five minutes, UTC, no overlap). */
export function aBatchJob(id = 'nightly'): Fixture {
  return {
    ID: id, Name: id, Type: 'batch', Namespace: 'default', Region: 'global', Datacenters: ['dc1'],
    Periodic: { Enabled: true, SpecType: 'cron', Specs: ['*/5 * * * *'], TimeZone: 'UTC', ProhibitOverlap: true },
    TaskGroups: [{
      Name: 'run', Count: 1,
      Tasks: [{ Name: 'run', Driver: 'docker', Config: { image: 'busybox:1', command: 'true' }, Resources: { CPU: 100, MemoryMB: 64 } }],
    }],
  };
}

/** aHostVolumeJob returns a valid service job whose group requests a sticky dynamic host volume mounted by its task. */
export function aHostVolumeJob(id = 'db'): Fixture {
  const j = aServiceJob(id);
  const g = j.TaskGroups[0];
  g.Count = 1;
  g.Update = { MaxParallel: 1, Canary: 0, AutoRevert: true };
  g.Volumes = { data: { Name: 'data', Type: 'host', Source: 'dv-db-data-0a1b2c3d', Sticky: true, AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system' } };
  g.Tasks[0].VolumeMounts = [{ Volume: 'data', Destination: '/var/lib/postgresql/data' }];
  return j;
}

/** aHostVolumeCreate returns a valid `HostVolumeCreateRequest` body for the `mkdir` plugin. */
export function aHostVolumeCreate(name = 'dv-db-data-0a1b2c3d'): Fixture {
  return {
    Volume: {
      Name: name, Namespace: 'default', PluginID: 'mkdir', NodePool: 'default',
      RequestedCapacityMinBytes: 1 << 30, RequestedCapacityMaxBytes: 1 << 30,
      RequestedCapabilities: [{ AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system' }],
    },
  };
}
