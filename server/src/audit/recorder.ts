/**
 * PostgresAuditRecorder: the AuditRecorder every domain uses. With an EntityManager the entry joins the caller's
 * transaction, so a change and its audit entry land together or not at all.
 */
import { randomUUID } from 'node:crypto';
import type { DataSource, EntityManager } from 'typeorm';
import type { AuditInput, AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';

/** PostgresAuditRecorder writes audit entries to `audit_entries`. */
export class PostgresAuditRecorder implements AuditRecorder {
  private readonly ds: DataSource;
  private readonly clock: Clock;
  constructor(ds: DataSource, clock: Clock) {
    this.ds = ds;
    this.clock = clock;
  }

  /** record inserts one entry (in `manager`'s transaction when given). */
  async record(e: AuditInput, manager?: EntityManager): Promise<void> {
    const m = manager ?? this.ds.manager;
    await m.query(
      `INSERT INTO audit_entries (id, team_id, actor_user_id, actor_kind, actor_token_id, action, target_type, target_id, details, ip, request_id, created_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      [
        randomUUID(), e.teamId, e.actor?.userId ?? null, e.actor?.kind ?? 'system', e.actor?.tokenId ?? null, e.action,
        e.targetType, e.targetId, JSON.stringify(e.details ?? {}), e.actor?.ip ?? null, e.actor?.requestId ?? null, this.clock.now(),
      ],
    );
  }
}
