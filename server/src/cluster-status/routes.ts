/**
 * Route of the cluster status: GET /api/cluster/status answers the reachability of Nomad, Consul and Vault and
 * Nomad's client nodes, to any signed-in member of a team (see service.ts for why).
 */
import { z } from 'zod';
import { defineRoute, type AnyRoute } from '../http/route.ts';
import type { ClusterStatusService } from './service.ts';

const Component = z.object({
  status: z.enum(['ok', 'down', 'not_configured']),
  message: z.string().describe('Why, in words (never a token or a response body)'),
}).meta({ id: 'ClusterComponentStatus' });

/** ClusterStatusSchema is the API form of the status. */
export const ClusterStatusSchema = z.object({
  nomad: Component,
  consul: Component,
  vault: Component,
  nodes: z.array(z.object({
    id: z.string(), name: z.string(), status: z.string(), eligibility: z.string(), pool: z.string(), datacenter: z.string(), drain: z.boolean(),
  })),
  checkedAt: z.iso.datetime(),
}).meta({ id: 'ClusterStatus' });

/** clusterStatusRoutes declares the status read. */
export function clusterStatusRoutes(svc: ClusterStatusService): AnyRoute[] {
  return [
    defineRoute({
      operationId: 'getClusterStatus', method: 'get', path: '/api/cluster/status',
      summary: 'Read the reachability of Nomad, Consul and Vault and the Nomad client nodes', tags: ['cluster'], auth: 'user', status: 200,
      responses: { 200: { description: 'The status (probes bounded to 3 s each)', schema: ClusterStatusSchema } },
      handler: async ({ actor }) => {
        const s = await svc.status(actor!);
        return { ...s, checkedAt: s.checkedAt.toISOString() };
      },
    }),
  ];
}
