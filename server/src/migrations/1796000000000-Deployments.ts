/**
 * Deployments creates the deployment engine's tables: durable deployment records (the immutable snapshot, the
 * pipeline's recorded steps, the lease a worker holds while it runs one), each deployment's own event log, the runs of
 * cron services, and each service's runtime state (what the user wants running and which deployment is current).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Deployments1796000000000 creates deployments, deployment_events, deployment_runs and service_runtime. */
export class Deployments1796000000000 implements MigrationInterface {
  name = 'Deployments1796000000000';

  /** up creates the tables and indexes. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE deployments (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL,
      environment_id uuid NOT NULL,
      service_id uuid NOT NULL,
      batch_id uuid,
      state varchar(16) NOT NULL,
      reason text NOT NULL DEFAULT '',
      trigger varchar(16) NOT NULL,
      rollback_of uuid,
      created_by uuid,
      namespace varchar(63) NOT NULL,
      job_id varchar(63) NOT NULL,
      periodic boolean NOT NULL,
      job jsonb NOT NULL,
      config jsonb NOT NULL,
      image text,
      artifact_checksum text,
      variables_path text,
      variable_keys jsonb NOT NULL DEFAULT '[]',
      sealed_values text,
      volumes jsonb NOT NULL DEFAULT '[]',
      compile_warnings jsonb NOT NULL DEFAULT '[]',
      plan_diff jsonb,
      nomad_warnings jsonb NOT NULL DEFAULT '[]',
      failure jsonb,
      output_tail text,
      step varchar(32) NOT NULL DEFAULT 'queued',
      progress jsonb NOT NULL DEFAULT '{}',
      cancel_requested boolean NOT NULL DEFAULT false,
      supersede_requested boolean NOT NULL DEFAULT false,
      lease_owner text,
      lease_expires_at timestamptz,
      attempts integer NOT NULL DEFAULT 0,
      deadline_at timestamptz,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      started_at timestamptz,
      finished_at timestamptz
    )`);
    await q.query('CREATE INDEX deployments_service_created_idx ON deployments (service_id, created_at DESC, id DESC)');
    await q.query("CREATE INDEX deployments_open_idx ON deployments (created_at) WHERE state IN ('queued', 'deploying')");
    await q.query(`CREATE TABLE deployment_events (
      id bigserial PRIMARY KEY,
      deployment_id uuid NOT NULL REFERENCES deployments(id) ON DELETE CASCADE,
      at timestamptz NOT NULL,
      kind varchar(40) NOT NULL,
      message text NOT NULL,
      data jsonb
    )`);
    await q.query('CREATE INDEX deployment_events_deployment_idx ON deployment_events (deployment_id, id)');
    await q.query(`CREATE TABLE deployment_runs (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      service_id uuid NOT NULL,
      deployment_id uuid,
      nomad_job_id text NOT NULL,
      status varchar(16) NOT NULL,
      output_tail text,
      started_at timestamptz NOT NULL,
      finished_at timestamptz,
      CONSTRAINT deployment_runs_job_uq UNIQUE (service_id, nomad_job_id)
    )`);
    await q.query(`CREATE TABLE service_runtime (
      service_id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      namespace varchar(63) NOT NULL,
      job_id varchar(63) NOT NULL,
      desired varchar(16) NOT NULL,
      current_deployment_id uuid,
      replicas integer,
      drift text,
      updated_at timestamptz NOT NULL
    )`);
    await q.query(`CREATE TABLE cluster_findings (
      id bigserial PRIMARY KEY,
      kind varchar(16) NOT NULL,
      namespace varchar(63) NOT NULL,
      job_id text NOT NULL,
      detail text NOT NULL,
      at timestamptz NOT NULL,
      CONSTRAINT cluster_findings_uq UNIQUE (kind, namespace, job_id)
    )`);
  }

  /** down drops the tables. */
  async down(q: QueryRunner): Promise<void> {
    await q.query('DROP TABLE cluster_findings');
    await q.query('DROP TABLE service_runtime');
    await q.query('DROP TABLE deployment_runs');
    await q.query('DROP TABLE deployment_events');
    await q.query('DROP TABLE deployments');
  }
}
