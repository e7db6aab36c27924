/**
 * Migration safety checker: runs migrations one by one against a real, empty Postgres database, records the SQL
 * each one sends, and compares the catalog before and after. A migration that builds an index on a table that
 * existed before it must use CREATE INDEX CONCURRENTLY (which locks out no writes), and CONCURRENTLY needs the
 * migration to run outside a transaction (`transaction = false`).
 */
import type { DataSource } from 'typeorm';
import { recordQueries } from './index.ts';
import type { MigrationClass } from './index.ts';

/** MigrationViolation names a migration and what is unsafe in it. */
export interface MigrationViolation {
  /** migration is the migration's name (its `name` or class name). */
  migration: string;
  /** message says what is wrong and how to fix it. */
  message: string;
}

interface IndexRow { schemaname: string; tablename: string; indexname: string }

async function tables(ds: DataSource): Promise<Set<string>> {
  const rows = (await ds.query(
    `SELECT n.nspname || '.' || c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE c.relkind IN ('r', 'p', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'`,
  )) as { name: string }[];
  return new Set(rows.map((r) => r.name));
}

async function indexes(ds: DataSource): Promise<IndexRow[]> {
  return (await ds.query(
    `SELECT schemaname, tablename, indexname FROM pg_indexes WHERE schemaname NOT IN ('pg_catalog', 'information_schema')`,
  )) as IndexRow[];
}

const norm = (sql: string) => sql.replace(/\s+/g, ' ').replace(/"/g, '');
const concurrentCreate = /\bCREATE\s+(UNIQUE\s+)?INDEX\s+CONCURRENTLY\b/i;

function migrationName(M: MigrationClass, instance: { name?: string }): string {
  return instance.name ?? M.name;
}

/**
 * checkMigrations runs `migrations` in order on `dataSource` (an initialised DataSource on an EMPTY database that
 * nothing else uses) exactly as the boot runner would — each in a transaction unless `transaction = false` — and
 * returns every violation: an index created on a pre-existing table without CONCURRENTLY, CONCURRENTLY inside a
 * transaction, or a migration that fails. Checking stops at the first failing migration.
 */
export async function checkMigrations(dataSource: DataSource, migrations: MigrationClass[]): Promise<MigrationViolation[]> {
  const violations: MigrationViolation[] = [];
  for (const M of migrations) {
    const instance = new M();
    const name = migrationName(M, instance);
    const inTransaction = instance.transaction !== false;
    const tablesBefore = await tables(dataSource);
    const indexesBefore = new Set((await indexes(dataSource)).map((i) => `${i.schemaname}.${i.indexname}`));
    const qr = dataSource.createQueryRunner();
    const sql = recordQueries(qr);
    try {
      await qr.connect();
      if (inTransaction) await qr.startTransaction();
      await instance.up(qr);
      if (inTransaction) await qr.commitTransaction();
    } catch (e) {
      if (qr.isTransactionActive) await qr.rollbackTransaction().catch(() => undefined);
      violations.push({ migration: name, message: `fails: ${(e as Error).message}` });
      await qr.release();
      break;
    }
    await qr.release();
    const statements = sql.map(norm);
    if (inTransaction && statements.some((s) => concurrentCreate.test(s))) {
      violations.push({ migration: name, message: 'uses CREATE INDEX CONCURRENTLY but runs in a transaction: declare `transaction = false`' });
    }
    for (const ix of await indexes(dataSource)) {
      const key = `${ix.schemaname}.${ix.indexname}`;
      if (indexesBefore.has(key) || !tablesBefore.has(`${ix.schemaname}.${ix.tablename}`)) continue;
      const word = new RegExp(`(^|[\\s.(])${ix.indexname.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}([\\s(]|$)`);
      const concurrent = statements.some((s) => concurrentCreate.test(s) && word.test(s))
        || (statements.some((s) => concurrentCreate.test(s))
          && statements.some((s) => /\bADD\s+CONSTRAINT\b/i.test(s) && /\bUSING\s+INDEX\b/i.test(s) && word.test(s)));
      if (!concurrent) {
        violations.push({
          migration: name,
          message: `creates index ${ix.indexname} on the existing table ${ix.tablename} without CONCURRENTLY `
            + '(writes would be blocked while it builds): use CREATE INDEX CONCURRENTLY in a migration with `transaction = false`',
        });
      }
    }
  }
  return violations;
}
