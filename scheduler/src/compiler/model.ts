/**
 * The compiler's input: the desired state of one environment of one project, as the server reads it from Postgres
 * (or `drover plan` builds it from a manifest with deterministic IDs). Every object carries its ID: names, router
 * names and Meta are derived from IDs, never from display text. Slugs are validated again by the compiler.
 * Secret values are never part of this model: a secret is a reference the deployer resolves when it writes data.
 */

/** TeamLimits are a team's per-service maximums; the compiler clamps to them and reports a warning. */
export interface TeamLimits {
  /** maxCpu is the most CPU (MHz) one task may reserve. */
  maxCpu: number;
  /** maxMemoryMB is the most memory (MiB) one task may reserve. */
  maxMemoryMB: number;
  /** maxMemoryMaxMB is the highest memory_max (MiB) one task may burst to. */
  maxMemoryMaxMB: number;
  /** maxReplicas is the most replicas one service may run. */
  maxReplicas: number;
}

/** Team owns one Nomad namespace. */
export interface Team {
  /** id is the team's ID (ID_PATTERN); its hash ends the namespace name. */
  id: string;
  /** slug is the team's immutable slug. */
  slug: string;
  /** limits are the team's resource maximums. */
  limits: TeamLimits;
}

/** Project groups services and databases. */
export interface Project {
  /** id is the project's ID. */
  id: string;
  /** slug is the project's immutable slug. */
  slug: string;
}

/** Environment is one environment of a project (production, staging…). */
export interface Environment {
  /** id is the environment's ID. */
  id: string;
  /** slug is the environment's immutable slug. */
  slug: string;
}

/** Deployment is the deployment being compiled; its ID prefixes the job's data items and is stamped in Meta. */
export interface Deployment {
  /** id is the deployment's ID (ID_PATTERN). */
  id: string;
  /** vaultKvVersion is the KV v2 version the deployer wrote for this deployment (Vault mode only; pinned in templates). */
  vaultKvVersion?: number;
}

/** ValuePart is one piece of a variable's value: literal text (data) or a reference `${{ target.NAME }}`. */
export type ValuePart =
  | { kind: 'literal'; text: string }
  | { kind: 'ref'; target: string; name: string };

/** VariableValue is a variable's value: text made of parts, or a secret whose value is set out of band. */
export type VariableValue = { kind: 'text'; parts: ValuePart[] } | { kind: 'secret' };

/** Variable is one environment variable of a service or of the environment's `shared` set. */
export interface Variable {
  /** name is the variable's name (ENV_NAME_PATTERN). */
  name: string;
  /** value is its value; literal parts are tenant data and never enter a job's text. */
  value: VariableValue;
}

/** ENV_NAME_PATTERN is the rule for a variable name (a POSIX-style environment name of at most 128 characters). */
export const ENV_NAME_PATTERN: RegExp = /^[A-Za-z_][A-Za-z0-9_]{0,127}$/;

/** Domain is a custom domain of a service; it is routed only once its ownership is verified. */
export interface Domain {
  /** id is the domain's ID. */
  id: string;
  /** hostname is the lower-case LDH hostname (punycode for IDN). */
  hostname: string;
  /** verified says ownership was proven; unverified domains are not routed. */
  verified: boolean;
}

/** Volume is a named volume of a service, created by Drover as a dynamic host volume. */
export interface Volume {
  /** id is the volume's ID; its hash ends the host volume name. */
  id: string;
  /** name is the volume's slug. */
  name: string;
  /** mount is the absolute path inside the task. */
  mount: string;
  /** sizeBytes is the requested capacity. */
  sizeBytes: number;
}

/** ImageSource runs a container image with the docker driver. */
export interface ImageSource {
  /** kind tags the source. */
  kind: 'image';
  /** reference is the image reference (`registry/repo:tag`). */
  reference: string;
  /** digest pins the image (`sha256:<64 hex>`) when the registry reported one. */
  digest?: string;
  /** port is the port the container listens on. */
  port?: number;
  /** registryCredentialId names registry credentials the deployer writes as data (username and password). */
  registryCredentialId?: string;
}

/** ArtifactSource downloads a tarball or binary and runs it with the exec (or allowed raw_exec) driver. */
export interface ArtifactSource {
  /** kind tags the source. */
  kind: 'artifact';
  /** url is the http(s) URL to download. */
  url: string;
  /** checksum is `<sha256|sha512|md5|sha1>:<hex>`. */
  checksum: string;
}

/** Healthcheck is an HTTP check when `path` is set, else a TCP check. Durations in milliseconds. */
export interface Healthcheck {
  /** path is the HTTP path to GET, or undefined for a TCP check. */
  path?: string;
  /** intervalMs is the time between checks. */
  intervalMs: number;
  /** timeoutMs is how long one check may take. */
  timeoutMs: number;
}

/** Resources are a task's requests; missing values take the cluster defaults. */
export interface Resources {
  /** cpu is MHz. */
  cpu?: number;
  /** memoryMB is MiB. */
  memoryMB?: number;
  /** memoryMaxMB is the burst ceiling in MiB (needs memory oversubscription). */
  memoryMaxMB?: number;
}

