/**
 * VaultAdapter: Drover's only way into Vault, on npm `node-vault` (with an undici transport for TLS material and
 * timeouts). It reads and writes KV v2 secrets under `<mount>/data/drover/<namespace>/<jobId>` — the path a
 * templated Vault policy on the workload identity claims lets each job read — plus health, seal status and the
 * token's own lookup/renewal. Sealed or unreachable Vault is an error, never a fallback to plaintext elsewhere.
 */
import vault from 'node-vault';
import { Pool } from 'undici';
import type { VaultClientConfig } from './config.ts';
import {
  VaultCasMismatchError, VaultPathError, VaultPermissionDeniedError, VaultResponseError, VaultSealedError,
  VaultUnreachableError,
} from './errors.ts';

/** vaultSegmentPattern is what a namespace or job ID segment may be: a DNS label, as Drover's names are. */
export const vaultSegmentPattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** KvVersionMetadata describes one version of a secret (Vault's KV v2 version metadata). */
export interface KvVersionMetadata {
  /** version is the version number (from 1). */
  version: number;
  /** createdTime is when the version was written (RFC 3339). */
  createdTime: string;
  /** deletionTime is when it was soft-deleted ("" when not deleted). */
  deletionTime: string;
  /** destroyed is true once its data is gone for good. */
  destroyed: boolean;
}

/** KvSecret is a read secret: its key/value data and the metadata of the version read. */
export interface KvSecret {
  /** data maps variable names to values. Values are secret: never log them. */
  data: Record<string, string>;
  /** metadata is the version read. */
  metadata: KvVersionMetadata;
}

/** KvMetadata is a secret's version history (GET metadata). */
export interface KvMetadata {
  /** currentVersion is the newest version. */
  currentVersion: number;
  /** oldestVersion is the oldest version kept. */
  oldestVersion: number;
  /** maxVersions is the number of versions kept (0 = the mount's default). */
  maxVersions: number;
  /** casRequired is true when every write must carry `cas`. */
  casRequired: boolean;
  /** versions maps version numbers to their metadata. */
  versions: Record<string, KvVersionMetadata>;
}

/** VaultHealth is Vault's /sys/health answer. */
export interface VaultHealth {
  /** initialized is false on a fresh Vault. */
  initialized: boolean;
  /** sealed is true while Vault is sealed: every KV call fails with VaultSealedError. */
  sealed: boolean;
  /** standby is true on a standby node. */
  standby: boolean;
  /** version is Vault's version. */
  version: string;
  /** clusterName is the cluster's name. */
  clusterName: string;
}

/** VaultSealStatus is Vault's /sys/seal-status answer. */
export interface VaultSealStatus {
  /** sealed is true while Vault is sealed. */
  sealed: boolean;
  /** threshold is the number of key shares needed to unseal. */
  threshold: number;
  /** shares is the number of key shares. */
  shares: number;
  /** progress is the number of shares entered so far. */
  progress: number;
  /** version is Vault's version. */
  version: string;
}

/** VaultTokenInfo is what lookup-self says about Drover's token (never the token itself). */
export interface VaultTokenInfo {
  /** accessor is the token's accessor (safe to log). */
  accessor: string;
  /** policies are the token's policies. */
  policies: string[];
  /** ttlSeconds is the remaining TTL (0 = no expiry). */
  ttlSeconds: number;
  /** renewable is true when renew-self can extend it. */
  renewable: boolean;
  /** expireTime is the expiry (RFC 3339) or null. */
  expireTime: string | null;
}

/** VaultRenewal is what renew-self grants. */
export interface VaultRenewal {
  /** leaseDurationSeconds is the new TTL. */
  leaseDurationSeconds: number;
  /** renewable is true when the token can be renewed again. */
  renewable: boolean;
  /** policies are the token's policies. */
  policies: string[];
}

interface RpOptions {
  method: string;
  uri: string;
  headers?: Record<string, string>;
  json?: unknown;
}

interface RpResponse {
  statusCode: number;
  body: unknown;
  request: { path: string };
}

interface ApiResponseError extends Error {
  response?: { statusCode?: number; body?: { errors?: unknown[] } | unknown };
}

/**
 * undiciTransport adapts an undici Pool to node-vault's pluggable `request-promise` interface: it sends the
 * request and resolves every HTTP answer (node-vault decides what is an error); a transport failure rejects
 * with VaultUnreachableError.
 */
function undiciTransport(pool: Pool, timeoutMs: number): { defaults: () => (o: RpOptions) => Promise<RpResponse> } {
  const send = async (o: RpOptions): Promise<RpResponse> => {
    const u = new URL(o.uri);
    const body = o.json !== undefined && typeof o.json === 'object' ? JSON.stringify(o.json) : undefined;
    const headers: Record<string, string> = { ...o.headers };
    if (body !== undefined) headers['content-type'] ??= 'application/json';
    try {
      const res = await pool.request({
        method: o.method as 'GET',
        path: u.pathname + u.search,
        headers,
        body,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      const text = await res.body.text();
      let parsed: unknown = undefined;
      if (text !== '') {
        try {
          parsed = JSON.parse(text);
        } catch {
          parsed = { errors: [text.slice(0, 300)] };
        }
      }
      return { statusCode: res.statusCode, body: parsed, request: { path: u.pathname } };
    } catch (e) {
      throw new VaultUnreachableError(`${o.method} ${u.pathname}`, (e as Error).message, undefined, e);
    }
  };
  return { defaults: () => send };
}

function errorsOf(e: ApiResponseError): string[] {
  const body = e.response?.body as { errors?: unknown[] } | undefined;
  return Array.isArray(body?.errors) ? body.errors.map(String) : [];
}

function classify(operation: string, e: unknown, cas?: number): Error {
  if (e instanceof VaultUnreachableError) return new VaultUnreachableError(operation, e.message, undefined, e.cause);
  const err = e as ApiResponseError;
  const status = err?.response?.statusCode;
  if (status === undefined) return new VaultUnreachableError(operation, (e as Error)?.message ?? String(e), undefined, e);
  const messages = errorsOf(err);
  if (status === 503 && messages.some((m) => /sealed/i.test(m))) return new VaultSealedError(operation);
  if (status >= 500 || status === 429) return new VaultUnreachableError(operation, `${status} ${messages.join('; ')}`, status, e);
  if (status === 403) return new VaultPermissionDeniedError(operation);
  if (status === 400 && cas !== undefined && messages.some((m) => /check-and-set/i.test(m))) return new VaultCasMismatchError(cas);
  return new VaultResponseError(operation, status, messages);
}

function is404(e: unknown): boolean {
  return (e as ApiResponseError)?.response?.statusCode === 404;
}

function versionMeta(m: Record<string, unknown> | undefined): KvVersionMetadata {
  return {
    version: Number(m?.version ?? 0),
    createdTime: String(m?.created_time ?? ''),
    deletionTime: String(m?.deletion_time ?? ''),
    destroyed: Boolean(m?.destroyed ?? false),
  };
}

function assertVersions(versions: readonly number[]): void {
  if (versions.length === 0 || versions.some((v) => !Number.isInteger(v) || v < 1)) throw new RangeError('versions must be positive integers');
}

/** VaultAdapter reads and writes Drover's KV v2 secrets and watches Vault's health. close() on shutdown. */
export class VaultAdapter {
  private readonly client: ReturnType<typeof vault>;
  private readonly pool: Pool;
  private readonly mount: string;

  constructor(config: VaultClientConfig) {
    const tls = config.tls;
    this.pool = new Pool(config.address, {
      connections: 8,
      connect: config.address.startsWith('https:')
        ? { ca: tls?.ca, cert: tls?.cert, key: tls?.key, servername: tls?.serverName, rejectUnauthorized: !(tls?.skipVerify ?? false) }
        : undefined,
    });
    this.mount = config.kvMount;
    this.client = vault({
      apiVersion: 'v1',
      endpoint: config.address,
      token: config.token,
      namespace: config.namespace,
      noCustomHTTPVerbs: true,
      'request-promise': undiciTransport(this.pool, config.timeoutMs ?? 10_000),
    });
    // node-vault falls back to VAULT_TOKEN / VAULT_NAMESPACE / VAULT_PREFIX from process.env when an option is
    // unset; Drover's configuration is parsed once at boot, so pin every one of them to what was configured.
    this.client.token = config.token ?? '';
    (this.client as unknown as { namespace: string }).namespace = config.namespace ?? '';
    (this.client as unknown as { pathPrefix: string }).pathPrefix = '';
  }

  /** close closes the connection pool. */
  async close(): Promise<void> {
    await this.pool.close();
  }

  /** secretPath returns the logical path `drover/<namespace>/<jobId>` after validating both segments. */
  secretPath(namespace: string, jobId: string): string {
    if (!vaultSegmentPattern.test(namespace)) throw new VaultPathError('namespace', namespace);
    if (!vaultSegmentPattern.test(jobId)) throw new VaultPathError('jobId', jobId);
    return `drover/${namespace}/${jobId}`;
  }

  private kv(kind: 'data' | 'metadata' | 'delete' | 'destroy', namespace: string, jobId: string): string {
    return `${this.mount}/${kind}/${this.secretPath(namespace, jobId)}`;
  }

  /**
   * readSecret reads the latest version, or `version` (GET <mount>/data/drover/<ns>/<job>[?version=]). Resolves to
   * null when the secret or that version does not exist or is deleted/destroyed; outages throw.
   */
  async readSecret(namespace: string, jobId: string, opts: { version?: number } = {}): Promise<KvSecret | null> {
    const path = this.kv('data', namespace, jobId);
    if (opts.version !== undefined && (!Number.isInteger(opts.version) || opts.version < 1)) throw new RangeError('version must be a positive integer');
    try {
      const r = (await this.client.read(opts.version !== undefined ? `${path}?version=${opts.version}` : path)) as { data?: { data?: Record<string, string> | null; metadata?: Record<string, unknown> } };
      if (!r?.data?.data) return null;
      return { data: r.data.data, metadata: versionMeta(r.data.metadata) };
    } catch (e) {
      if (is404(e)) return null;
      throw classify('kv read', e);
    }
  }

  /**
   * writeSecret writes a new version (POST <mount>/data/…). With `cas` it is a check-and-set: 0 = must not exist,
   * n = the current version must be n; a lost race is VaultCasMismatchError. Values must be strings.
   */
  async writeSecret(namespace: string, jobId: string, data: Record<string, string>, opts: { cas?: number } = {}): Promise<KvVersionMetadata> {
    const path = this.kv('data', namespace, jobId);
    for (const [k, v] of Object.entries(data)) {
      if (k === '' || typeof v !== 'string') throw new TypeError(`secret key "${k}" must be a non-empty name with a string value`);
    }
    if (opts.cas !== undefined && (!Number.isInteger(opts.cas) || opts.cas < 0)) throw new RangeError('cas must be a non-negative integer');
    const body: { data: Record<string, string>; options?: { cas: number } } = { data: { ...data } };
    if (opts.cas !== undefined) body.options = { cas: opts.cas };
    try {
      const r = (await this.client.write(path, body)) as { data?: Record<string, unknown> };
      return versionMeta(r?.data);
    } catch (e) {
      throw classify('kv write', e, opts.cas);
    }
  }

  /** listSecrets lists the job IDs holding secrets in a namespace (GET <mount>/metadata/drover/<ns>/?list=true). */
  async listSecrets(namespace: string): Promise<string[]> {
    if (!vaultSegmentPattern.test(namespace)) throw new VaultPathError('namespace', namespace);
    try {
      const r = (await this.client.request({ path: `/${this.mount}/metadata/drover/${namespace}/?list=true`, method: 'GET' })) as { data?: { keys?: string[] } };
      return (r?.data?.keys ?? []).filter((k) => !k.endsWith('/'));
    } catch (e) {
      if (is404(e)) return [];
      throw classify('kv list', e);
    }
  }

  /** deleteLatest soft-deletes the latest version (DELETE <mount>/data/…); it can be undeleted, versions stay. */
  async deleteLatest(namespace: string, jobId: string): Promise<void> {
    const path = this.kv('data', namespace, jobId);
    try {
      await this.client.delete(path);
    } catch (e) {
      throw classify('kv delete', e);
    }
  }

  /** deleteVersions soft-deletes the given versions (POST <mount>/delete/…). */
  async deleteVersions(namespace: string, jobId: string, versions: readonly number[]): Promise<void> {
    assertVersions(versions);
    const path = this.kv('delete', namespace, jobId);
    try {
      await this.client.write(path, { versions: [...versions] });
    } catch (e) {
      throw classify('kv delete versions', e);
    }
  }

  /** destroyVersions permanently removes the given versions' data (POST <mount>/destroy/…). Explicit only. */
  async destroyVersions(namespace: string, jobId: string, versions: readonly number[]): Promise<void> {
    assertVersions(versions);
    const path = this.kv('destroy', namespace, jobId);
    try {
      await this.client.write(path, { versions: [...versions] });
    } catch (e) {
      throw classify('kv destroy versions', e);
    }
  }

  /** readMetadata reads the version history (GET <mount>/metadata/…); null when the secret never existed. */
  async readMetadata(namespace: string, jobId: string): Promise<KvMetadata | null> {
    const path = this.kv('metadata', namespace, jobId);
    try {
      const r = (await this.client.read(path)) as { data?: Record<string, unknown> };
      const d = r?.data ?? {};
      const versions = (d.versions ?? {}) as Record<string, Record<string, unknown>>;
      return {
        currentVersion: Number(d.current_version ?? 0),
        oldestVersion: Number(d.oldest_version ?? 0),
        maxVersions: Number(d.max_versions ?? 0),
        casRequired: Boolean(d.cas_required ?? false),
        versions: Object.fromEntries(Object.entries(versions).map(([v, m]) => [v, versionMeta({ ...m, version: Number(v) })])),
      };
    } catch (e) {
      if (is404(e)) return null;
      throw classify('kv metadata read', e);
    }
  }

  /** setMaxVersions sets how many versions Vault keeps for the secret (POST <mount>/metadata/… {max_versions}). */
  async setMaxVersions(namespace: string, jobId: string, maxVersions: number): Promise<void> {
    if (!Number.isInteger(maxVersions) || maxVersions < 0) throw new RangeError('maxVersions must be a non-negative integer');
    const path = this.kv('metadata', namespace, jobId);
    try {
      await this.client.write(path, { max_versions: maxVersions });
    } catch (e) {
      throw classify('kv metadata write', e);
    }
  }

  /** destroyAll removes the secret with every version and its metadata (DELETE <mount>/metadata/…). Explicit only. */
  async destroyAll(namespace: string, jobId: string): Promise<void> {
    const path = this.kv('metadata', namespace, jobId);
    try {
      await this.client.delete(path);
    } catch (e) {
      throw classify('kv metadata delete', e);
    }
  }

  /**
   * health reads /sys/health. Vault answers it with 429 on a standby, 503 when sealed, 501 when uninitialized —
   * node-vault hands every such body back, so the fields say which; only an outage throws.
   */
  async health(): Promise<VaultHealth> {
    try {
      const r = (await this.client.request({ path: '/sys/health', method: 'GET' })) as Record<string, unknown> | undefined;
      if (!r || typeof r !== 'object' || !('sealed' in r)) throw new VaultUnreachableError('health', 'not a Vault health answer');
      return {
        initialized: Boolean(r.initialized),
        sealed: Boolean(r.sealed),
        standby: Boolean(r.standby),
        version: String(r.version ?? ''),
        clusterName: String(r.cluster_name ?? ''),
      };
    } catch (e) {
      throw e instanceof VaultUnreachableError && e.operation === 'health' ? e : classify('health', e);
    }
  }

  /** sealStatus reads /sys/seal-status. */
  async sealStatus(): Promise<VaultSealStatus> {
    try {
      const r = (await this.client.request({ path: '/sys/seal-status', method: 'GET' })) as Record<string, unknown>;
      return { sealed: Boolean(r.sealed), threshold: Number(r.t ?? 0), shares: Number(r.n ?? 0), progress: Number(r.progress ?? 0), version: String(r.version ?? '') };
    } catch (e) {
      throw classify('seal status', e);
    }
  }

  /** assertUnsealed throws VaultSealedError when Vault is sealed (and VaultUnreachableError when it cannot say). */
  async assertUnsealed(): Promise<void> {
    if ((await this.health()).sealed) throw new VaultSealedError('health');
  }

  /** lookupSelf describes Drover's token (GET /auth/token/lookup-self), without returning the token itself. */
  async lookupSelf(): Promise<VaultTokenInfo> {
    try {
      const r = (await this.client.request({ path: '/auth/token/lookup-self', method: 'GET' })) as { data?: Record<string, unknown> };
      const d = r?.data ?? {};
      return {
        accessor: String(d.accessor ?? ''),
        policies: Array.isArray(d.policies) ? d.policies.map(String) : [],
        ttlSeconds: Number(d.ttl ?? 0),
        renewable: Boolean(d.renewable),
        expireTime: typeof d.expire_time === 'string' ? d.expire_time : null,
      };
    } catch (e) {
      throw classify('token lookup-self', e);
    }
  }

  /** renewSelf extends Drover's token (POST /auth/token/renew-self), by `increment` (a Go duration like `1h`) if given. */
  async renewSelf(increment?: string): Promise<VaultRenewal> {
    if (increment !== undefined && !/^\d+(s|m|h)?$/.test(increment)) throw new RangeError('increment must be a duration like 3600s, 60m or 1h');
    try {
      const r = (await this.client.write('auth/token/renew-self', increment !== undefined ? { increment } : {})) as { auth?: Record<string, unknown> };
      const a = r?.auth ?? {};
      return {
        leaseDurationSeconds: Number(a.lease_duration ?? 0),
        renewable: Boolean(a.renewable),
        policies: Array.isArray(a.policies) ? a.policies.map(String) : [],
      };
    } catch (e) {
      throw classify('token renew-self', e);
    }
  }
}
