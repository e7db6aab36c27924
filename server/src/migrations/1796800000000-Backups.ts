/**
 * Backups creates the team's backup destinations (S3-compatible; keys in the SecretStore), the backup schedule of a
 * database (cron, retention count) and the backup records with their verdict (status, size, SHA-256, reason).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Backups1796800000000 creates backup_destinations and backups, and adds the schedule columns to databases. */
export class Backups1796800000000 implements MigrationInterface {
  name = 'Backups1796800000000';

  /** up creates the tables. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE backup_destinations (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      name varchar(64) NOT NULL,
      endpoint varchar(512) NOT NULL,
      region varchar(32) NOT NULL DEFAULT '',
      bucket varchar(63) NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT backup_destinations_team_name_uq UNIQUE (team_id, name)
    )`);
    await q.query('CREATE INDEX backup_destinations_team_idx ON backup_destinations (team_id, created_at, id)');
    await q.query(`ALTER TABLE databases
      ADD COLUMN backup_destination_id uuid REFERENCES backup_destinations(id),
      ADD COLUMN backup_cron varchar(100),
      ADD COLUMN backup_keep integer CHECK (backup_keep BETWEEN 1 AND 365)`);
    await q.query(`CREATE TABLE backups (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      database_id uuid NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
      destination_id uuid NOT NULL REFERENCES backup_destinations(id),
      trigger varchar(16) NOT NULL CHECK (trigger IN ('manual', 'schedule', 'safety', 'upgrade')),
      status varchar(16) NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
      reason text,
      object_key varchar(1024),
      size_bytes bigint,
      sha256 char(64),
      created_at timestamptz NOT NULL,
      finished_at timestamptz
    )`);
    await q.query('CREATE INDEX backups_database_idx ON backups (database_id, created_at, id)');
  }

  /** down drops them. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE backups');
    await q.query('ALTER TABLE databases DROP COLUMN backup_destination_id, DROP COLUMN backup_cron, DROP COLUMN backup_keep');
    await q.query('DROP TABLE backup_destinations');
  }
}
