/**
 * The route registry: every domain's route declarations, in the order the OpenAPI document lists them.
 */
import { auditRoutes } from './audit/routes.ts';
import { authRoutes } from './auth/routes.ts';
import { clusterStatusRoutes } from './cluster-status/routes.ts';
import { backupRoutes } from './backups/routes.ts';
import { databaseRoutes } from './databases/routes.ts';
import { deploymentRoutes } from './deployments/routes.ts';
import { runtimeRoutes } from './events/compose.ts';
import type { AnyRoute } from './http/route.ts';
import { projectDomainRoutes } from './projects/compose.ts';
import type { Services } from './services.ts';
import { teamRoutes } from './teams/routes.ts';
import { tokenRoutes } from './tokens/routes.ts';

/** allRoutes returns every API operation, built over the services. */
export function allRoutes(services: Services): AnyRoute[] {
  return [
    ...authRoutes(services.auth.service),
    ...tokenRoutes(services.tokens),
    ...teamRoutes(services.teams, services.invitations, services.auth.service.cookieSecure),
    ...auditRoutes(services.auditLog),
    ...projectDomainRoutes(services.projectDomains),
    ...databaseRoutes(services.databases),
    ...backupRoutes(services.backups),
    ...deploymentRoutes(services.deployments.service, () => services.deployments.worker.poke()),
    ...runtimeRoutes(services.runtime),
    ...clusterStatusRoutes(services.clusterStatus),
  ];
}
