/**
 * Route of the team event stream: GET /api/teams/:teamId/events streams deployment and service state changes as
 * Server-Sent Events (event name = the change's type), with heartbeats and Last-Event-ID replay from the event log.
 */
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { EventsService } from './service.ts';
import { SseStream } from './sse.ts';

const Params = z.object({ teamId: z.string().max(64) });

/** eventRoutes declares the team event stream. */
export function eventRoutes(svc: EventsService, sse: { heartbeatMs?: number; maxBufferedBytes?: number } = {}): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'streamTeamEvents', method: 'get', path: '/api/teams/:teamId/events',
      summary: "Stream a team's deployment and service events (Server-Sent Events; resume with Last-Event-ID)",
      tags: ['events'], auth: 'user', params: Params, status: 200,
      responses: { 200: { description: 'An event stream: `ready`, then `deployment.*` and `service.*` events (data: type, teamId, serviceId, deploymentId, reason, at) and a database\'s `backup.*`, `restore.*` and `verification.*` verdicts (`succeeded` or `failed`; data also databaseId, backupId, checkId; serviceId is the database); ids are the Postgres event log\'s, so Last-Event-ID replays missed events on any replica; `reset` (its id the newest event id; data: reason, message) when they cannot be replayed (unknown id, older than DROVER_EVENT_RETENTION, or more than the replay bound): refetch the state', schema: z.string(), contentType: 'text/event-stream' } },
      handler: async ({ actor, params, ctx }) => {
        const m = await svc.authorize(actor!, params.teamId);
        const lastId = ctx.get('last-event-id') || undefined;
        ctx.respond = false;
        const stream = new SseStream(ctx.req, ctx.res, { ...sse, retryMs: 2_000 });
        await svc.stream(m, lastId, stream);
        stream.close();
      },
    }),
  ];
}
