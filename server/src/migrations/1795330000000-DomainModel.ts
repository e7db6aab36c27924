/**
 * DomainModel creates the tables of the domain model: projects, environments, services (configuration only),
 * variables (keys and metadata; values live in the SecretStore), encrypted secret values (the Postgres SecretStore)
 * and domains (generated and custom, hostnames unique across all teams).
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** DomainModel1795330000000 is the first migration of the projects/environments/services/variables/domains model. */
export class DomainModel1795330000000 implements MigrationInterface {
  name = 'DomainModel1795330000000';

  /** up creates the tables, constraints and indexes. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE projects (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      slug varchar(30) NOT NULL,
      name varchar(100) NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT projects_team_slug_uq UNIQUE (team_id, slug)
    )`);
    await q.query('CREATE INDEX projects_team_created_idx ON projects (team_id, created_at, id)');
    await q.query(`CREATE TABLE environments (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      slug varchar(30) NOT NULL,
      name varchar(100) NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT environments_project_slug_uq UNIQUE (project_id, slug)
    )`);
    await q.query('CREATE INDEX environments_project_created_idx ON environments (project_id, created_at, id)');
    await q.query(`CREATE TABLE services (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      environment_id uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
      slug varchar(30) NOT NULL,
      name varchar(100) NOT NULL,
      config jsonb NOT NULL,
      registry_credentials boolean NOT NULL DEFAULT false,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT services_environment_slug_uq UNIQUE (environment_id, slug)
    )`);
    await q.query('CREATE INDEX services_environment_created_idx ON services (environment_id, created_at, id)');
    await q.query(`CREATE TABLE variables (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      environment_id uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
      service_id uuid REFERENCES services(id) ON DELETE CASCADE,
      owner_kind varchar(16) NOT NULL CHECK (owner_kind IN ('service', 'environment')),
      owner_id uuid NOT NULL,
      key varchar(128) NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT variables_owner_key_uq UNIQUE (owner_kind, owner_id, key),
      CONSTRAINT variables_owner_ck CHECK ((owner_kind = 'service' AND service_id = owner_id)
        OR (owner_kind = 'environment' AND service_id IS NULL AND environment_id = owner_id))
    )`);
    await q.query(`CREATE TABLE secret_values (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      owner_kind varchar(16) NOT NULL,
      owner_id uuid NOT NULL,
      name varchar(128) NOT NULL,
      key_version integer NOT NULL,
      nonce bytea NOT NULL,
      ciphertext bytea NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT secret_values_owner_name_uq UNIQUE (owner_kind, owner_id, name)
    )`);
    await q.query('CREATE INDEX secret_values_key_version_idx ON secret_values (key_version)');
    await q.query(`CREATE TABLE domains (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL,
      project_id uuid NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
      environment_id uuid NOT NULL REFERENCES environments(id) ON DELETE CASCADE,
      service_id uuid NOT NULL REFERENCES services(id) ON DELETE CASCADE,
      hostname varchar(253) NOT NULL,
      kind varchar(16) NOT NULL CHECK (kind IN ('generated', 'custom')),
      verification_status varchar(16) NOT NULL CHECK (verification_status IN ('pending', 'verified')),
      verification_token varchar(64),
      verified_at timestamptz,
      verified_by varchar(8) CHECK (verified_by IS NULL OR verified_by IN ('dns', 'http')),
      certificate_status varchar(16) NOT NULL CHECK (certificate_status IN ('pending', 'issued', 'unknown')),
      last_checked_at timestamptz,
      last_check_error varchar(2000),
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL,
      CONSTRAINT domains_hostname_uq UNIQUE (hostname)
    )`);
    await q.query('CREATE INDEX domains_service_created_idx ON domains (service_id, created_at, id)');
    await q.query('CREATE UNIQUE INDEX domains_verification_token_uq ON domains (verification_token) WHERE verification_token IS NOT NULL');
  }

  /** down drops the tables in reverse order. */
  async down(q: QueryRunner): Promise<void> {
    for (const t of ['domains', 'secret_values', 'variables', 'services', 'environments', 'projects']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
