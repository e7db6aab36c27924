/**
 * Deployment events on the EventBus: every state change of a deployment (`deployment.*`) and of a service's runtime
 * (`service.*`) is published on one channel as JSON, for SSE and webhooks. Bus delivery is at most once; when the bus
 * also records events (`DeploymentEventRecorder`, the Postgres event log wired at the composition root), each event is
 * appended to the `events` table first and published with the id it got there, so a client that missed it live can
 * replay it from any replica with Last-Event-ID. Losing Redis loses fan-out only, never the record.
 */
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';

/** DEPLOYMENT_EVENTS_CHANNEL is the bus channel of deployment and service events. */
export const DEPLOYMENT_EVENTS_CHANNEL = 'drover.deployments';

/** DeploymentBusEvent is one published change (never carries variable values). */
export interface DeploymentBusEvent {
  /** id is the event's id in the `events` table (a decimal bigserial), absent when it was not recorded. */
  id?: string;
  /** type is `deployment.<state>` or `service.<what>` (`service.scaled`, `service.stopped`, `service.removed`, `service.restarted`, `service.drift`, `service.run`), or a database's `backup.succeeded|failed`, `restore.succeeded|failed`, `verification.succeeded|failed`. */
  type: string;
  /** teamId scopes the event (subscribers filter by the caller's teams). */
  teamId: string;
  /** serviceId is the service concerned. */
  serviceId: string;
  /** deploymentId is the deployment concerned, when there is one. */
  deploymentId?: string;
  /** reason is the human reason of the change. */
  reason?: string;
  /** databaseId is the database concerned by a `backup.*`, `restore.*` or `verification.*` event (serviceId carries it too). */
  databaseId?: string;
  /** backupId is the backup concerned by a `backup.*`, `restore.*` or `verification.*` event. */
  backupId?: string;
  /** checkId is the restore or verification concerned by a `restore.*` or `verification.*` event. */
  checkId?: string;
  /** at is the ISO time of the change. */
  at: string;
}

/**
 * DeploymentEventRecorder is implemented by a bus that also records deployment events durably (see
 * `events/log.ts`): `recordDeploymentEvent` appends the event and returns its id (undefined when the event cannot
 * belong to a team stream, e.g. an empty team id).
 */
export interface DeploymentEventRecorder {
  /** recordDeploymentEvent appends `e` to the durable log and resolves with its id; rejects on a database outage. */
  recordDeploymentEvent(e: Omit<DeploymentBusEvent, 'id'>): Promise<string | undefined>;
}

function isRecorder(bus: EventBus): bus is EventBus & DeploymentEventRecorder {
  return typeof (bus as Partial<DeploymentEventRecorder>).recordDeploymentEvent === 'function';
}

/**
 * publishDeploymentEvent records the event when the bus records (its id then rides along), then publishes it. A bus
 * outage is logged by the caller, never fatal to the pipeline; when recording fails the event is still published
 * live (without an id) and the recording error is thrown for the caller to log.
 */
export async function publishDeploymentEvent(bus: EventBus, e: Omit<DeploymentBusEvent, 'at' | 'id'>): Promise<void> {
  const full: Omit<DeploymentBusEvent, 'id'> = { ...e, at: new Date().toISOString() };
  let id: string | undefined;
  let recordError: unknown;
  if (isRecorder(bus)) {
    try {
      id = await bus.recordDeploymentEvent(full);
    } catch (err) {
      recordError = err;
    }
  }
  await bus.publish(DEPLOYMENT_EVENTS_CHANNEL, JSON.stringify(id === undefined ? full : { id, ...full }));
  if (recordError !== undefined) throw recordError;
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
    if (e.id !== undefined && (typeof e.id !== 'string' || !/^\d{1,18}$/.test(e.id))) return;
    if (teamIds && !teamIds.has(e.teamId)) return;
    handler(e);
  });
}
