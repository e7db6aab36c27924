/**
 * BackupChecks records the restores and restore verifications of a backup: what was asked, its state, the safety
 * backup taken before a restore into the same database, and the counts a verification found.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** BackupChecks1797000000000 creates backup_checks. */
export class BackupChecks1797000000000 implements MigrationInterface {
  name = 'BackupChecks1797000000000';

  /** up creates the table. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE backup_checks (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      backup_id uuid NOT NULL REFERENCES backups(id) ON DELETE CASCADE,
      database_id uuid NOT NULL REFERENCES databases(id) ON DELETE CASCADE,
      kind varchar(16) NOT NULL CHECK (kind IN ('restore', 'verify')),
      trigger varchar(16) NOT NULL CHECK (trigger IN ('manual', 'schedule')),
      status varchar(16) NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
      reason text,
      safety_backup_id uuid REFERENCES backups(id) ON DELETE SET NULL,
      counts jsonb,
      created_at timestamptz NOT NULL,
      finished_at timestamptz
    )`);
    await q.query('CREATE INDEX backup_checks_backup_idx ON backup_checks (backup_id, created_at, id)');
    await q.query("CREATE INDEX backup_checks_queued_idx ON backup_checks (created_at) WHERE status = 'queued'");
  }

  /** down drops it. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE backup_checks');
  }
}
