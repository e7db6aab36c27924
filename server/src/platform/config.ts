/**
 * Configuration: parsed ONCE at boot from an environment object against a zod schema. Every bad variable is
 * reported at once (ConfigError), the result is deeply frozen. This module and `server/src/testing/` are the only
 * places allowed to look at process.env (main.ts hands it over).
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { nomadConfigFromEnv, NomadConfigError } from '@drover/scheduler/nomad/config.ts';
import type { NomadClientConfig } from '@drover/scheduler/nomad/config.ts';
import { parseDuration } from '@drover/scheduler/manifest/units.ts';

/** ConfigReferenceEntry documents one environment variable: its name, what it does and its default. */
export interface ConfigReferenceEntry {
  /** name is the environment variable. */
  readonly name: string;
  /** description says what it configures, in one sentence. */
  readonly description: string;
  /** default is the value used when it is unset, in words (`-` when there is none). */
  readonly default: string;
}

/** configReference lists every environment variable Drover reads, in the order the README shows them. */
export const configReference: readonly ConfigReferenceEntry[] = Object.freeze([
  { name: 'NODE_ENV', description: '`production` makes a missing `DROVER_SECRET_KEY` fatal and listens on all interfaces by default; `development` or `test` otherwise.', default: '`development`' },
  { name: 'DROVER_PORT', description: 'TCP port of the API and dashboard (0 = any free port).', default: '`3000`' },
  { name: 'DROVER_HOST', description: 'Address the HTTP server binds to.', default: '`127.0.0.1` (`0.0.0.0` in production)' },
  { name: 'DROVER_PUBLIC_URL', description: 'Public base URL used to build links (password reset, invitations); request headers (`Host`, `X-Forwarded-*`) are never used for links.', default: '`http://localhost:<port>`' },
  { name: 'DROVER_DATA_DIR', description: 'Directory for the generated secret key and the embedded Postgres data.', default: '`./.drover`' },
  { name: 'DROVER_SECRET_KEY', description: '32-byte key (base64 or 64 hex characters) that encrypts stored secrets. Required in production; elsewhere generated once into `<data dir>/secret.key` (mode 0600).', default: 'generated (not in production)' },
  { name: 'DATABASE_URL', description: 'Postgres connection URL (`postgres://user:password@host:5432/db`). Unset: Drover runs an embedded Postgres under the data directory.', default: 'embedded Postgres' },
  { name: 'DROVER_DB_POOL_SIZE', description: 'Most Postgres connections one Drover process holds (1–200); concurrent deployments and requests queue for them. Keep replicas × pool size below the server’s `max_connections`.', default: '`20`' },
  { name: 'REDIS_URL', description: 'Redis URL (`redis://` or `rediss://`) for the event bus, rate limits, locks and caches shared by several replicas. Unset: in-process implementations (single replica).', default: 'in-process' },
  { name: 'DROVER_APPS_DOMAIN', description: 'Parent domain of the generated service domains (`<service>-<environment>-<hash>.<apps domain>`).', default: '`localhost`' },
  { name: 'DROVER_ALLOW_UNVERIFIED_DOMAINS', description: 'Route custom domains before their ownership is verified (labs only).', default: '`false`' },
  { name: 'DROVER_TRUST_PROXY', description: 'Trust `X-Forwarded-For`/`X-Forwarded-Proto` from a reverse proxy for client addresses (never for links).', default: '`false`' },
  { name: 'DROVER_LOG_LEVEL', description: 'pino log level: `fatal`, `error`, `warn`, `info`, `debug`, `trace` or `silent`.', default: '`info`' },
  { name: 'DROVER_TRAEFIK_METRICS_URL', description: 'Traefik’s Prometheus endpoint (e.g. `http://10.0.0.5:8083/metrics`, the internal `metrics` entry point the Ansible role sets up). Set: service metrics carry network figures — HTTP request and response bytes per second through Traefik, not raw socket traffic; unset: network series are null.', default: '-' },
  { name: 'DROVER_REMOVE_ORPHANS', description: 'Let the reconciler deregister (with purge) Nomad jobs that carry Drover’s `Meta` but have no deployment record; otherwise they are only reported.', default: '`false`' },
  { name: 'DROVER_RECONCILE_INTERVAL', description: 'Pause between reconciler passes, as a duration (`30s`, `2m`; 1 s to 24 h).', default: '`30s`' },
  { name: 'DROVER_DEPLOY_PROGRESS_DEADLINE', description: 'How long a deployment may take from its first claim before it fails with the reason, as a duration (`15m`; 10 s to 24 h).', default: '`15m`' },
  { name: 'DROVER_EVENT_RETENTION', description: 'How long team deployment and service events are kept in Postgres for Last-Event-ID replay, as a duration (`168h`; 1 h to 8760 h); a client further behind gets `reset` and refetches.', default: '`168h`' },
  { name: 'DROVER_DB_PUBLIC_ACCESS', description: 'Let teams open a managed database to the internet through Traefik (the edge must have the database entry points: the Ansible variable `cluster_database_public_access`).', default: '`false`' },
  { name: 'DROVER_DB_TLS_ENTRYPOINT', description: 'Traefik entry point that routes public Postgres (STARTTLS), Redis and MongoDB by SNI with TLS.', default: '`dbtls`' },
  { name: 'DROVER_DB_TLS_PORT', description: 'Public port of `DROVER_DB_TLS_ENTRYPOINT`, shown in the public connection strings.', default: '`5432`' },
  { name: 'DROVER_DB_MYSQL_ENTRYPOINT', description: 'Traefik entry point of the one public MySQL database (MySQL cannot be routed by name: `HostSNI(*)`, TLS between client and server).', default: '`mysql`' },
  { name: 'DROVER_DB_MYSQL_PORT', description: 'Public port of `DROVER_DB_MYSQL_ENTRYPOINT`.', default: '`3306`' },
  { name: 'DROVER_DB_CERT_RESOLVER', description: 'Traefik certificate resolver for public database hostnames (`none`: Traefik’s default certificate).', default: '`letsencrypt`' },
  { name: 'DROVER_VOLUME_PLUGIN', description: 'Nomad dynamic host volume plugin that creates database volumes. The built-in `mkdir` does not enforce a size (the database page warns); the Ansible roles install the size-enforcing `drover-ext4` (an ext4 image on a loop device) and set it.', default: '`mkdir`' },
  { name: 'NOMAD_ADDR', description: 'Nomad HTTP API address.', default: '`http://127.0.0.1:4646`' },
  { name: 'NOMAD_TOKEN', description: "Drover's everyday Nomad ACL token (limited to the `t-*` namespaces).", default: '-' },
  { name: 'NOMAD_NAMESPACE', description: 'Default Nomad namespace of requests that name none.', default: '-' },
  { name: 'NOMAD_REGION', description: 'Default Nomad region.', default: '-' },
  { name: 'NOMAD_CACERT', description: 'Path to the PEM CA bundle that signs the Nomad servers’ certificates.', default: 'system roots' },
  { name: 'NOMAD_CLIENT_CERT', description: 'Path to the client certificate (PEM) for Nomad mutual TLS.', default: '-' },
  { name: 'NOMAD_CLIENT_KEY', description: 'Path to the client key (PEM) for Nomad mutual TLS.', default: '-' },
  { name: 'NOMAD_TLS_SERVER_NAME', description: 'Server name checked in the Nomad certificate.', default: '-' },
  { name: 'NOMAD_SKIP_VERIFY', description: 'Skip Nomad certificate verification (development only).', default: '`false`' },
  { name: 'NOMAD_MGMT_TOKEN', description: 'Nomad management token, used only to create a team’s namespace.', default: '-' },
  { name: 'CONSUL_HTTP_ADDR', description: 'Consul HTTP API address (`host:port` or URL).', default: '-' },
  { name: 'CONSUL_HTTP_TOKEN', description: 'Consul ACL token.', default: '-' },
  { name: 'CONSUL_CACERT', description: 'Path to the PEM CA bundle for Consul TLS.', default: '-' },
  { name: 'VAULT_ADDR', description: 'Vault address. Set: variables are stored in Vault KV v2; unset: AES-256-GCM in Postgres with the secret key.', default: '-' },
  { name: 'VAULT_TOKEN', description: "Drover's Vault token (KV under `drover/*` only).", default: '-' },
  { name: 'VAULT_CACERT', description: 'Path to the PEM CA bundle for Vault TLS.', default: '-' },
  { name: 'VAULT_KV_MOUNT', description: 'Mount path of the KV v2 secrets engine.', default: '`secret`' },
].map((e) => Object.freeze(e)));