/** Cron makes a service a periodic batch job. */
export interface Cron {
  /** schedule is a five-field cron expression. */
  schedule: string;
  /** timezone is an IANA time zone name. */
  timezone: string;
}

/** RestartMode is the manifest's `restart`. */
export type RestartMode = 'always' | 'on-failure' | 'never';

/** Service is one service of the environment. */
export interface Service {
  /** id is the service's ID in this environment (unique per environment); names and routers derive from it. */
  id: string;
  /** slug is the service's immutable slug. */
  slug: string;
  /** source is what runs. */
  source: ImageSource | ArtifactSource;
  /** command is the argv (first element the program); `${PORT}` and `${NOMAD_*}` are the only `${…}` allowed. */
  command?: string[];
  /** public says the service is routed at its generated domain and verified custom domains. */
  public: boolean;
  /** domains are its custom domains. */
  domains: Domain[];
  /** healthcheck configures the check; services with a port get a TCP check when it is absent. */
  healthcheck?: Healthcheck;
  /** replicas is the instance count (1 when the service has volumes). */
  replicas: number;
  /** resources are its requests. */
  resources: Resources;
  /** restart is its restart mode. */
  restart: RestartMode;
  /** volumes are its volumes. */
  volumes: Volume[];
  /** cron makes it periodic. */
  cron?: Cron;
  /** variables are its environment variables. */
  variables: Variable[];
}

/** DatabaseEngine is a managed database engine. */
export type DatabaseEngine = 'postgres' | 'mysql' | 'redis' | 'mongodb';

/** Database is a managed database run as a Nomad job on a host volume. */
export interface Database {
  /** id is the database's ID in this environment. */
  id: string;
  /** name is the database's slug (referenced as `${{ name.VAR }}`). */
  name: string;
  /** engine is the engine. */
  engine: DatabaseEngine;
  /** version is a supported major version of the engine. */
  version: string;
  /** volume is its data volume; `nodeId` (once Nomad created it) pins the job to the node that holds it. */
  volume: { id: string; sizeBytes: number; nodeId?: string };
  /** resources are its requests. */
  resources: Resources;
  /** publicAccess opens TCP access through Traefik (absent: private network only, the default); `port` is the public one. */
  publicAccess?: { hostname: string; entrypoint: string; port: number; certResolver: string };
}

/** PlacementConstraint is a Nomad constraint set by the operator (never by tenants). */
export interface PlacementConstraint {
  /** attribute is the LTarget (`${node.class}`…). */
  attribute: string;
  /** operator is the Nomad operand (`=`, `!=`, `regexp`, `distinct_hosts`…). */
  operator: string;
  /** value is the RTarget. */
  value: string;
}

/** SecretsBackend says where user variables travel: Vault KV v2 or Nomad Variables. */
export type SecretsBackend =
  | { kind: 'nomad' }
  | { kind: 'vault'; kvMount: string; role: string; cluster: string; audience: string[] };

/** ClusterSettings are the operator's settings; placement and routing come only from here. */
export interface ClusterSettings {
  /** region is the Nomad region (empty: the agent's). */
  region: string;
  /** datacenters are the datacenters jobs may run in. */
  datacenters: string[];
  /** nodePool is the node pool for tenant jobs. */
  nodePool: string;
  /** constraints are extra placement constraints. */
  constraints: PlacementConstraint[];
  /** networkMode is `bridge` where clients have CNI plugins, else `host`. */
  networkMode: 'bridge' | 'host';
  /** serviceProvider registers services in Consul (default) or Nomad (only where Traefik's Nomad provider lists the team namespaces). */
  serviceProvider: 'consul' | 'nomad';
  /** consulCluster is the Consul cluster name for tasks' `consul {}` blocks. */
  consulCluster: string;
  /** appsDomain is the parent of generated domains. */
  appsDomain: string;
  /** traefik are the entrypoints and certificate resolver routers use. */
  traefik: { entrypoints: string[]; certResolver: string };
  /** secrets is the variables backend. */
  secrets: SecretsBackend;
  /** allowRawExec lets artifact services run with raw_exec instead of exec. */
  allowRawExec: boolean;
  /** memoryOversubscription says the cluster honours memory_max. */
  memoryOversubscription: boolean;
  /** defaults are the resources of a task that asks for none. */
  defaults: { cpu: number; memoryMB: number };
}

/** DesiredState is everything the compiler reads. */
export interface DesiredState {
  /** team owns the namespace. */
  team: Team;
  /** project is the project. */
  project: Project;
  /** environment is the environment. */
  environment: Environment;
  /** deployment is the deployment being compiled. */
  deployment: Deployment;
  /** services are the environment's services. */
  services: Service[];
  /** databases are the environment's databases. */
  databases: Database[];
  /** shared are the environment-wide variables. */
  shared: Variable[];
  /** settings are the cluster settings. */
  settings: ClusterSettings;
}
