/**
 * Databases creates the managed databases table. A removed database keeps its row (and its volume) until its volume
 * is destroyed explicitly; names are unique among the live databases of an environment.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Databases1796700000000 creates `databases`. */
export class Databases1796700000000 implements MigrationInterface {
  name = 'Databases1796700000000';

  /** up creates the table and its indexes. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE databases (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      environment_id uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
      name varchar(30) NOT NULL,
      engine varchar(16) NOT NULL CHECK (engine IN ('postgres', 'mysql', 'redis', 'mongodb')),
      version varchar(8) NOT NULL,
      size_bytes bigint NOT NULL CHECK (size_bytes > 0),
      volume_id uuid NOT NULL,
      previous_volume_ids uuid[] NOT NULL DEFAULT '{}',
      removed_at timestamptz,
      volume_destroyed_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await q.query('CREATE UNIQUE INDEX databases_live_name_uq ON databases (environment_id, name) WHERE removed_at IS NULL');
    await q.query('CREATE INDEX databases_environment_idx ON databases (environment_id, created_at, id)');
  }

  /** down drops the table. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE databases');
  }
}
