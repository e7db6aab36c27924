/**
 * PostgresSecretStore: values sealed with AES-256-GCM in the `secret_values` table. The encryption key is derived
 * with HKDF-SHA256 from the data-directory secret key (never the raw key), each value gets a random 12-byte nonce,
 * and the additional authenticated data binds the ciphertext to its team, owner and name, so a row copied onto
 * another owner does not decrypt. Each row records the version of the key that sealed it; `rotate` re-seals rows
 * under the current version.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { In, type EntityManager } from 'typeorm';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/errors.ts';
import { SecretValueEntity, type SecretValueRow } from './secret-value.entity.ts';
import type { SecretChanges, SecretOwner, SecretStore, Undo } from './secret-store.ts';

/** Keyring holds the AES-256 keys by version; `current` seals new values, any listed version opens old ones. */
export interface Keyring {
  /** current is the version used for new values. */
  current: number;
  /** keys maps a version to its 32-byte key. */
  keys: ReadonlyMap<number, Buffer>;
}

/**
 * deriveStoreKey derives the 32-byte AES key of a key version from a 32-byte root secret (the data-directory key)
 * with HKDF-SHA256, so the root key is never used directly for encryption.
 */
export function deriveStoreKey(rootKey: Buffer, version: number): Buffer {
  if (rootKey.length !== 32) throw new Error('the root key must be 32 bytes');
  return Buffer.from(hkdfSync('sha256', rootKey, 'drover-secret-store', `secret_values:v${version}`, 32));
}

/** keyringFromRoot builds a one-version keyring from the data-directory key. */
export function keyringFromRoot(rootKey: Buffer, version = 1): Keyring {
  return { current: version, keys: new Map([[version, deriveStoreKey(rootKey, version)]]) };
}

/** aadFor is the additional authenticated data that binds a sealed value to its team, owner and name. */
export function aadFor(owner: SecretOwner, name: string): Buffer {
  return Buffer.from(JSON.stringify(['drover/secret/v1', owner.teamId, owner.kind, owner.id, name]), 'utf8');
}

/** seal encrypts one value under a key; the returned ciphertext has the 16-byte tag appended. */
export function seal(key: Buffer, aad: Buffer, plaintext: string): { nonce: Buffer; ciphertext: Buffer } {
  const nonce = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', key, nonce);
  c.setAAD(aad);
  const ciphertext = Buffer.concat([c.update(plaintext, 'utf8'), c.final(), c.getAuthTag()]);
  return { nonce, ciphertext };
}

/** open decrypts a sealed value; it throws when the key, nonce, AAD or ciphertext do not match. */
export function open(key: Buffer, aad: Buffer, nonce: Buffer, ciphertext: Buffer): string {
  if (ciphertext.length < 16) throw new Error('ciphertext too short');
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  return Buffer.concat([d.update(ciphertext.subarray(0, ciphertext.length - 16)), d.final()]).toString('utf8');
}

/** PostgresSecretStore implements SecretStore over `secret_values`; it always joins the caller's transaction. */
export class PostgresSecretStore implements SecretStore {
  /** kind is `postgres`. */
  readonly kind = 'postgres' as const;
  private readonly keyring: Keyring;
  private readonly clock: Clock;
  private readonly manager: EntityManager;

  /** The manager is used for reads outside a transaction. */
  constructor(keyring: Keyring, clock: Clock, manager: EntityManager) {
    if (!keyring.keys.has(keyring.current)) throw new Error('the keyring lacks its current version');
    this.keyring = keyring;
    this.clock = clock;
    this.manager = manager;
  }

  /** read opens the owner's values; a value that fails to open is an error (tampering or a lost key), never skipped. */
  async read(owner: SecretOwner, names?: readonly string[], tx?: EntityManager): Promise<Map<string, string>> {
    const m = tx ?? this.manager;
    const rows = await m.getRepository(SecretValueEntity).find({
      where: { ownerKind: owner.kind, ownerId: owner.id, teamId: owner.teamId, ...(names ? { name: In([...names]) } : {}) },
    });
    const out = new Map<string, string>();
    for (const r of rows) out.set(r.name, this.open(owner, r));
    return out;
  }

