/**
 * One hostname, one holder: a service domain (custom or generated) and a public database's hostname share the
 * cluster's name space, across all teams. Each side checks the other's table inside its own transaction after taking
 * a transaction-scoped advisory lock on the hostname (lockHostname), so two concurrent claims of one name are
 * serialised and the second sees the first.
 */
import { IsNull, type EntityManager } from 'typeorm';
import { DomainError } from '../core/errors.ts';
import { DatabaseEntity } from '../databases/database.entity.ts';

/**
 * lockHostname takes a transaction-scoped advisory lock on `hostname` (held until `tx` ends). Both the domains and
 * the databases take it before checking whether the other holds the name.
 */
export async function lockHostname(tx: EntityManager, hostname: string): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`drover:hostname:${hostname}`]);
}

/**
 * refuseDatabaseHostname locks `hostname` and throws 409 `domain/taken` naming `path` when a live (not removed)
 * database of any team holds it as its public hostname. Call it inside the transaction that inserts the domain.
 */
export async function refuseDatabaseHostname(tx: EntityManager, hostname: string, path: string): Promise<void> {
  await lockHostname(tx, hostname);
  if (await tx.getRepository(DatabaseEntity).existsBy({ publicHostname: hostname, removedAt: IsNull() })) {
    const message = `${hostname} is a public database's hostname`;
    throw new DomainError('domain/taken', `This hostname is already in use: ${message}`, { errors: [{ path, message }] });
  }
}
