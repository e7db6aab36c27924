/**
 * SecretStore: the only place variable values and registry credentials live. Two implementations: AES-256-GCM in
 * Postgres keyed by the data-directory secret key (`postgres-store.ts`), and Vault KV v2 when VAULT_ADDR is set
 * (`vault-store.ts`). Values are grouped by owner (a service's variables, an environment's shared variables, a
 * service's registry credentials) so that a batch is one atomic write in either store.
 *
 * Nothing half-written: writes go through `withSecrets`, which runs the database work and the secret writes in one
 * Postgres transaction; the Postgres store joins that transaction, the Vault store returns an undo that restores the
 * previous values when the transaction fails after Vault was written.
 */
import type { DataSource, EntityManager } from 'typeorm';

/** SecretOwnerKind names what owns a group of secret values. */
export type SecretOwnerKind = 'service' | 'environment' | 'registry' | 'webhook' | 'database' | 'backup_dest';

/** SecretOwner identifies one group of values: the team and the owning object (a service, environment…). */
export interface SecretOwner {
  /** teamId is the owning team (bound into the ciphertext and the Vault path). */
  teamId: string;
  /** kind is the owner's kind. */
  kind: SecretOwnerKind;
  /** id is the owner's UUID. */
  id: string;
}

/** SecretChanges maps names to a new value, or null to delete the name. */
export type SecretChanges = ReadonlyMap<string, string | null>;

/** Undo restores what a non-transactional write changed; it is called only when the surrounding transaction fails. */
export type Undo = () => Promise<void>;

/** SecretStore keeps secret values; no method ever logs or returns a value except `read`. */
export interface SecretStore {
  /** kind names the backend, for the readiness report. */
  readonly kind: 'postgres' | 'vault';
  /**
   * read returns the owner's values for `names` (every value when omitted); absent names are left out. With `tx` the
   * Postgres store reads inside that transaction. Backend failures are `secret_store/unavailable`.
   */
  read(owner: SecretOwner, names?: readonly string[], tx?: EntityManager): Promise<Map<string, string>>;
  /**
   * readMany returns every value of each owner, in the order of `owners` (an owner without values gets an empty map;
   * a repeated owner gets its values each time). The Postgres store reads them all with ONE query (inside `tx` when
   * given); the Vault store reads the owners concurrently over its keep-alive connections. Failures are as `read`'s.
   */
  readMany(owners: readonly SecretOwner[], tx?: EntityManager): Promise<Map<string, string>[]>;
  /**
   * write applies `changes` to the owner's values as one atomic step. The Postgres store joins `tx` and returns null;
   * the Vault store writes at once and returns the Undo that puts the previous values back.
   */
  write(owner: SecretOwner, changes: SecretChanges, tx: EntityManager): Promise<Undo | null>;
  /** drop removes every value of the owner, with the same transaction/undo contract as `write`. */
  drop(owner: SecretOwner, tx: EntityManager): Promise<Undo | null>;
}

/** SecretWriter is a SecretStore bound to one transaction; it collects the undos of non-transactional writes. */
export interface SecretWriter {
  /** read reads inside the transaction. */
  read(owner: SecretOwner, names?: readonly string[]): Promise<Map<string, string>>;
  /** write applies changes (see SecretStore.write). */
  write(owner: SecretOwner, changes: SecretChanges): Promise<void>;
  /** drop removes every value of the owner (see SecretStore.drop). */
  drop(owner: SecretOwner): Promise<void>;
}

/** UndoFailureLogger hears about an undo that failed (a value may then be left in Vault); it never gets values. */
export type UndoFailureLogger = (err: unknown) => void;

/**
 * withSecrets runs `fn` in one Postgres transaction with a SecretWriter bound to it. When `fn` or the commit fails,
 * the undos of Vault writes run in reverse order and the error is rethrown, so neither the rows nor the values of a
 * failed change remain. Secret writes should come last in `fn`, after the rows are validated and written.
 */
export async function withSecrets<T>(
  dataSource: DataSource, store: SecretStore, fn: (tx: EntityManager, secrets: SecretWriter) => Promise<T>,
  onUndoFailure: UndoFailureLogger = () => undefined,
): Promise<T> {
  const undos: Undo[] = [];
  try {
    return await dataSource.transaction(async (tx) => {
      const writer: SecretWriter = {
        read: (owner, names) => store.read(owner, names, tx),
        write: async (owner, changes) => {
          const u = await store.write(owner, changes, tx);
          if (u) undos.push(u);
        },
        drop: async (owner) => {
          const u = await store.drop(owner, tx);
          if (u) undos.push(u);
        },
      };
      return fn(tx, writer);
    });
  } catch (e) {
    for (const u of undos.reverse()) {
      try {
        await u();
      } catch (undoErr) {
        onUndoFailure(undoErr);
      }
    }
    throw e;
  }
}
