/**
 * Route of service metrics: GET /api/services/:serviceId/metrics?from=&to=&step= answers CPU, memory and network
 * series. Network is HTTP traffic through Traefik (request and response bytes per second), not raw socket traffic.
 */
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { MetricsService } from './service.ts';

const Params = z.object({ serviceId: z.string().max(64) });

/** MetricsQuery is the query of the series. */
export const MetricsQuery = z.object({
  from: z.iso.datetime({ offset: true }).optional().describe('Start (default: one hour before to)'),
  to: z.iso.datetime({ offset: true }).optional().describe('End (default: now)'),
  step: z.coerce.number().int().min(10).max(86_400).optional().describe('Point width in seconds (a multiple of the stored resolution)'),
});

/** MetricsSeriesSchema is the API form of a series. */
export const MetricsSeriesSchema = z.object({
  serviceId: z.uuid(),
  from: z.iso.datetime(),
  to: z.iso.datetime(),
  step: z.number().int(),
  resolution: z.number().int().describe('Stored resolution the points come from (10, 60 or 600 s)'),
  points: z.array(z.object({
    t: z.iso.datetime(),
    allocations: z.number().int(),
    cpuPercent: z.number(),
    cpuMhz: z.number(),
    memoryBytes: z.number(),
    memoryMaxBytes: z.number(),
    networkRxBytesPerSecond: z.number().nullable().describe(
      'Ingress: average HTTP request bytes per second that reached the service through Traefik (its Prometheus metrics; '
      + 'not raw socket traffic, nothing for unrouted services or traffic inside the cluster). Null when not measured '
      + '(no DROVER_TRAEFIK_METRICS_URL, or the scrapes failed).'),
    networkTxBytesPerSecond: z.number().nullable().describe(
      'Egress: average HTTP response bytes per second the service returned through Traefik; null when not measured.'),
  })),
}).meta({ id: 'MetricsSeries' });

/** metricsRoutes declares the metrics read. */
export function metricsRoutes(svc: MetricsService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'getServiceMetrics', method: 'get', path: '/api/services/:serviceId/metrics',
      summary: "Read a service's CPU, memory and HTTP network series", tags: ['metrics'], auth: 'user', params: Params, query: MetricsQuery, status: 200,
      responses: { 200: { description: 'The series', schema: MetricsSeriesSchema } },
      handler: async ({ actor, params, query }) => {
        const s = await svc.series(actor!, params.serviceId, {
          ...(query.from ? { from: new Date(query.from) } : {}),
          ...(query.to ? { to: new Date(query.to) } : {}),
          ...(query.step !== undefined ? { step: query.step } : {}),
        });
        return {
          serviceId: params.serviceId, from: s.from.toISOString(), to: s.to.toISOString(), step: s.step, resolution: s.resolution,
          points: s.points.map((p) => ({ ...p, t: p.t.toISOString() })),
        };
      },
    }),
  ];
}
