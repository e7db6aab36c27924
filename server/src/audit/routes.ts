/** Audit routes: a team's audit log for its owners and admins. */
import { z } from 'zod';
import { PageQuery, pageSchema } from '../core/pagination.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import { must } from '../teams/routes.ts';
import type { AuditService } from './service.ts';

/** AuditEntrySchema is one audit entry. */
export const AuditEntrySchema = z
  .object({
    id: z.uuid(),
    teamId: z.uuid().nullable(),
    actor: z.object({ kind: z.string(), userId: z.uuid().nullable(), email: z.string().nullable(), tokenId: z.uuid().nullable() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    details: z.record(z.string(), z.unknown()),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'AuditEntry' });

/** AuditQuerySchema filters the log: action (`project.create`, or a domain `project`) and a time range. */
export const AuditQuerySchema = PageQuery.extend({
  action: z.string().regex(/^[a-z_]{1,40}(\.[a-z_]{1,40})?$/, 'must be an action (`project.create`) or a domain (`project`)').optional(),
  since: z.iso.datetime({ offset: true }).optional(),
  until: z.iso.datetime({ offset: true }).optional(),
});

/** auditRoutes declares the audit log operation. */
export function auditRoutes(audit: AuditService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'listAuditEntries', method: 'get', path: '/api/teams/:teamId/audit', summary: 'List a team’s audit log, newest first (owners and admins)',
      tags: ['audit'], auth: 'user', params: z.object({ teamId: z.uuid() }), query: AuditQuerySchema, status: 200,
      responses: { 200: { description: 'A page of audit entries', schema: pageSchema(AuditEntrySchema).meta({ id: 'AuditEntryPage' }) } },
      handler: async ({ actor, params, query }) =>
        audit.list(must(actor), params.teamId, {
          limit: query.limit, cursor: query.cursor, action: query.action,
          since: query.since ? new Date(query.since) : undefined, until: query.until ? new Date(query.until) : undefined,
        }),
    }),
  ];
}
