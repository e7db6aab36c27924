/**
 * AuditService lists a team's audit log for its owners and admins (`manage`), newest first, cursor-paginated,
 * filtered by action (exact `project.create`, or a whole domain `project`) and time range.
 */
import type { DataSource } from 'typeorm';
import type { AccessChecker } from '../core/access.ts';
import type { Actor } from '../core/actor.ts';
import { invalid } from '../core/errors.ts';
import { isUuid } from '../users/ids.ts';
import { decodeCursor, toPage, type Page } from '../core/pagination.ts';

/** AuditEntry is one entry as the API shows it. */
export interface AuditEntry {
  /** id is the entry's ID. */
  id: string;
  /** teamId is the team. */
  teamId: string | null;
  /** actor says who acted: a user (through a session or a token) or the system. */
  actor: { kind: string; userId: string | null; email: string | null; tokenId: string | null };
  /** action is `<domain>.<verb>`. */
  action: string;
  /** target is what was acted on. */
  target: { type: string; id: string | null };
  /** details holds non-secret facts. */
  details: Record<string, unknown>;
  /** ip is the source address. */
  ip: string | null;
  /** requestId ties the entry to the request's logs. */
  requestId: string | null;
  /** createdAt is when it happened (ISO 8601). */
  createdAt: string;
}

/** AuditQuery filters a list: `action` (exact, or a domain without a dot), `since`/`until` (inclusive/exclusive). */
export interface AuditQuery {
  /** limit is the page size. */
  limit: number;
  /** cursor continues a previous page. */
  cursor?: string | undefined;
  /** action filters by action or by domain. */
  action?: string | undefined;
  /** since keeps entries at or after this time. */
  since?: Date | undefined;
  /** until keeps entries before this time. */
  until?: Date | undefined;
}

interface Row {
  id: string; team_id: string | null; actor_kind: string; actor_user_id: string | null; email: string | null;
  actor_token_id: string | null; action: string; target_type: string; target_id: string | null;
  details: Record<string, unknown>; ip: string | null; request_id: string | null; created_at: Date;
}

/** AuditService reads the audit log. */
export class AuditService {
  private readonly ds: DataSource;
  private readonly access: AccessChecker;
  constructor(ds: DataSource, access: AccessChecker) {
    this.ds = ds;
    this.access = access;
  }

  /** list returns a page of a team's entries, newest first; it needs `manage` on the team. */
  async list(actor: Actor, teamId: string, q: AuditQuery): Promise<Page<AuditEntry>> {
    await this.access.requireTeam(actor, teamId, 'manage');
    const where = ['a.team_id = $1'];
    const args: unknown[] = [teamId];
    const cursor = decodeCursor(q.cursor);
    if (cursor && (!isUuid(cursor.id) || Number.isNaN(Date.parse(cursor.key)))) {
      throw invalid([{ path: 'query.cursor', message: 'not a cursor this API issued' }]);
    }
    if (cursor) {
      args.push(new Date(cursor.key), cursor.id);
      where.push(`(a.created_at, a.id) < ($${args.length - 1}::timestamptz, $${args.length}::uuid)`);
    }
    if (q.action) {
      if (q.action.includes('.')) {
        args.push(q.action);
        where.push(`a.action = $${args.length}`);
      } else {
        args.push(`${q.action}.%`);
        where.push(`a.action LIKE $${args.length}`);
      }
    }
    if (q.since) {
      args.push(q.since);
      where.push(`a.created_at >= $${args.length}`);
    }
    if (q.until) {
      args.push(q.until);
      where.push(`a.created_at < $${args.length}`);
    }
    args.push(q.limit + 1);
    const rows: Row[] = await this.ds.query(
      `SELECT a.*, u.email FROM audit_entries a LEFT JOIN users u ON u.id = a.actor_user_id
       WHERE ${where.join(' AND ')} ORDER BY a.created_at DESC, a.id DESC LIMIT $${args.length}`,
      args,
    );
    const page = toPage(rows, q.limit, (r) => ({ key: r.created_at.toISOString(), id: r.id }));
    return { items: page.items.map(toEntry), nextCursor: page.nextCursor };
  }
}

function toEntry(r: Row): AuditEntry {
  return {
    id: r.id,
    teamId: r.team_id,
    actor: { kind: r.actor_kind, userId: r.actor_user_id, email: r.email, tokenId: r.actor_token_id },
    action: r.action,
    target: { type: r.target_type, id: r.target_id },
    details: r.details,
    ip: r.ip,
    requestId: r.request_id,
    createdAt: r.created_at.toISOString(),
  };
}
