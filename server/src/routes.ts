/**
 * The route registry: every domain's route declarations, in the order the OpenAPI document lists them.
 */
import type { AnyRoute } from './http/route.ts';
import type { Services } from './services.ts';

/** allRoutes returns every API operation, built over the services. */
export function allRoutes(_services: Services): AnyRoute[] {
  return [];
}
