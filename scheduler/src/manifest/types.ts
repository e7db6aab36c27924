/**
 * The manifest's shape (manifest.md) after schema validation. Field names are the manifest's own.
 */

/** ManifestVariableValue is a variable's value: text (integers and booleans are written as text) or a secret marker. */
export type ManifestVariableValue = string | number | boolean | { secret: true };

/** ManifestService is one entry of `services`. */
export interface ManifestService {
  /** image is a container image reference. */
  image?: string;
  /** artifact is a tarball or binary run with the exec driver. */
  artifact?: { url: string; checksum: string; command: string[] };
  /** command is the argv of an image service. */
  command?: string[];
  /** port is the port an image listens on. */
  port?: number;
  /** domains are custom domains. */
  domains?: string[];
  /** public routes the service (default: true when it listens on a port). */
  public?: boolean;
  /** healthcheck is the check. */
  healthcheck?: { path?: string; interval?: string; timeout?: string };
  /** replicas is the instance count (default 1). */
  replicas?: number;
  /** resources are MHz / MiB. */
  resources?: { cpu?: number; memory?: number; memory_max?: number };
  /** restart is the restart mode (default always). */
  restart?: 'always' | 'on-failure' | 'never';
  /** variables are the service's variables. */
  variables?: Record<string, ManifestVariableValue>;
  /** volumes are named volumes. */
  volumes?: { name: string; mount: string; size?: string }[];
  /** cron makes the service periodic. */
  cron?: string;
  /** timezone is the cron time zone (default UTC). */
  timezone?: string;
}

/** ManifestDatabase is one entry of `databases`. */
export interface ManifestDatabase {
  /** engine is the engine. */
  engine: 'postgres' | 'mysql' | 'redis' | 'mongodb';
  /** version is a supported major version. */
  version: string | number;
  /** size is the volume size (default 1GiB). */
  size?: string;
  /** resources are MHz / MiB. */
  resources?: { cpu?: number; memory?: number; memory_max?: number };
  /** backups schedules backups. */
  backups?: { schedule: string; keep?: number };
}

/** Manifest is a whole manifest. */
export interface Manifest {
  /** project is the project slug. */
  project: string;
  /** environment is the environment slug (default production). */
  environment?: string;
  /** shared are environment-wide variables. */
  shared?: Record<string, ManifestVariableValue>;
  /** services by slug. */
  services?: Record<string, ManifestService>;
  /** databases by slug. */
  databases?: Record<string, ManifestDatabase>;
}

/** Problem is one reason a manifest is invalid: a manifest path (`services.web.domains[0]`) and what is wrong. */
export interface Problem {
  /** path names the field in manifest notation ('' for the document). */
  path: string;
  /** reason says what is wrong. */
  reason: string;
}
