/**
 * VaultSecretStore: values in Vault KV v2, one secret per owner at `drover/s-<team ID>/<kind>-<owner ID>` under the
 * configured mount (Drover's Vault token may use `drover/*` only). A batch is one check-and-set write of the owner's
 * whole map, so it lands entirely or not at all; the returned Undo writes the previous map back (or deletes the
 * secret when there was none) if the surrounding Postgres transaction fails.
 */
import type { EntityManager } from 'typeorm';
import type { KvLocation, KvV2 } from './vault-kv.ts';
import type { SecretChanges, SecretOwner, SecretStore, Undo } from './secret-store.ts';

/**
 * vaultLocation is where an owner's values live: namespace `s-<team ID>`, name `<kind>-<owner ID>` (lower case; a
 * kind's `_` becomes `-`, since Vault path segments are DNS labels: `backup_dest` is stored as `backup-dest-<ID>`).
 */
export function vaultLocation(owner: SecretOwner): KvLocation {
  return { namespace: `s-${owner.teamId.toLowerCase()}`, name: `${owner.kind.replace(/_/g, '-')}-${owner.id.toLowerCase()}` };
}

/** VaultSecretStore implements SecretStore over a KvV2 adapter. */
export class VaultSecretStore implements SecretStore {
  /** kind is `vault`. */
  readonly kind = 'vault' as const;
  private readonly kv: KvV2;

  constructor(kv: KvV2) {
    this.kv = kv;
  }

  /** read returns the requested names of the owner's current map. */
  async read(owner: SecretOwner, names?: readonly string[]): Promise<Map<string, string>> {
    const s = await this.kv.read(vaultLocation(owner));
    const out = new Map<string, string>();
    if (!s) return out;
    for (const [k, v] of Object.entries(s.data)) if (!names || names.includes(k)) out.set(k, v);
    return out;
  }

  /** readMany reads each owner's map concurrently (one KV read per owner; Vault has no multi-secret read). */
  readMany(owners: readonly SecretOwner[]): Promise<Map<string, string>[]> {
    return Promise.all(owners.map((o) => this.read(o)));
  }

  /** write merges the changes into the owner's map with one check-and-set write and returns its Undo. */
  async write(owner: SecretOwner, changes: SecretChanges, _tx: EntityManager): Promise<Undo | null> {
    const at = vaultLocation(owner);
    const before = await this.kv.read(at);
    const next: Record<string, string> = { ...(before?.data ?? {}) };
    for (const [k, v] of changes) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    if (Object.keys(next).length === 0) {
      if (!before) return null;
      await this.kv.destroy(at);
      return this.undo(at, before, 0);
    }
    const version = await this.kv.write(at, next, before?.version ?? 0);
    return this.undo(at, before, version);
  }

  /** drop deletes the owner's secret (every version) and returns the Undo that writes the old map back. */
  async drop(owner: SecretOwner, _tx: EntityManager): Promise<Undo | null> {
    const at = vaultLocation(owner);
    const before = await this.kv.read(at);
    if (!before) return null;
    await this.kv.destroy(at);
    return this.undo(at, before, 0);
  }

  private undo(at: KvLocation, before: { data: Record<string, string> } | null, writtenVersion: number): Undo {
    return async () => {
      if (before && Object.keys(before.data).length > 0) await this.kv.write(at, before.data, writtenVersion);
      else await this.kv.destroy(at);
    };
  }
}
