/**
 * WebhooksService: outgoing webhooks per project. Creating one checks the URL (UrlGuard), generates a signing secret
 * (shown once in the answer, stored in the SecretStore under the webhook) and records the creation in the audit log;
 * listing and deleting check project access. Events are deployment and service state changes and database backup,
 * restore and verification verdicts.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { DataSource } from 'typeorm';
import type { AccessChecker } from '../core/access.ts';
import type { Actor } from '../core/actor.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import { DomainError } from '../core/errors.ts';
import { decodeCursor, encodeCursor, type Page } from '../core/pagination.ts';
import { requireAccess, isUuid } from '../projects/scope.ts';
import { withSecrets, type SecretOwner, type SecretStore } from '../secrets/secret-store.ts';
import { UrlRefusal, type UrlGuard } from './url-guard.ts';

/**
 * WEBHOOK_EVENTS are the event types a webhook may subscribe to (`*` = all): deployment and service state changes, and
 * the verdicts of a project's database backups, restores and verifications (the delivery's `data` then also carries
 * `databaseId`, `backupId` and, for restores and verifications, `checkId`; `reason` says why a failed one failed).
 */
export const WEBHOOK_EVENTS = [
  '*', 'deployment.queued', 'deployment.deploying', 'deployment.healthy', 'deployment.failed', 'deployment.cancelled',
  'deployment.superseded', 'deployment.removed', 'service.scaled', 'service.stopped', 'service.removed',
  'service.restarted', 'service.drift', 'service.run',
  'backup.succeeded', 'backup.failed', 'restore.succeeded', 'restore.failed', 'verification.succeeded', 'verification.failed',
] as const;

/** SECRET_NAME is the name of the signing secret in the webhook's SecretStore group. */
export const SECRET_NAME = 'signing';

/** webhookOwner is the SecretStore owner of a webhook's signing secret. */
export function webhookOwner(teamId: string, webhookId: string): SecretOwner {
  return { teamId, kind: 'webhook', id: webhookId };
}

/** WebhookView is a stored webhook (never with its secret). */
export interface WebhookView {
  /** id is the webhook's ID. */
  id: string;
  /** teamId is the owning team. */
  teamId: string;
  /** projectId is the project whose events it receives. */
  projectId: string;
  /** url is the target. */
  url: string;
  /** events are the subscribed event types. */
  events: string[];
  /** description is the tenant's note. */
  description: string;
  /** createdAt is the creation time. */
  createdAt: Date;
}

interface Row { id: string; team_id: string; project_id: string; url: string; events: string[]; description: string; created_at: Date }

function view(r: Row): WebhookView {
  return { id: r.id, teamId: r.team_id, projectId: r.project_id, url: r.url, events: r.events, description: r.description, createdAt: new Date(r.created_at) };
}

/** WebhooksServiceDeps are the service's adapters. */
export interface WebhooksServiceDeps {
  /** dataSource stores webhooks. */
  dataSource: DataSource;
  /** access checks project access. */
  access: AccessChecker;
  /** audit records creations and deletions. */
  audit: AuditRecorder;
  /** secrets keeps signing secrets. */
  secrets: SecretStore;
  /** guard checks URLs. */
  guard: UrlGuard;
  /** clock stamps rows. */
  clock: Clock;
}

/** WebhooksService manages webhooks. */
export class WebhooksService {
  private readonly d: WebhooksServiceDeps;

  constructor(d: WebhooksServiceDeps) {
    this.d = d;
  }

  /** create saves a webhook after checking its URL; returns it with the signing secret (the only time it is shown). */
  async create(actor: Actor, projectId: string, input: { url: string; events?: string[]; description?: string }): Promise<{ webhook: WebhookView; secret: string }> {
    const teamId = await this.projectTeam(actor, projectId, 'write');
    try {
      await this.d.guard.check(input.url);
    } catch (e) {
      if (e instanceof UrlRefusal) throw new DomainError('webhook/invalid_url', `url: ${e.message}`, { errors: [{ path: 'body.url', message: e.message }] });
      throw e;
    }
    const id = randomUUID();
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const now = this.d.clock.now();
    const events = [...new Set(input.events ?? ['*'])];
    const row = await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      const rows = (await tx.query(
        `INSERT INTO webhooks (id, team_id, project_id, url, events, description, created_by, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) RETURNING *`,
        [id, teamId, projectId, input.url, events, input.description ?? '', actor.userId, now],
      )) as Row[];
      await secrets.write(webhookOwner(teamId, id), new Map([[SECRET_NAME, secret]]));
      await this.d.audit.record({ actor, teamId, action: 'webhook.create', targetType: 'webhook', targetId: id, details: { projectId, url: input.url, events } }, tx);
      return rows[0] as Row;
    });
    return { webhook: view(row), secret };
  }

  /** list pages through a project's webhooks, oldest first. */
  async list(actor: Actor, projectId: string, q: { limit: number; cursor?: string | undefined }): Promise<Page<WebhookView>> {
    await this.projectTeam(actor, projectId, 'read');
    const c = decodeCursor(q.cursor);
    const rows = (await this.d.dataSource.query(
      `SELECT * FROM webhooks WHERE project_id = $1 ${c ? 'AND (created_at, id) > ($3, $4)' : ''} ORDER BY created_at, id LIMIT $2`,
      c ? [projectId, q.limit + 1, new Date(c.key), c.id] : [projectId, q.limit + 1],
    )) as Row[];
    const items = rows.slice(0, q.limit).map(view);
    const last = items.at(-1);
    return { items, nextCursor: rows.length > q.limit && last ? encodeCursor({ key: last.createdAt.toISOString(), id: last.id }) : null };
  }

  /** delete removes a webhook, its pending deliveries and its secret. */
  async delete(actor: Actor, webhookId: string): Promise<void> {
    const row = isUuid(webhookId) ? ((await this.d.dataSource.query('SELECT * FROM webhooks WHERE id = $1', [webhookId])) as Row[])[0] : undefined;
    if (!row) throw new DomainError('webhook/not_found');
    await requireAccess(this.d.access, actor, { teamId: row.team_id, projectId: row.project_id }, 'write', 'webhook/not_found');
    await withSecrets(this.d.dataSource, this.d.secrets, async (tx, secrets) => {
      await tx.query('DELETE FROM webhooks WHERE id = $1', [webhookId]);
      await secrets.drop(webhookOwner(row.team_id, row.id));
      await this.d.audit.record({ actor, teamId: row.team_id, action: 'webhook.delete', targetType: 'webhook', targetId: row.id, details: { projectId: row.project_id, url: row.url } }, tx);
    });
  }

  private async projectTeam(actor: Actor, projectId: string, permission: 'read' | 'write'): Promise<string> {
    const rows = isUuid(projectId) ? ((await this.d.dataSource.query('SELECT team_id FROM projects WHERE id = $1', [projectId])) as { team_id: string }[]) : [];
    const teamId = rows[0]?.team_id;
    if (!teamId) throw new DomainError('project/not_found');
    await requireAccess(this.d.access, actor, { teamId, projectId }, permission, 'project/not_found');
    return teamId;
  }
}
