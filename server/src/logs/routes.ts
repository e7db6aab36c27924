/**
 * Route of live logs: GET /api/services/:serviceId/logs streams the runtime stdout/stderr of the service's
 * allocations as Server-Sent Events (`log` events whose id is a resume cursor; `gap`, `dropped`, `error`, `end`).
 */
import { z } from 'zod';
import { SseStream } from '../events/sse.ts';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import { decodeCursor } from './cursor.ts';
import type { LogsService } from './service.ts';

const Params = z.object({ serviceId: z.string().max(64) });

/** LogsQuery is the query of the logs stream. */
export const LogsQuery = z.object({
  stream: z.enum(['stdout', 'stderr']).optional().describe('One stream; both when omitted'),
  allocation: z.uuid().optional().describe('One allocation of the service; all running ones when omitted'),
  follow: z.enum(['true', 'false']).default('true').describe('Keep streaming new output'),
  origin: z.enum(['start', 'end']).default('end').describe('Where offset counts from'),
  offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0).describe('Byte offset from origin (with origin=end: a tail)'),
});

/** logRoutes declares the logs stream. `heartbeatMs` and `maxBufferedBytes` tune the SSE streams (tests). */
export function logRoutes(svc: LogsService, sse: { heartbeatMs?: number; maxBufferedBytes?: number } = {}): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'streamServiceLogs', method: 'get', path: '/api/services/:serviceId/logs',
      summary: "Stream a service's runtime logs (Server-Sent Events; resume with Last-Event-ID)",
      tags: ['logs'], auth: 'user', params: Params, query: LogsQuery, status: 200,
      responses: { 200: { description: 'An event stream of `log` events (data: allocation, task, stream, file, offset, text; the id is the resume cursor: each stream\'s log file rotation index and offset in it); `gap` (data: allocation, task, stream, fileIndex, offset, reason, message) when a resume cannot be exact and lines may be missing (the file was rotated out); `warning`, `dropped`, `error`, `end`', schema: z.string(), contentType: 'text/event-stream' } },
      handler: async ({ actor, params, query, ctx }) => {
        const target = await svc.authorize(actor!, params.serviceId);
        const lastId = ctx.get('last-event-id') || undefined;
        ctx.respond = false;
        const stream = new SseStream(ctx.req, ctx.res, { ...sse, retryMs: 2_000 });
        await svc.stream(target, {
          types: query.stream ? [query.stream] : ['stdout', 'stderr'],
          ...(query.allocation ? { allocation: query.allocation } : {}),
          follow: query.follow === 'true',
          origin: query.origin,
          offset: query.offset,
          cursor: decodeCursor(lastId),
        }, stream);
        stream.close();
      },
    }),
  ];
}
