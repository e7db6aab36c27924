/**
 * KvV2: what the Vault secret store needs from Vault KV v2, and its implementation over the scheduler's VaultAdapter
 * (`@drover/scheduler/vault`), which validates every path as `drover/<namespace>/<name>` with DNS-label segments.
 * The store keeps its values under namespace `s-<team ID>` — never a Nomad namespace (those are `t-*`), so no job's
 * templated Vault policy reaches them. Every failure is `secret_store/unavailable` (503), whose message never holds
 * a value or the token.
 */
import type { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import { DomainError } from '../core/errors.ts';

/** KvLocation is where one owner's values live: `drover/<namespace>/<name>` under the KV mount. */
export interface KvLocation {
  /** namespace is the first segment (`s-<team ID>`). */
  namespace: string;
  /** name is the second segment (`<kind>-<owner ID>`). */
  name: string;
}

/** KvEntry is the current version of a KV v2 secret. */
export interface KvEntry {
  /** data is the key/value map. */
  data: Record<string, string>;
  /** version is the current version (for check-and-set). */
  version: number;
}

/** KvV2 reads and writes whole KV v2 secrets. */
export interface KvV2 {
  /** read returns the current version, or null when there is none. */
  read(at: KvLocation): Promise<KvEntry | null>;
  /** write stores a new version with check-and-set `cas` (0 = must not exist) and returns the new version. */
  write(at: KvLocation, data: Record<string, string>, cas: number): Promise<number>;
  /** destroy removes the secret with every version and its metadata. */
  destroy(at: KvLocation): Promise<void>;
}

function unavailable(what: string, cause: unknown): DomainError {
  const code = (cause as { code?: string } | null)?.code;
  const detail = code === 'vault/cas_mismatch' ? `${what}: the values changed concurrently; retry` : `${what} failed (${code ?? 'error'})`;
  return new DomainError('secret_store/unavailable', detail, { cause });
}

/** VaultAdapterKv implements KvV2 over the scheduler's VaultAdapter. */
export class VaultAdapterKv implements KvV2 {
  private readonly vault: Pick<VaultAdapter, 'readSecret' | 'writeSecret' | 'destroyAll'>;

  constructor(vault: Pick<VaultAdapter, 'readSecret' | 'writeSecret' | 'destroyAll'>) {
    this.vault = vault;
  }

  /** read reads the latest version. */
  async read(at: KvLocation): Promise<KvEntry | null> {
    try {
      const s = await this.vault.readSecret(at.namespace, at.name);
      return s ? { data: { ...s.data }, version: s.metadata.version } : null;
    } catch (e) {
      throw unavailable('the Vault read', e);
    }
  }

  /** write writes a new version with check-and-set. */
  async write(at: KvLocation, data: Record<string, string>, cas: number): Promise<number> {
    try {
      return (await this.vault.writeSecret(at.namespace, at.name, data, { cas })).version;
    } catch (e) {
      throw unavailable('the Vault write', e);
    }
  }

  /** destroy deletes the metadata and every version. */
  async destroy(at: KvLocation): Promise<void> {
    try {
      await this.vault.destroyAll(at.namespace, at.name);
    } catch (e) {
      if ((e as { status?: number } | null)?.status === 404) return;
      throw unavailable('the Vault delete', e);
    }
  }
}
