/**
 * RuntimeMetricsWebhooks creates the service metrics table (downsampled series at 10 s, 1 min and 10 min resolution,
 * retention enforced by the sampler) and the outgoing webhooks with their durable delivery records.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** RuntimeMetricsWebhooks1796500000000 creates service_metrics, webhooks and webhook_deliveries. */
export class RuntimeMetricsWebhooks1796500000000 implements MigrationInterface {
  name = 'RuntimeMetricsWebhooks1796500000000';

  /** up creates the tables and indexes. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE service_metrics (
      service_id uuid NOT NULL,
      resolution integer NOT NULL CHECK (resolution IN (10, 60, 600)),
      bucket timestamptz NOT NULL,
      samples integer NOT NULL,
      allocations integer NOT NULL,
      cpu_percent double precision NOT NULL,
      cpu_mhz double precision NOT NULL,
      memory_bytes double precision NOT NULL,
      memory_max_bytes bigint NOT NULL,
      PRIMARY KEY (service_id, resolution, bucket)
    )`);
    await q.query('CREATE INDEX service_metrics_retention_idx ON service_metrics (resolution, bucket)');
    await q.query(`CREATE TABLE webhooks (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      url text NOT NULL,
      events text[] NOT NULL,
      description varchar(200) NOT NULL DEFAULT '',
      created_by uuid,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL
    )`);
    await q.query('CREATE INDEX webhooks_project_idx ON webhooks (project_id, created_at, id)');
    await q.query(`CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY,
      webhook_id uuid NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
      dedupe_key varchar(64) NOT NULL,
      event_type varchar(64) NOT NULL,
      payload jsonb NOT NULL,
      state varchar(16) NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      last_status integer,
      last_error text,
      created_at timestamptz NOT NULL,
      delivered_at timestamptz,
      CONSTRAINT webhook_deliveries_dedupe_uq UNIQUE (webhook_id, dedupe_key)
    )`);
    await q.query(`CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (next_attempt_at) WHERE state = 'pending'`);
  }

  /** down drops them. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE webhook_deliveries');
    await q.query('DROP TABLE webhooks');
    await q.query('DROP TABLE service_metrics');
  }
}
