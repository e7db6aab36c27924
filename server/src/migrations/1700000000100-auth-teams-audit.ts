/**
 * AuthTeamsAudit1700000000100 creates users, sessions, password resets, API tokens, teams, memberships,
 * invitations and the audit log. It runs before every domain migration that references `teams`.
 */
import type { MigrationInterface, QueryRunner } from 'typeorm';

/** AuthTeamsAudit1700000000100 is the first schema migration (new tables only, so it runs in a transaction). */
export class AuthTeamsAudit1700000000100 implements MigrationInterface {
  name = 'AuthTeamsAudit1700000000100';

  /** up creates the tables and their indexes. */
  async up(q: QueryRunner): Promise<void> {
    await q.query(`CREATE TABLE users (
      id uuid PRIMARY KEY,
      email text NOT NULL UNIQUE CHECK (email = lower(email) AND length(email) <= 254),
      name text NOT NULL,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL)`);
    await q.query(`CREATE TABLE sessions (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz,
      ip text NOT NULL)`);
    await q.query(`CREATE INDEX sessions_user_idx ON sessions (user_id)`);
    await q.query(`CREATE TABLE password_resets (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      token_hash text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz)`);
    await q.query(`CREATE INDEX password_resets_user_idx ON password_resets (user_id)`);
    await q.query(`CREATE TABLE api_tokens (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      name text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      prefix text NOT NULL,
      scopes text[] NOT NULL CHECK (scopes <@ ARRAY['read','deploy','admin']::text[] AND cardinality(scopes) > 0),
      created_at timestamptz NOT NULL,
      expires_at timestamptz,
      last_used_at timestamptz)`);
    await q.query(`CREATE INDEX api_tokens_user_idx ON api_tokens (user_id, created_at, id)`);
    await q.query(`CREATE TABLE teams (
      id uuid PRIMARY KEY,
      slug text NOT NULL UNIQUE,
      name text NOT NULL,
      created_at timestamptz NOT NULL,
      updated_at timestamptz NOT NULL)`);
    await q.query(`CREATE TABLE team_members (
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      role text NOT NULL CHECK (role IN ('owner','admin','member','viewer')),
      project_ids uuid[],
      created_at timestamptz NOT NULL,
      PRIMARY KEY (team_id, user_id))`);
    await q.query(`CREATE INDEX team_members_user_idx ON team_members (user_id)`);
    await q.query(`CREATE TABLE invitations (
      id uuid PRIMARY KEY,
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      email text NOT NULL,
      role text NOT NULL CHECK (role IN ('owner','admin','member','viewer')),
      project_ids uuid[],
      token_hash text NOT NULL UNIQUE,
      invited_by uuid REFERENCES users(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      accepted_at timestamptz)`);
    await q.query(`CREATE INDEX invitations_team_idx ON invitations (team_id, created_at, id)`);
    await q.query(`CREATE TABLE audit_entries (
      id uuid PRIMARY KEY,
      team_id uuid,
      actor_user_id uuid,
      actor_kind text NOT NULL,
      actor_token_id uuid,
      action text NOT NULL,
      target_type text NOT NULL,
      target_id text,
      details jsonb NOT NULL DEFAULT '{}'::jsonb,
      ip text,
      request_id text,
      created_at timestamptz NOT NULL)`);
    await q.query(`CREATE INDEX audit_entries_team_time_idx ON audit_entries (team_id, created_at DESC, id DESC)`);
  }

  /** down drops the tables again. */
  async down(q: QueryRunner): Promise<void> {
    for (const t of ['audit_entries', 'invitations', 'team_members', 'teams', 'api_tokens', 'password_resets', 'sessions', 'users']) {
      await q.query(`DROP TABLE IF EXISTS ${t}`);
    }
  }
}
