/**
 * Deployment events on the EventBus: every state change of a deployment (`deployment.*`) and of a service's runtime
 * (`service.*`) is published on one channel as JSON, for SSE and webhooks. Delivery is at most once; the durable
 * record is the deployment's own event log in Postgres.
 */
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';

/** DEPLOYMENT_EVENTS_CHANNEL is the bus channel of deployment and service events. */
export const DEPLOYMENT_EVENTS_CHANNEL = 'drover.deployments';

/** DeploymentBusEvent is one published change (never carries variable values). */
export interface DeploymentBusEvent {
  /** type is `deployment.<state>` or `service.<what>` (`service.scaled`, `service.stopped`, `service.removed`, `service.restarted`, `service.drift`, `service.run`). */
  type: string;
  /** teamId scopes the event (subscribers filter by the caller's teams). */
  teamId: string;
  /** serviceId is the service concerned. */
  serviceId: string;
  /** deploymentId is the deployment concerned, when there is one. */
  deploymentId?: string;
  /** reason is the human reason of the change. */
  reason?: string;
  /** at is the ISO time of the change. */
  at: string;
}

/** publishDeploymentEvent publishes one event; a bus outage is logged by the caller, never fatal to the pipeline. */
export async function publishDeploymentEvent(bus: EventBus, e: Omit<DeploymentBusEvent, 'at'>): Promise<void> {
  await bus.publish(DEPLOYMENT_EVENTS_CHANNEL, JSON.stringify({ ...e, at: new Date().toISOString() }));
}

/**
 * subscribeDeploymentEvents calls `handler` for every later event, optionally only those of `teamIds`; malformed
 * messages are skipped. Resolves once subscribed, with the function that unsubscribes.
 */
export function subscribeDeploymentEvents(bus: EventBus, handler: (e: DeploymentBusEvent) => void, teamIds?: ReadonlySet<string>): Promise<Unsubscribe> {
  return bus.subscribe(DEPLOYMENT_EVENTS_CHANNEL, (message) => {
    let e: DeploymentBusEvent;
    try {
      e = JSON.parse(message) as DeploymentBusEvent;
    } catch {
      return;
    }
    if (typeof e?.type !== 'string' || typeof e.teamId !== 'string') return;
    if (teamIds && !teamIds.has(e.teamId)) return;
    handler(e);
  });
}