  /**
   * readMany opens the values of every owner with one query (joined with the owners' (kind, ID, team) triples, so it
   * uses the (owner_kind, owner_id, name) index); like `read`, a value that fails to open is an error.
   */
  async readMany(owners: readonly SecretOwner[], tx?: EntityManager): Promise<Map<string, string>[]> {
    if (owners.length === 0) return [];
    const m = tx ?? this.manager;
    const rows = (await m.query(
      `SELECT s.team_id AS "teamId", s.owner_kind AS "ownerKind", s.owner_id AS "ownerId", s.name, s.key_version AS "keyVersion", s.nonce, s.ciphertext
       FROM secret_values s JOIN unnest($1::text[], $2::uuid[], $3::uuid[]) AS o(kind, id, team)
         ON s.owner_kind = o.kind AND s.owner_id = o.id AND s.team_id = o.team`,
      [owners.map((o) => o.kind), owners.map((o) => o.id), owners.map((o) => o.teamId)],
    )) as SecretValueRow[];
    const key = (teamId: string, kind: string, id: string) => `${teamId.toLowerCase()}/${kind}/${id.toLowerCase()}`;
    const byOwner = new Map<string, Map<string, string>>();
    for (const r of rows) {
      const k = key(r.teamId, r.ownerKind, r.ownerId);
      if (byOwner.get(k)?.has(r.name)) continue; // an owner listed twice joins its rows twice
      const owner: SecretOwner = { teamId: r.teamId, kind: r.ownerKind as SecretOwner['kind'], id: r.ownerId };
      let values = byOwner.get(k);
      if (!values) byOwner.set(k, (values = new Map()));
      values.set(r.name, this.open(owner, r));
    }
    return owners.map((o) => new Map(byOwner.get(key(o.teamId, o.kind, o.id)) ?? []));
  }

  /** write seals the set values and deletes the nulled names inside `tx`; it returns null (the transaction undoes). */
  async write(owner: SecretOwner, changes: SecretChanges, tx: EntityManager): Promise<Undo | null> {
    const repo = tx.getRepository(SecretValueEntity);
    const del = [...changes].filter(([, v]) => v === null).map(([k]) => k);
    if (del.length > 0) await repo.delete({ ownerKind: owner.kind, ownerId: owner.id, teamId: owner.teamId, name: In(del) });
    const key = this.currentKey();
    // One statement for every set value: the owner's columns once, then (id, name, nonce, ciphertext) per value.
    const params: unknown[] = [owner.teamId, owner.kind, owner.id, this.keyring.current, this.clock.now()];
    const rows: string[] = [];
    for (const [name, value] of changes) {
      if (value === null) continue;
      const { nonce, ciphertext } = seal(key, aadFor(owner, name), value);
      params.push(randomUUID(), name, nonce, ciphertext);
      const n = params.length;
      rows.push(`($${n - 3}::uuid, $1::uuid, $2, $3::uuid, $${n - 2}, $4::int, $${n - 1}::bytea, $${n}::bytea, $5::timestamptz, $5::timestamptz)`);
    }
    if (rows.length === 0) return null;
    await tx.query(
      `INSERT INTO secret_values (id, team_id, owner_kind, owner_id, name, key_version, nonce, ciphertext, created_at, updated_at)
       VALUES ${rows.join(', ')}
       ON CONFLICT (owner_kind, owner_id, name) DO UPDATE
       SET key_version = EXCLUDED.key_version, nonce = EXCLUDED.nonce, ciphertext = EXCLUDED.ciphertext, updated_at = EXCLUDED.updated_at
       WHERE secret_values.team_id = EXCLUDED.team_id`,
      params,
    );
    return null;
  }

  /** drop deletes every value of the owner inside `tx`. */
  async drop(owner: SecretOwner, tx: EntityManager): Promise<Undo | null> {
    await tx.getRepository(SecretValueEntity).delete({ ownerKind: owner.kind, ownerId: owner.id, teamId: owner.teamId });
    return null;
  }

  /**
   * rotate re-seals, in batches inside `tx`, every row sealed under an older key version with the current one;
   * it returns the number of rows re-sealed. The keyring must hold every version still in use.
   */
  async rotate(tx: EntityManager, batch = 500): Promise<number> {
    const repo = tx.getRepository(SecretValueEntity);
    let n = 0;
    for (;;) {
      const rows = await repo.createQueryBuilder('s').where('s.key_version <> :v', { v: this.keyring.current }).limit(batch).getMany();
      if (rows.length === 0) return n;
      for (const r of rows) {
        const owner: SecretOwner = { teamId: r.teamId, kind: r.ownerKind as SecretOwner['kind'], id: r.ownerId };
        const { nonce, ciphertext } = seal(this.currentKey(), aadFor(owner, r.name), this.open(owner, r));
        await repo.update({ id: r.id }, { nonce, ciphertext, keyVersion: this.keyring.current });
        n++;
      }
    }
  }

  private currentKey(): Buffer {
    return this.keyring.keys.get(this.keyring.current) as Buffer;
  }

  private open(owner: SecretOwner, r: SecretValueRow): string {
    const key = this.keyring.keys.get(r.keyVersion);
    if (!key) throw new DomainError('secret_store/unavailable', `no key of version ${r.keyVersion} for a stored secret`);
    try {
      return open(key, aadFor(owner, r.name), r.nonce, r.ciphertext);
    } catch (e) {
      throw new DomainError('secret_store/unavailable', 'a stored secret failed authentication', { cause: e });
    }
  }
}
