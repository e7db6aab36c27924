/**
 * VariableReferences adds `variables.refs`: the `${{ target.NAME }}` references parsed from a variable's value when
 * it is written, so lists (and the dashboard canvas's edges) can show what a variable references without reading the
 * secret value. Rows written before this migration list no references until their value is set again (values are
 * secret and are not decrypted to backfill). It runs outside a transaction so the environment index is built
 * CONCURRENTLY; every statement is idempotent, so a run interrupted between them is resumed by the next boot.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** VariableReferences1796100000000 adds the `refs` column (a JSON array of `{ target, name }`) and an environment index. */
export class VariableReferences1796100000000 implements MigrationInterface {
  name = 'VariableReferences1796100000000';
  /** transaction is off: CREATE INDEX CONCURRENTLY cannot run in one (a constant default adds the column instantly). */
  transaction = false as const;

  /** up adds the column, empty for existing rows, and the index of the environment-wide references listing. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`ALTER TABLE variables ADD COLUMN IF NOT EXISTS refs jsonb NOT NULL DEFAULT '[]'::jsonb`);
    await q.query('CREATE INDEX CONCURRENTLY IF NOT EXISTS variables_environment_created_idx ON variables (environment_id, created_at, id)');
  }

  /** down drops the index and the column. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP INDEX CONCURRENTLY IF EXISTS variables_environment_created_idx');
    await q.query('ALTER TABLE variables DROP COLUMN IF EXISTS refs');
  }
}
