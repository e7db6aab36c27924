/**
 * DatabasePublicAccess adds `databases.public_hostname` (null: private, the default) with two unique indexes over live
 * databases: a public hostname is held by one database across all teams, and at most one MySQL database is public
 * (MySQL cannot be routed by name, so it has the cluster's one MySQL entry point to itself). It runs outside a
 * transaction so the indexes are built CONCURRENTLY; every statement is idempotent.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** DatabasePublicAccess1797400000000 adds databases.public_hostname and its unique indexes. */
export class DatabasePublicAccess1797400000000 implements MigrationInterface {
  name = 'DatabasePublicAccess1797400000000';
  /** transaction is off: CREATE INDEX CONCURRENTLY cannot run in one. */
  transaction = false as const;

  /** up adds the column (null for every existing database: they stay private) and the indexes. */
  async up(q: QueryRunner): Promise<void> {
    await q.query('ALTER TABLE databases ADD COLUMN IF NOT EXISTS public_hostname varchar(253)');
    await q.query('CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS databases_public_hostname_uq ON databases (public_hostname) WHERE public_hostname IS NOT NULL AND removed_at IS NULL');
    await q.query("CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS databases_public_mysql_uq ON databases (engine) WHERE engine = 'mysql' AND public_hostname IS NOT NULL AND removed_at IS NULL");
  }

  /** down drops the indexes and the column. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX CONCURRENTLY IF EXISTS databases_public_mysql_uq');
    await q.query('DROP INDEX CONCURRENTLY IF EXISTS databases_public_hostname_uq');
    await q.query('ALTER TABLE databases DROP COLUMN IF EXISTS public_hostname');
  }
}