/** LogLevel is one pino level Drover accepts. */
export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Config is the parsed, validated and deeply frozen configuration; build it with loadConfig only. */
export interface Config {
  /** nodeEnv is NODE_ENV. */
  readonly nodeEnv: 'development' | 'production' | 'test';
  /** port is the TCP port to listen on (0 = any free port). */
  readonly port: number;
  /** host is the bind address. */
  readonly host: string;
  /** publicUrl is the base URL for links, without a trailing slash. */
  readonly publicUrl: string;
  /** dataDir is the absolute data directory. */
  readonly dataDir: string;
  /** secretKey is the 32-byte key, base64-encoded; decode it with secretKeyBytes. */
  readonly secretKey: string;
  /** secretKeySource tells where the key came from: the environment or `<data dir>/secret.key`. */
  readonly secretKeySource: 'env' | 'file';
  /** databaseUrl is DATABASE_URL, or undefined for the embedded Postgres. */
  readonly databaseUrl: string | undefined;
  /** dbPoolSize is DROVER_DB_POOL_SIZE: the most pooled Postgres connections (1–200, default 20). */
  readonly dbPoolSize: number;
  /** redisUrl is REDIS_URL, or undefined for the in-process implementations. */
  readonly redisUrl: string | undefined;
  /** appsDomain is the parent domain of generated domains (lower-case LDH). */
  readonly appsDomain: string;
  /** allowUnverifiedDomains routes custom domains before verification (labs). */
  readonly allowUnverifiedDomains: boolean;
  /** trustProxy trusts X-Forwarded-* for client addresses (never for links). */
  readonly trustProxy: boolean;
  /** logLevel is the pino level. */
  readonly logLevel: LogLevel;
  /** traefikMetricsUrl is DROVER_TRAEFIK_METRICS_URL (http or https, no credentials), or undefined: no network metrics. */
  readonly traefikMetricsUrl: string | undefined;
  /** nomad is the Nomad client configuration (NOMAD_* names). */
  readonly nomad: Readonly<NomadClientConfig>;
  /** nomadManagementToken is NOMAD_MGMT_TOKEN, read only by the namespace-creating step. */
  readonly nomadManagementToken: string | undefined;
  /** consul is the Consul configuration, or undefined when CONSUL_HTTP_ADDR is unset. */
  readonly consul: Readonly<{ address: string; token: string | undefined; caCertPath: string | undefined }> | undefined;
  /** vault is the Vault configuration, or undefined when VAULT_ADDR is unset (secrets then live in Postgres). */
  readonly vault: Readonly<{ address: string; token: string | undefined; caCertPath: string | undefined; kvMount: string }> | undefined;
  /**
   * deployments tunes the deployment engine: `removeOrphans` (DROVER_REMOVE_ORPHANS), `reconcileIntervalMs`
   * (DROVER_RECONCILE_INTERVAL, 1 s–24 h) and `progressDeadlineMs` (DROVER_DEPLOY_PROGRESS_DEADLINE, 10 s–24 h).
   */
  readonly deployments: Readonly<{ removeOrphans: boolean; reconcileIntervalMs: number; progressDeadlineMs: number }>;
  /** eventRetentionMs is DROVER_EVENT_RETENTION: how long the Postgres event log keeps team events (1 h–365 days, default 7 days). */
  readonly eventRetentionMs: number;
  /** volumePlugin is DROVER_VOLUME_PLUGIN: the plugin ID of database host volumes (`mkdir` ignores sizes). */
  readonly volumePlugin: string;
  /**
   * databasePublic is public database access through Traefik: `enabled` (DROVER_DB_PUBLIC_ACCESS), the shared SNI/TLS
   * entry point and its port (Postgres, Redis, MongoDB), MySQL's own entry point and port, and the certificate resolver
   * (empty: Traefik's default certificate). Entry point and resolver names are Traefik names (`[A-Za-z0-9_-]`).
   */
  readonly databasePublic: Readonly<{ enabled: boolean; tlsEntrypoint: string; tlsPort: number; mysqlEntrypoint: string; mysqlPort: number; certResolver: string }>;
}

