/**
 * The runtime domains — live logs, service metrics, team event streams and outgoing webhooks — built over the
 * platform adapters and a Nomad client, with their routes. `createRuntimeServices` is called once per process.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import type { AccessChecker } from '../core/access.ts';
import type { AnyRoute } from '../http/route.ts';
import type { Clock } from '../core/clock.ts';
import { systemClock } from '../core/clock.ts';
import { metricsRoutes } from '../metrics/routes.ts';
import { MetricsSampler } from '../metrics/sampler.ts';
import { MetricsService } from '../metrics/service.ts';
import type { TrafficSource } from '../metrics/traefik.ts';
import type { EventBus, Lock } from '../platform/coordination/types.ts';
import type { AuditRecorder } from '../core/audit.ts';
import type { DnsResolver } from '../domains/verification.ts';
import { SystemDnsResolver } from '../domains/verification.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { WebhookDelivery, type DeliveryOptions } from '../webhooks/delivery.ts';
import { webhookRoutes } from '../webhooks/routes.ts';
import { WebhooksService } from '../webhooks/service.ts';
import { UrlGuard } from '../webhooks/url-guard.ts';
import { EventsHub } from './hub.ts';
import { EventRetention, recordingBus, type EventLogOptions } from './log.ts';
import { eventRoutes } from './routes.ts';
import { EventsService } from './service.ts';
import { LogHub } from '../logs/hub.ts';
import { logRoutes } from '../logs/routes.ts';
import { LogsService } from '../logs/service.ts';
import type { LogSessionOptions } from '../logs/session.ts';
import { ServiceTargets } from '../logs/target.ts';

/** RuntimeDeps are what the runtime domains are built from. */
export interface RuntimeDeps {
  /** dataSource is the migrated DataSource. */
  dataSource: DataSource;
  /** access is the AccessChecker. */
  access: AccessChecker;
  /** nomad is Drover's Nomad client. */
  nomad: NomadClient;
  /** logger is the root logger. */
  logger: Logger;
  /** bus is the EventBus carrying deployment and service events (wrapped in a RecordingEventBus unless it is one). */
  bus: EventBus;
  /**
   * events tunes the Postgres event log: retention (default 7 days), replay bound, pruning interval (default 1 h), and
   * how often connected streams catch up from it on events the bus lost (default 5 s).
   */
  events?: EventLogOptions & { pruneIntervalMs?: number; pollMs?: number };
  /** locks elects the metrics sampler among replicas. */
  locks: Lock;
  /** clock stamps samples (default: the system clock). */
  clock?: Clock;
  /** metricsIntervalMs is the sampling interval (default 10 s). */
  metricsIntervalMs?: number;
  /** traffic gives the network figures of the metrics (Traefik's Prometheus metrics); absent: network series are null. */
  traffic?: TrafficSource;
  /** audit records webhook changes. */
  audit: AuditRecorder;
  /** secrets keeps webhook signing secrets. */
  secrets: SecretStore;
  /** resolver resolves webhook hosts (default: the system's DNS). */
  resolver?: DnsResolver;
  /** allowLoopbackWebhooks lets webhooks target loopback — TESTS ONLY, set in code, never from configuration a tenant controls. */
  allowLoopbackWebhooks?: boolean;
  /** delivery tunes webhook retries and polling. */
  delivery?: DeliveryOptions;
  /** logSession tunes log sessions (bounds, polling); tests shorten them. */
  logSession?: LogSessionOptions;
  /** sse tunes event streams (heartbeat interval, per-client buffer bound). */
  sse?: { heartbeatMs?: number; maxBufferedBytes?: number };
}

/** RuntimeServices are the runtime domain services. */
export type RuntimeServices = ReturnType<typeof createRuntimeServices>;

/** createRuntimeServices builds the runtime services (no I/O until used; `close` stops their background work). */
export function createRuntimeServices(deps: RuntimeDeps) {
  const targets = new ServiceTargets(deps.dataSource, deps.access);
  const hub = new LogHub(deps.nomad, { logger: deps.logger.child({ component: 'logs' }) });
  const logs = new LogsService({ targets, nomad: deps.nomad, hub, ...(deps.logSession ? { session: deps.logSession } : {}) });
  const clock = deps.clock ?? systemClock;
  const bus = recordingBus(deps.bus, deps.dataSource, clock, deps.events);
  const eventsHub = new EventsHub(bus, {
    logger: deps.logger.child({ component: 'events' }), log: bus.log, ...(deps.events?.pollMs ? { pollMs: deps.events.pollMs } : {}),
  });
  const events = new EventsService({ dataSource: deps.dataSource, access: deps.access, hub: eventsHub, log: bus.log });
  const retention = new EventRetention(bus.log, {
    logger: deps.logger.child({ component: 'events' }), ...(deps.events?.pruneIntervalMs ? { intervalMs: deps.events.pruneIntervalMs } : {}),
  });
  const sampler = new MetricsSampler({
    dataSource: deps.dataSource, nomad: deps.nomad, targets, locks: deps.locks, clock, logger: deps.logger.child({ component: 'metrics' }),
    ...(deps.metricsIntervalMs ? { intervalMs: deps.metricsIntervalMs } : {}),
    ...(deps.traffic ? { traffic: deps.traffic } : {}),
  });
  const metrics = new MetricsService({ dataSource: deps.dataSource, targets, clock });
  const guard = new UrlGuard(deps.resolver ?? new SystemDnsResolver(), { allowLoopback: deps.allowLoopbackWebhooks ?? false });
  const webhooks = new WebhooksService({ dataSource: deps.dataSource, access: deps.access, audit: deps.audit, secrets: deps.secrets, guard, clock });
  const delivery = new WebhookDelivery(
    { dataSource: deps.dataSource, bus, secrets: deps.secrets, guard, clock, logger: deps.logger.child({ component: 'webhooks' }) },
    deps.delivery,
  );
  return {
    targets,
    logs,
    events,
    /** bus is the recording bus (publish deployment events through it so they are recorded). */
    bus,
    /** retention prunes the event log (started by `start`). */
    retention,
    /** sampler samples allocation stats (started by `start`). */
    sampler,
    metrics,
    webhooks,
    /** delivery sends webhook events (started by `start`). */
    delivery,
    /** start begins the background work (metrics sampling, event log pruning, webhook delivery); a bus outage at start is retried by the caller. */
    async start(): Promise<void> {
      sampler.start();
      retention.start();
      await delivery.start();
    },
    sse: deps.sse ?? {},
    /** close stops upstream streams and background loops. */
    async close(): Promise<void> {
      hub.close();
      await sampler.stop();
      await delivery.stop();
      await retention.stop();
      await eventsHub.close();
    },
  };
}

/** runtimeRoutes declares the runtime routes over the services. */
export function runtimeRoutes(s: RuntimeServices): AnyRoute[] {
  return [...logRoutes(s.logs, s.sse), ...eventRoutes(s.events, s.sse), ...metricsRoutes(s.metrics), ...webhookRoutes(s.webhooks)];
}
