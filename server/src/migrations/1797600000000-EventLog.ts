/**
 * EventLog creates the append-only `events` table: every deployment and service event published for a team, with a
 * monotonically increasing id (bigserial) that is the SSE event id, so any replica replays a reconnecting client's
 * missed events from Postgres. Rows older than the retention window are pruned by the runtime's retention job.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** EventLog1797600000000 creates events and its indexes. */
export class EventLog1797600000000 implements MigrationInterface {
  name = 'EventLog1797600000000';

  /** up creates the table, the (team_id, id) replay index and the created_at pruning index. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE events (
      id bigserial PRIMARY KEY,
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      type varchar(64) NOT NULL,
      payload jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    )`);
    await q.query('CREATE INDEX events_team_id_idx ON events (team_id, id)');
    await q.query('CREATE INDEX events_created_at_idx ON events (created_at)');
  }

  /** down drops the table. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE events');
  }
}