/** ConfigIssue names one bad variable and what is wrong with it (never its value, which may be a secret). */
export interface ConfigIssue {
  /** variable is the environment name. */
  readonly variable: string;
  /** message says what is wrong. */
  readonly message: string;
}

/** ConfigError is thrown by loadConfig; `issues` lists EVERY bad variable, not just the first. */
export class ConfigError extends Error {
  /** issues are the bad variables, in configReference order. */
  readonly issues: readonly ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(`invalid configuration:\n${issues.map((i) => `  ${i.variable}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = Object.freeze(issues.map((i) => Object.freeze(i)));
  }
}

/** LoadConfigOptions are the non-environment inputs of loadConfig. */
export interface LoadConfigOptions {
  /** cwd resolves a relative DROVER_DATA_DIR (default process.cwd()). */
  cwd?: string;
}

const empty = (v: unknown): unknown => (v === '' ? undefined : v);
const bool = z.preprocess(
  (v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
  z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off'], { message: 'must be true or false' }),
).transform((v) => ['1', 'true', 'yes', 'on'].includes(v));
const ldhHost = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;
const urlWith = (schemes: string[], what: string) =>
  z.string().refine((s) => {
    try {
      return schemes.includes(new URL(s).protocol);
    } catch {
      return false;
    }
  }, { message: `must be a ${what} URL` });

const duration = (minMs: number, maxMs: number, min: string, max = '24h') => z.string().transform((s, ctx) => {
  const ms = parseDuration(s.trim());
  if (ms === undefined) {
    ctx.addIssue({ code: 'custom', message: 'must be a duration like `30s`, `15m` or `1h`' });
    return z.NEVER;
  }
  if (ms < minMs || ms > maxMs) {
    ctx.addIssue({ code: 'custom', message: `must be between ${min} and ${max}` });
    return z.NEVER;
  }
  return ms;
});

const traefikName = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a Traefik name (letters, digits, `_`, `-`)');
const publicPort = z.coerce.number({ message: 'must be a port number' }).int('must be an integer').min(1, 'must be 1–65535').max(65535, 'must be 1–65535');

const schema = z.object({
  NODE_ENV: z.preprocess(empty, z.enum(['development', 'production', 'test']).default('development')),
  DROVER_PORT: z.preprocess(empty, z.coerce.number({ message: 'must be a port number' }).int('must be an integer')
    .min(0, 'must be 0–65535').max(65535, 'must be 0–65535').optional()),
  DROVER_HOST: z.preprocess(empty, z.string().regex(/^[A-Za-z0-9.:[\]-]+$/, 'must be an address or host name').optional()),
  DROVER_PUBLIC_URL: z.preprocess(empty, urlWith(['http:', 'https:'], 'http(s)')
    .refine((s) => { const u = URL.parse(s); return u === null || (u.search === '' && u.hash === '' && u.username === ''); }, { message: 'must have no query, fragment or credentials' })
    .optional()),
  DROVER_DATA_DIR: z.preprocess(empty, z.string().refine((s) => !s.includes('\0'), { message: 'must be a path' }).optional()),
  DROVER_SECRET_KEY: z.preprocess(empty, z.string().optional()),
  DATABASE_URL: z.preprocess(empty, urlWith(['postgres:', 'postgresql:'], 'postgres://').optional()),
  DROVER_DB_POOL_SIZE: z.preprocess(empty, z.coerce.number({ message: 'must be a number' }).int('must be an integer')
    .min(1, 'must be 1–200').max(200, 'must be 1–200').default(20)),
  REDIS_URL: z.preprocess(empty, urlWith(['redis:', 'rediss:'], 'redis:// or rediss://').optional()),
  DROVER_APPS_DOMAIN: z.preprocess(empty, z.string().regex(ldhHost, 'must be a lower-case DNS name (LDH labels, no wildcard)').default('localhost')),
  DROVER_ALLOW_UNVERIFIED_DOMAINS: z.preprocess(empty, bool.default(false)),
  DROVER_TRUST_PROXY: z.preprocess(empty, bool.default(false)),
  DROVER_LOG_LEVEL: z.preprocess(empty, z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info')),
  DROVER_TRAEFIK_METRICS_URL: z.preprocess(empty, urlWith(['http:', 'https:'], 'http(s)')
    .refine((s) => { const u = URL.parse(s); return !u || (u.hash === '' && u.username === '' && u.password === ''); }, { message: 'must have no fragment or credentials' })
    .optional()),
  DROVER_REMOVE_ORPHANS: z.preprocess(empty, bool.default(false)),
  DROVER_RECONCILE_INTERVAL: z.preprocess(empty, duration(1_000, 86_400_000, '1s').optional()),
  DROVER_EVENT_RETENTION: z.preprocess(empty, duration(3_600_000, 8_760 * 3_600_000, '1h', '8760h').optional()),
  DROVER_DEPLOY_PROGRESS_DEADLINE: z.preprocess(empty, duration(10_000, 86_400_000, '10s').optional()),
  DROVER_DB_PUBLIC_ACCESS: z.preprocess(empty, bool.default(false)),
  DROVER_DB_TLS_ENTRYPOINT: z.preprocess(empty, traefikName.default('dbtls')),
  DROVER_DB_TLS_PORT: z.preprocess(empty, publicPort.default(5432)),
  DROVER_DB_MYSQL_ENTRYPOINT: z.preprocess(empty, traefikName.default('mysql')),
  DROVER_DB_MYSQL_PORT: z.preprocess(empty, publicPort.default(3306)),
  DROVER_DB_CERT_RESOLVER: z.preprocess(empty, traefikName.default('letsencrypt')),
  DROVER_VOLUME_PLUGIN: z.preprocess(empty, z.string().regex(/^[a-zA-Z0-9_-]{1,128}$/, 'must be a plugin ID (letters, digits, `-`, `_`)').default('mkdir')),
  NOMAD_MGMT_TOKEN: z.preprocess(empty, z.string().optional()),
  CONSUL_HTTP_ADDR: z.preprocess(empty, z.string().optional()),
  CONSUL_HTTP_TOKEN: z.preprocess(empty, z.string().optional()),
  CONSUL_CACERT: z.preprocess(empty, z.string().optional()),
  VAULT_ADDR: z.preprocess(empty, urlWith(['http:', 'https:'], 'http(s)').optional()),
  VAULT_TOKEN: z.preprocess(empty, z.string().optional()),
  VAULT_CACERT: z.preprocess(empty, z.string().optional()),
  VAULT_KV_MOUNT: z.preprocess(empty, z.string().regex(/^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/, 'must be a mount path like `secret`').default('secret')),
});

/** decodeSecretKey turns 64 hex characters or base64 of 32 bytes into the key, or undefined when malformed. */
export function decodeSecretKey(text: string): Buffer | undefined {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, 'hex');
  if (/^[A-Za-z0-9+/_-]{42,43}=?$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (b.length === 32) return b;
  }
  return undefined;
}

/** secretKeyBytes returns a fresh copy of the configured 32-byte secret key. */
export function secretKeyBytes(config: Pick<Config, 'secretKey'>): Buffer {
  return Buffer.from(config.secretKey, 'base64');
}

/**
 * ensureDataDir creates the data directory (mode 0700, or 0711 for root so the dedicated Postgres user can reach
 * its own subdirectory) and returns it.
 */
export function ensureDataDir(dataDir: string): string {
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (process.getuid?.() === 0) chmodSync(dataDir, 0o711);
  return dataDir;
}

/** readOrCreateSecretKey reads `<data dir>/secret.key`, creating it with 32 random bytes (mode 0600) once. */
function readOrCreateSecretKey(dataDir: string): Buffer | string {
  const file = join(dataDir, 'secret.key');
  try {
    const key = decodeSecretKey(readFileSync(file, 'utf8'));
    return key ?? `${file} does not hold a 32-byte key`;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') return `cannot read ${file}: ${(e as Error).message}`;
  }
  ensureDataDir(dataDir);
  const key = randomBytes(32);
  try {
    writeFileSync(file, key.toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
    return key;
  } catch (e) {
    // Another process created it between our read and write: use theirs.
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') return readOrCreateSecretKey(dataDir);
    return `cannot write ${file}: ${(e as Error).message}`;
  }
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object' && !Object.isFrozen(o)) {
    Object.freeze(o);
    for (const v of Object.values(o as Record<string, unknown>)) deepFreeze(v);
  }
  return o;
}

/**
 * loadConfig parses `env` (pass process.env at boot, a literal object in tests) into a deeply frozen Config.
 * In development/test, a missing DROVER_SECRET_KEY is read from (or generated once into) `<data dir>/secret.key`;
 * in production it is an error. Throws ConfigError listing every bad variable; values are never echoed.
 */
export function loadConfig(env: Readonly<Record<string, string | undefined>>, options: LoadConfigOptions = {}): Config {
  const issues: ConfigIssue[] = [];
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    for (const i of parsed.error.issues) issues.push({ variable: String(i.path[0] ?? '?'), message: i.message });
  }
  let nomad: NomadClientConfig | undefined;
  try {
    nomad = nomadConfigFromEnv(env, {}, (p) => readFileSync(p, 'utf8'));
  } catch (e) {
    if (e instanceof NomadConfigError) issues.push({ variable: e.variable, message: e.message.replace(`${e.variable}: `, '') });
    else throw e;
  }
  const v = parsed.success ? parsed.data : undefined;
  let secretKey: Buffer | undefined;
  let secretKeySource: 'env' | 'file' = 'env';
  const dataDir = resolve(options.cwd ?? process.cwd(), v?.DROVER_DATA_DIR ?? './.drover');
  const rawKey = env.DROVER_SECRET_KEY === '' ? undefined : env.DROVER_SECRET_KEY;
  if (rawKey !== undefined) {
    secretKey = decodeSecretKey(rawKey);
    if (!secretKey) issues.push({ variable: 'DROVER_SECRET_KEY', message: 'must be 32 bytes as base64 or 64 hex characters' });
  } else if (env.NODE_ENV === 'production') {
    issues.push({ variable: 'DROVER_SECRET_KEY', message: 'is required in production (32 bytes as base64 or hex, e.g. `openssl rand -base64 32`)' });
  } else if (v && issues.length === 0) {
    const r = readOrCreateSecretKey(dataDir);
    if (typeof r === 'string') issues.push({ variable: 'DROVER_SECRET_KEY', message: `unset, and ${r}` });
    else {
      secretKey = r;
      secretKeySource = 'file';
    }
  }
  if (issues.length > 0 || !v || !nomad || !secretKey) {
    const order = configReference.map((e) => e.name);
    issues.sort((a, b) => (order.indexOf(a.variable) >>> 0) - (order.indexOf(b.variable) >>> 0));
    throw new ConfigError(issues);
  }
  const production = v.NODE_ENV === 'production';
  const port = v.DROVER_PORT ?? 3000;
  const config: Config = {
    nodeEnv: v.NODE_ENV,
    port,
    host: v.DROVER_HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    publicUrl: (v.DROVER_PUBLIC_URL ?? `http://localhost:${port}`).replace(/\/+$/, ''),
    dataDir,
    secretKey: secretKey.toString('base64'),
    secretKeySource,
    databaseUrl: v.DATABASE_URL,
    dbPoolSize: v.DROVER_DB_POOL_SIZE,
    redisUrl: v.REDIS_URL,
    appsDomain: v.DROVER_APPS_DOMAIN,
    allowUnverifiedDomains: v.DROVER_ALLOW_UNVERIFIED_DOMAINS,
    trustProxy: v.DROVER_TRUST_PROXY,
    logLevel: v.DROVER_LOG_LEVEL,
    traefikMetricsUrl: v.DROVER_TRAEFIK_METRICS_URL,
    nomad,
    nomadManagementToken: v.NOMAD_MGMT_TOKEN,
    consul: v.CONSUL_HTTP_ADDR === undefined ? undefined
      : { address: v.CONSUL_HTTP_ADDR, token: v.CONSUL_HTTP_TOKEN, caCertPath: v.CONSUL_CACERT },
    vault: v.VAULT_ADDR === undefined ? undefined
      : { address: v.VAULT_ADDR.replace(/\/+$/, ''), token: v.VAULT_TOKEN, caCertPath: v.VAULT_CACERT, kvMount: v.VAULT_KV_MOUNT },
    deployments: {
      removeOrphans: v.DROVER_REMOVE_ORPHANS,
      reconcileIntervalMs: v.DROVER_RECONCILE_INTERVAL ?? 30_000,
      progressDeadlineMs: v.DROVER_DEPLOY_PROGRESS_DEADLINE ?? 15 * 60_000,
    },
    eventRetentionMs: v.DROVER_EVENT_RETENTION ?? 7 * 24 * 3_600_000,
    volumePlugin: v.DROVER_VOLUME_PLUGIN,
    databasePublic: {
      enabled: v.DROVER_DB_PUBLIC_ACCESS, tlsEntrypoint: v.DROVER_DB_TLS_ENTRYPOINT, tlsPort: v.DROVER_DB_TLS_PORT,
      mysqlEntrypoint: v.DROVER_DB_MYSQL_ENTRYPOINT, mysqlPort: v.DROVER_DB_MYSQL_PORT,
      certResolver: v.DROVER_DB_CERT_RESOLVER === 'none' ? '' : v.DROVER_DB_CERT_RESOLVER,
    },
  };
  return deepFreeze(config);
}

/** renderConfigTable renders configReference as the Markdown table the README carries. */
export function renderConfigTable(): string {
  const rows = configReference.map((e) => `| \`${e.name}\` | ${e.description} | ${e.default} |`);
  return ['| variable | meaning | default |', '|---|---|---|', ...rows].join('\n');
}
