/**
 * Consul adapter configuration from HashiCorp's environment names, parsed by a pure function (the server's config
 * module passes process.env once at boot; the scheduler never reads it).
 */

/** ConsulTlsConfig holds PEM material (contents, not paths) and TLS checks for an https Consul address. */
export interface ConsulTlsConfig {
  /** ca is the PEM bundle trusted for Consul's certificate (CONSUL_CACERT's contents). */
  ca?: string;
  /** cert is the client certificate PEM (CONSUL_CLIENT_CERT's contents). */
  cert?: string;
  /** key is the client key PEM (CONSUL_CLIENT_KEY's contents). */
  key?: string;
  /** serverName overrides the SNI / certificate name checked (CONSUL_TLS_SERVER_NAME). */
  serverName?: string;
  /** skipVerify disables certificate checks (CONSUL_HTTP_SSL_VERIFY=false); local development only. */
  skipVerify?: boolean;
}

/** ConsulClientConfig is what the Consul adapter needs. */
export interface ConsulClientConfig {
  /** address is Consul's HTTP address with scheme, e.g. `http://127.0.0.1:8500`. */
  address: string;
  /** token is the ACL token sent as X-Consul-Token (CONSUL_HTTP_TOKEN); Drover's needs only read rights. */
  token?: string;
  /** datacenter is the default `dc` of reads (unset = the agent's own). */
  datacenter?: string;
  /** tls configures https addresses. */
  tls?: ConsulTlsConfig;
  /** timeoutMs bounds one request (default 10 s; blocking reads add their wait). */
  timeoutMs?: number;
}

/** ConsulConfigError names the variable whose value cannot be used. */
export class ConsulConfigError extends Error {
  /** code is the namespaced error code `consul/invalid_config`. */
  readonly code = 'consul/invalid_config';
  /** variable is the environment name or option at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'ConsulConfigError';
    this.variable = variable;
  }
}

function parseBool(variable: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['1', 't', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'f', 'false', 'no', 'off'].includes(s)) return false;
  throw new ConsulConfigError(variable, `not a boolean: "${v}"`);
}

/**
 * consulConfigFromEnv builds a ConsulClientConfig from CONSUL_HTTP_ADDR (host:port or a URL; default
 * 127.0.0.1:8500), CONSUL_HTTP_TOKEN, CONSUL_HTTP_SSL, CONSUL_HTTP_SSL_VERIFY, CONSUL_CACERT, CONSUL_CLIENT_CERT,
 * CONSUL_CLIENT_KEY and CONSUL_TLS_SERVER_NAME; overrides win. Pure: PEM files are read only through `readFile`.
 * Throws ConsulConfigError naming the variable.
 */
export function consulConfigFromEnv(
  env: Record<string, string | undefined>,
  overrides: Partial<Omit<ConsulClientConfig, 'tls'>> & { tls?: Partial<ConsulTlsConfig> } = {},
  readFile?: (path: string) => string,
): ConsulClientConfig {
  const get = (k: string): string | undefined => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const pem = (k: string): string | undefined => {
    const p = get(k);
    if (p === undefined) return undefined;
    if (!readFile) throw new ConsulConfigError(k, 'set, but no file reader was given to read it');
    try {
      return readFile(p);
    } catch (e) {
      throw new ConsulConfigError(k, `cannot read ${p}: ${(e as Error).message}`);
    }
  };
  const ssl = get('CONSUL_HTTP_SSL');
  const verify = get('CONSUL_HTTP_SSL_VERIFY');
  let address = overrides.address ?? get('CONSUL_HTTP_ADDR') ?? '127.0.0.1:8500';
  const variable = overrides.address !== undefined ? 'address' : 'CONSUL_HTTP_ADDR';
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(address)) {
    address = `${ssl !== undefined && parseBool('CONSUL_HTTP_SSL', ssl) ? 'https' : 'http'}://${address}`;
  }
  let u: URL;
  try {
    u = new URL(address);
  } catch {
    throw new ConsulConfigError(variable, `not an address: "${address}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new ConsulConfigError(variable, 'scheme must be http or https');
  if (u.username || u.password) throw new ConsulConfigError(variable, 'credentials do not belong in the address');
  if (u.pathname !== '/' || u.search) throw new ConsulConfigError(variable, 'no path or query in the address');
  const tls: ConsulTlsConfig = {
    ca: pem('CONSUL_CACERT'),
    cert: pem('CONSUL_CLIENT_CERT'),
    key: pem('CONSUL_CLIENT_KEY'),
    serverName: get('CONSUL_TLS_SERVER_NAME'),
    skipVerify: verify === undefined ? undefined : !parseBool('CONSUL_HTTP_SSL_VERIFY', verify),
    ...overrides.tls,
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConsulConfigError('CONSUL_CLIENT_CERT', 'CONSUL_CLIENT_CERT and CONSUL_CLIENT_KEY go together');
  }
  const cfg: ConsulClientConfig = {
    address: u.origin,
    token: overrides.token ?? get('CONSUL_HTTP_TOKEN'),
    datacenter: overrides.datacenter,
    timeoutMs: overrides.timeoutMs,
  };
  const tlsDefined = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) as ConsulTlsConfig;
  if (Object.keys(tlsDefined).length > 0) cfg.tls = tlsDefined;
  return Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as unknown as ConsulClientConfig;
}
