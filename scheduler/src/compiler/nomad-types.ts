/**
 * The subset of Nomad's `api` structs the compiler emits, with Nomad's exact key names (durations are integer
 * nanoseconds). The contract tests hold every emitted body against `nomad-api.schema.json`, which is authoritative.
 */

/** NomadPort is `api.Port`. */
export interface NomadPort { Label: string; Value?: number; To: number; HostNetwork?: string }
/** NomadNetwork is `api.NetworkResource`. */
export interface NomadNetwork { Mode: string; DynamicPorts: NomadPort[] | null }
/** NomadCheck is `api.ServiceCheck`. */
export interface NomadCheck {
  Name: string; Type: string; Path?: string; Method?: string; Protocol?: string; Interval: number; Timeout: number;
  PortLabel?: string;
}
/** NomadService is `api.Service`. */
export interface NomadService {
  Name: string; PortLabel: string; Provider: string; AddressMode: string; Tags: string[]; CanaryTags: string[];
  Meta: Record<string, string>; CanaryMeta: Record<string, string>; Checks: NomadCheck[]; OnUpdate?: string;
}
/** NomadTemplate is `api.Template`. */
export interface NomadTemplate {
  EmbeddedTmpl: string; DestPath: string; Envvars: boolean; ChangeMode: string; Perms: string; LeftDelim: string;
  RightDelim: string; ErrMissingKey: boolean;
}
/** NomadResources is `api.Resources`. */
export interface NomadResources { CPU: number; MemoryMB: number; MemoryMaxMB?: number }
/** NomadVolumeRequest is `api.VolumeRequest`. */
export interface NomadVolumeRequest {
  Name: string; Type: string; Source: string; ReadOnly: boolean; Sticky: boolean; AccessMode: string;
  AttachmentMode: string; PerAlloc: boolean;
}
/** NomadVolumeMount is `api.VolumeMount`. */
export interface NomadVolumeMount { Volume: string; Destination: string; ReadOnly: boolean; PropagationMode: string }
/** NomadArtifact is `api.TaskArtifact`. */
export interface NomadArtifact { GetterSource: string; GetterOptions: Record<string, string>; GetterMode: string; RelativeDest: string }
/** NomadIdentity is `api.WorkloadIdentity`. */
export interface NomadIdentity { Name: string; Audience: string[]; TTL: number; Env: boolean; File: boolean }
/** NomadVault is `api.Vault`. */
export interface NomadVault { Role: string; Cluster: string; ChangeMode: string; Env: boolean; DisableFile: boolean }
/** NomadTask is `api.Task`. */
export interface NomadTask {
  Name: string; Driver: string; Config: Record<string, unknown>; Env: Record<string, string>;
  Resources: NomadResources; Templates: NomadTemplate[] | null; Artifacts: NomadArtifact[] | null;
  VolumeMounts: NomadVolumeMount[] | null; Vault: NomadVault | null; Consul: { Cluster: string } | null;
  Identities: NomadIdentity[] | null; KillTimeout: number; Leader: boolean;
}
/** NomadRestartPolicy is `api.RestartPolicy`. */
export interface NomadRestartPolicy { Attempts: number; Interval: number; Delay: number; Mode: string; RenderTemplates: boolean }
/** NomadReschedulePolicy is `api.ReschedulePolicy`. */
export interface NomadReschedulePolicy {
  Attempts: number; Interval: number; Delay: number; DelayFunction: string; MaxDelay: number; Unlimited: boolean;
}
/** NomadUpdate is `api.UpdateStrategy`. */
export interface NomadUpdate {
  Stagger: number; MaxParallel: number; HealthCheck: string; MinHealthyTime: number; HealthyDeadline: number;
  ProgressDeadline: number; Canary: number; AutoRevert: boolean; AutoPromote: boolean;
}
/** NomadTaskGroup is `api.TaskGroup`. */
export interface NomadTaskGroup {
  Name: string; Count: number; Networks: NomadNetwork[] | null; Services: NomadService[] | null;
  Tasks: NomadTask[]; RestartPolicy: NomadRestartPolicy; ReschedulePolicy: NomadReschedulePolicy;
  Volumes: Record<string, NomadVolumeRequest> | null; Meta: Record<string, string>;
}
/**
 * NomadPeriodic is `api.PeriodicConfig`. The compiler emits `Specs` (HCL `crons`, Nomad ≥ 1.6); `Spec` (HCL `cron`) is
 * deprecated — Nomad answers a registration using it with "cron is deprecated … Use crons instead" — and may not be
 * set together with `Specs`.
 */
export interface NomadPeriodic { Enabled: boolean; Specs?: string[]; /** Spec is deprecated: use Specs. */ Spec?: string; SpecType: string; ProhibitOverlap: boolean; TimeZone: string }
/** NomadConstraint is `api.Constraint`. */
export interface NomadConstraint { LTarget: string; Operand: string; RTarget: string }
/** NomadJob is `api.Job`. */
export interface NomadJob {
  ID: string; Name: string; Namespace: string; Region?: string; Type: 'service' | 'batch'; Priority: number;
  Datacenters: string[]; NodePool: string; Constraints: NomadConstraint[] | null; Meta: Record<string, string>;
  Update: NomadUpdate | null; Periodic: NomadPeriodic | null; TaskGroups: NomadTaskGroup[];
}
/** JobRegisterRequest is the body of `PUT /v1/jobs`. */
export interface JobRegisterRequest { Job: NomadJob; Namespace: string; Region?: string }
