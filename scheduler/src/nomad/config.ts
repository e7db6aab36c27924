/**
 * Nomad client configuration: the HashiCorp environment names (NOMAD_ADDR, NOMAD_TOKEN, …) parsed by a pure
 * function, so the server's config module reads process.env once at boot and the scheduler never does.
 */

/** NomadTlsConfig holds PEM material (file contents, not paths) and the TLS checks for an https Nomad address. */
export interface NomadTlsConfig {
  /** ca is the PEM bundle trusted for the server certificate (NOMAD_CACERT's contents); undefined = system roots. */
  ca?: string;
  /** cert is the client certificate PEM for mutual TLS (NOMAD_CLIENT_CERT's contents). */
  cert?: string;
  /** key is the client key PEM for mutual TLS (NOMAD_CLIENT_KEY's contents). */
  key?: string;
  /** serverName overrides the SNI / certificate name checked (NOMAD_TLS_SERVER_NAME). */
  serverName?: string;
  /** skipVerify disables certificate verification (NOMAD_SKIP_VERIFY); only for local development. */
  skipVerify?: boolean;
}

/** NomadRetryConfig bounds the retries of idempotent reads: exponential backoff with full jitter. */
export interface NomadRetryConfig {
  /** maxAttempts is the total number of tries of one read (≥ 1; 1 = no retry). */
  maxAttempts: number;
  /** baseDelayMs is the first backoff ceiling; each retry doubles it. */
  baseDelayMs: number;
  /** maxDelayMs caps one backoff. */
  maxDelayMs: number;
}

/** NomadClientConfig is everything the Nomad client needs; built by nomadConfigFromEnv or by hand. */
export interface NomadClientConfig {
  /** address is the Nomad HTTP address with scheme, e.g. `http://127.0.0.1:4646` (NOMAD_ADDR). */
  address: string;
  /** token is the ACL secret sent as X-Nomad-Token (NOMAD_TOKEN); never logged. */
  token?: string;
  /** namespace is the default namespace of requests that do not name one (NOMAD_NAMESPACE). */
  namespace?: string;
  /** region is the default region of requests that do not name one (NOMAD_REGION). */
  region?: string;
  /** tls configures https addresses. */
  tls?: NomadTlsConfig;
  /** retry bounds the retries of idempotent reads (default 4 attempts, 100 ms base, 5 s cap). */
  retry?: NomadRetryConfig;
  /** connections is the keep-alive pool size per address (default 16). */
  connections?: number;
  /** headersTimeoutMs bounds the wait for response headers beyond a blocking query's own wait (default 30 s). */
  headersTimeoutMs?: number;
}

/** NomadConfigError reports a configuration value that cannot be used, naming the variable. */
export class NomadConfigError extends Error {
  /** variable is the environment name or option at fault. */
  readonly variable: string;
  /** code is the namespaced error code `nomad/invalid_config`. */
  readonly code = 'nomad/invalid_config';
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'NomadConfigError';
    this.variable = variable;
  }
}

/** NomadConfigOverrides are explicit options that win over the environment. */
export type NomadConfigOverrides = Partial<Omit<NomadClientConfig, 'tls'>> & { tls?: Partial<NomadTlsConfig> };

/** NomadEnvFileReader reads a PEM file named by NOMAD_CACERT & co; injected so nomadConfigFromEnv stays pure. */
export type NomadEnvFileReader = (path: string) => string;

function parseBool(variable: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['1', 't', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'f', 'false', 'no', 'off', ''].includes(s)) return false;
  throw new NomadConfigError(variable, `not a boolean: "${v}"`);
}

/** normalizeNomadAddress validates an address and strips a trailing slash; only http and https are accepted. */
export function normalizeNomadAddress(address: string, variable = 'NOMAD_ADDR'): string {
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new NomadConfigError(variable, `not a URL: "${address}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new NomadConfigError(variable, 'scheme must be http or https');
  if (u.username || u.password) throw new NomadConfigError(variable, 'credentials do not belong in the address');
  return u.origin + u.pathname.replace(/\/+$/, '');
}

/**
 * nomadConfigFromEnv builds a NomadClientConfig from HashiCorp's environment names, then applies overrides
 * (explicit options win). Pure: it reads only `env`, and PEM files only through `readFile` (pass
 * `(p) => readFileSync(p, 'utf8')` at boot). NOMAD_ADDR defaults to `http://127.0.0.1:4646` as Nomad's CLI does.
 * Throws NomadConfigError naming the variable for a malformed value.
 */
export function nomadConfigFromEnv(
  env: Record<string, string | undefined>,
  overrides: NomadConfigOverrides = {},
  readFile?: NomadEnvFileReader,
): NomadClientConfig {
  const nonEmpty = (k: string): string | undefined => {
    const v = env[k];
    return v === undefined || v === '' ? undefined : v;
  };
  const pem = (k: string): string | undefined => {
    const path = nonEmpty(k);
    if (path === undefined) return undefined;
    if (!readFile) throw new NomadConfigError(k, 'set, but no file reader was given to read it');
    try {
      return readFile(path);
    } catch (e) {
      throw new NomadConfigError(k, `cannot read ${path}: ${(e as Error).message}`);
    }
  };
  const skip = nonEmpty('NOMAD_SKIP_VERIFY');
  const tls: NomadTlsConfig = {
    ca: pem('NOMAD_CACERT'),
    cert: pem('NOMAD_CLIENT_CERT'),
    key: pem('NOMAD_CLIENT_KEY'),
    serverName: nonEmpty('NOMAD_TLS_SERVER_NAME'),
    skipVerify: skip === undefined ? undefined : parseBool('NOMAD_SKIP_VERIFY', skip),
    ...definedOnly(overrides.tls ?? {}),
  };
  const address = normalizeNomadAddress(overrides.address ?? nonEmpty('NOMAD_ADDR') ?? 'http://127.0.0.1:4646',
    overrides.address !== undefined ? 'address' : 'NOMAD_ADDR');
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new NomadConfigError('NOMAD_CLIENT_CERT', 'NOMAD_CLIENT_CERT and NOMAD_CLIENT_KEY go together');
  }
  const cfg: NomadClientConfig = {
    address,
    token: overrides.token ?? nonEmpty('NOMAD_TOKEN'),
    namespace: overrides.namespace ?? nonEmpty('NOMAD_NAMESPACE'),
    region: overrides.region ?? nonEmpty('NOMAD_REGION'),
    retry: overrides.retry,
    connections: overrides.connections,
    headersTimeoutMs: overrides.headersTimeoutMs,
  };
  if (Object.values(tls).some((v) => v !== undefined)) cfg.tls = definedOnly(tls);
  return definedOnly(cfg) as NomadClientConfig;
}

function definedOnly<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
