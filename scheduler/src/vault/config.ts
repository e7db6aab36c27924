/**
 * Vault adapter configuration from HashiCorp's environment names, parsed by a pure function (the server's config
 * module passes process.env once at boot; the scheduler never reads it).
 */

/** VaultTlsConfig holds PEM material (contents, not paths) and TLS checks for an https Vault address. */
export interface VaultTlsConfig {
  /** ca is the PEM bundle trusted for Vault's certificate (VAULT_CACERT's contents). */
  ca?: string;
  /** cert is the client certificate PEM (VAULT_CLIENT_CERT's contents). */
  cert?: string;
  /** key is the client key PEM (VAULT_CLIENT_KEY's contents). */
  key?: string;
  /** serverName overrides the SNI / certificate name checked (VAULT_TLS_SERVER_NAME). */
  serverName?: string;
  /** skipVerify disables certificate checks (VAULT_SKIP_VERIFY); local development only. */
  skipVerify?: boolean;
}

/** VaultClientConfig is what the Vault adapter needs. */
export interface VaultClientConfig {
  /** address is Vault's address with scheme, e.g. `https://vault.service:8200` (VAULT_ADDR). */
  address: string;
  /** token is Drover's Vault token (VAULT_TOKEN): KV under `drover/*` and its own lookup/renew, nothing else. */
  token?: string;
  /** namespace is the Vault Enterprise namespace (VAULT_NAMESPACE), sent as X-Vault-Namespace. */
  namespace?: string;
  /** kvMount is the KV v2 mount holding Drover's secrets (default `secret`). */
  kvMount: string;
  /** tls configures https addresses. */
  tls?: VaultTlsConfig;
  /** timeoutMs bounds one request (default 10 s). */
  timeoutMs?: number;
}

/** VaultConfigError names the variable whose value cannot be used. */
export class VaultConfigError extends Error {
  /** code is the namespaced error code `vault/invalid_config`. */
  readonly code = 'vault/invalid_config';
  /** variable is the environment name or option at fault. */
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(`${variable}: ${message}`);
    this.name = 'VaultConfigError';
    this.variable = variable;
  }
}

/** vaultMountPattern is what a KV mount path may be: slash-separated segments of letters, digits, `_` and `-`. */
export const vaultMountPattern = /^[A-Za-z0-9_-]+(\/[A-Za-z0-9_-]+)*$/;

function parseBool(variable: string, v: string): boolean {
  const s = v.trim().toLowerCase();
  if (['1', 't', 'true', 'yes', 'on'].includes(s)) return true;
  if (['0', 'f', 'false', 'no', 'off'].includes(s)) return false;
  throw new VaultConfigError(variable, `not a boolean: "${v}"`);
}

/**
 * vaultConfigFromEnv builds a VaultClientConfig from VAULT_ADDR (default `https://127.0.0.1:8200`, as Vault's CLI),
 * VAULT_TOKEN, VAULT_NAMESPACE, VAULT_CACERT, VAULT_CLIENT_CERT, VAULT_CLIENT_KEY, VAULT_TLS_SERVER_NAME and
 * VAULT_SKIP_VERIFY; overrides win (kvMount is an option only). Pure: PEM files are read only through `readFile`.
 */
export function vaultConfigFromEnv(
  env: Record<string, string | undefined>,
  overrides: Partial<Omit<VaultClientConfig, 'tls'>> & { tls?: Partial<VaultTlsConfig> } = {},
  readFile?: (path: string) => string,
): VaultClientConfig {
  const get = (k: string): string | undefined => (env[k] === undefined || env[k] === '' ? undefined : env[k]);
  const pem = (k: string): string | undefined => {
    const p = get(k);
    if (p === undefined) return undefined;
    if (!readFile) throw new VaultConfigError(k, 'set, but no file reader was given to read it');
    try {
      return readFile(p);
    } catch (e) {
      throw new VaultConfigError(k, `cannot read ${p}: ${(e as Error).message}`);
    }
  };
  const variable = overrides.address !== undefined ? 'address' : 'VAULT_ADDR';
  const raw = overrides.address ?? get('VAULT_ADDR') ?? 'https://127.0.0.1:8200';
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new VaultConfigError(variable, `not a URL: "${raw}"`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new VaultConfigError(variable, 'scheme must be http or https');
  if (u.username || u.password || u.search || u.pathname !== '/') throw new VaultConfigError(variable, 'only scheme, host and port belong in the address');
  const kvMount = overrides.kvMount ?? 'secret';
  if (!vaultMountPattern.test(kvMount)) throw new VaultConfigError('kvMount', `invalid mount "${kvMount}"`);
  const skip = get('VAULT_SKIP_VERIFY');
  const tls: VaultTlsConfig = {
    ca: pem('VAULT_CACERT'),
    cert: pem('VAULT_CLIENT_CERT'),
    key: pem('VAULT_CLIENT_KEY'),
    serverName: get('VAULT_TLS_SERVER_NAME'),
    skipVerify: skip === undefined ? undefined : parseBool('VAULT_SKIP_VERIFY', skip),
    ...overrides.tls,
  };
  if ((tls.cert === undefined) !== (tls.key === undefined)) {
    throw new VaultConfigError('VAULT_CLIENT_CERT', 'VAULT_CLIENT_CERT and VAULT_CLIENT_KEY go together');
  }
  const cfg: VaultClientConfig = {
    address: u.origin,
    token: overrides.token ?? get('VAULT_TOKEN'),
    namespace: overrides.namespace ?? get('VAULT_NAMESPACE'),
    kvMount,
    timeoutMs: overrides.timeoutMs,
  };
  const tlsDefined = Object.fromEntries(Object.entries(tls).filter(([, v]) => v !== undefined)) as VaultTlsConfig;
  if (Object.keys(tlsDefined).length > 0) cfg.tls = tlsDefined;
  return Object.fromEntries(Object.entries(cfg).filter(([, v]) => v !== undefined)) as unknown as VaultClientConfig;
}
