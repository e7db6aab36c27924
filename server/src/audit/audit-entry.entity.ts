/** AuditEntry entity: one recorded mutation or secret reveal. Entries outlive what they describe (no foreign keys). */
import { EntitySchema } from 'typeorm';

/** AuditEntryRow is a row of `audit_entries`. */
export interface AuditEntryRow {
  /** id is the entry's UUID. */
  id: string;
  /** teamId is the team the target belongs to; null for instance-wide actions. */
  teamId: string | null;
  /** actorUserId is the acting user; null for the system. */
  actorUserId: string | null;
  /** actorKind is `session`, `token` or `system`. */
  actorKind: string;
  /** actorTokenId is the API token used, if any. */
  actorTokenId: string | null;
  /** action is `<domain>.<verb>`. */
  action: string;
  /** targetType names the kind of target. */
  targetType: string;
  /** targetId is the target's ID. */
  targetId: string | null;
  /** details holds non-secret facts. */
  details: Record<string, unknown>;
  /** ip is the source address; null for the system. */
  ip: string | null;
  /** requestId ties the entry to the request's log lines. */
  requestId: string | null;
  /** createdAt is when it happened. */
  createdAt: Date;
}

/** AuditEntryEntity maps `audit_entries`. */
export const AuditEntryEntity = new EntitySchema<AuditEntryRow>({
  name: 'AuditEntry',
  tableName: 'audit_entries',
  columns: {
    id: { type: 'uuid', primary: true },
    teamId: { type: 'uuid', name: 'team_id', nullable: true },
    actorUserId: { type: 'uuid', name: 'actor_user_id', nullable: true },
    actorKind: { type: 'text', name: 'actor_kind' },
    actorTokenId: { type: 'uuid', name: 'actor_token_id', nullable: true },
    action: { type: 'text' },
    targetType: { type: 'text', name: 'target_type' },
    targetId: { type: 'text', name: 'target_id', nullable: true },
    details: { type: 'jsonb' },
    ip: { type: 'text', nullable: true },
    requestId: { type: 'text', name: 'request_id', nullable: true },
    createdAt: { type: 'timestamptz', name: 'created_at' },
  },
});
