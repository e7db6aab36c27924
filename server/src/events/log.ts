/**
 * The durable team event log in Postgres (`events`, append-only): every deployment and service event gets its id from
 * the table's bigserial before it is fanned out on the bus, so the SSE id is the same on every replica and survives
 * restarts. `since` replays a team's events after a Last-Event-ID (bounded), or says why it cannot (`reset`); `prune`
 * drops rows older than the retention window. `RecordingEventBus` wraps the coordination bus so that
 * `publishDeploymentEvent` records first and publishes second; Redis only fans out.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Clock } from '../core/clock.ts';
import { isUuid } from '../projects/scope.ts';
import type { DeploymentBusEvent, DeploymentEventRecorder } from '../deployments/events.ts';
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';

/** EVENT_RETENTION_MS is the default retention of the event log: 7 days. */
export const EVENT_RETENTION_MS = 7 * 24 * 3_600_000;

/** EVENT_MAX_REPLAY is the default most events one reconnect replays; more missed than that gets `reset`. */
export const EVENT_MAX_REPLAY = 1_000;

/** EventLogOptions tune the log. */
export interface EventLogOptions {
  /** retentionMs keeps events this long (default 7 days, at least one minute). */
  retentionMs?: number;
  /** maxReplay bounds one replay (default 1,000, between 1 and 100,000). */
  maxReplay?: number;
}

/** ReplayResult is what `since` found: the events to replay, or why they cannot be (the client must refetch). */
export type ReplayResult =
  | { kind: 'events'; events: DeploymentBusEvent[] }
  | { kind: 'reset'; reason: 'events_unknown' | 'events_expired' | 'too_many_events'; latest: string | undefined };

const ID = /^\d{1,18}$/;

/** EventLog reads and writes the `events` table. */
export class EventLog {
  private readonly dataSource: DataSource;
  private readonly clock: Clock;
  /** retentionMs is how long events are kept. */
  readonly retentionMs: number;
  /** maxReplay is the most events one reconnect replays. */
  readonly maxReplay: number;

  constructor(dataSource: DataSource, clock: Clock, opts: EventLogOptions = {}) {
    this.dataSource = dataSource;
    this.clock = clock;
    this.retentionMs = Math.max(60_000, opts.retentionMs ?? EVENT_RETENTION_MS);
    this.maxReplay = Math.min(100_000, Math.max(1, Math.floor(opts.maxReplay ?? EVENT_MAX_REPLAY)));
  }

  /**
   * append records one event and returns its id; an event whose team id is not a UUID belongs to no team stream and
   * is not recorded (undefined). Rejects on a database outage (or a team deleted meanwhile).
   */
  async append(e: Omit<DeploymentBusEvent, 'id'>): Promise<string | undefined> {
    if (!isUuid(e.teamId)) return undefined;
    const at = new Date(e.at);
    const rows = (await this.dataSource.query(
      'INSERT INTO events (team_id, type, payload, created_at) VALUES ($1, $2, $3::jsonb, $4) RETURNING id',
      [e.teamId, e.type.slice(0, 64), JSON.stringify(e), Number.isNaN(at.getTime()) ? this.clock.now() : at],
    )) as { id: string }[];
    return String(rows[0]?.id);
  }

  /**
   * since returns the team's events after `lastId` in id order, at most `maxReplay`; a reset when `lastId` is not an
   * id of this log (malformed, or newer than any), when events after it may have been pruned (older than the
   * retention window), or when more than `maxReplay` were missed. A reset carries the newest id of the log, from
   * which the client may resume once it has refetched.
   */
  async since(teamId: string, lastId: string): Promise<ReplayResult> {
    const bounds = (await this.dataSource.query('SELECT min(id)::text AS oldest, max(id)::text AS newest FROM events')) as { oldest: string | null; newest: string | null }[];
    const oldest = bounds[0]?.oldest ?? null;
    const latest = bounds[0]?.newest ?? undefined;
    if (!ID.test(lastId)) return { kind: 'reset', reason: 'events_unknown', latest };
    const last = BigInt(lastId);
    if (latest === undefined || oldest === null) return { kind: 'reset', reason: 'events_expired', latest };
    if (last > BigInt(latest)) return { kind: 'reset', reason: 'events_unknown', latest };
    if (last < BigInt(oldest) - 1n) return { kind: 'reset', reason: 'events_expired', latest };
    const rows = (await this.dataSource.query(
      'SELECT id::text AS id, payload FROM events WHERE team_id = $1 AND id > $2 ORDER BY id LIMIT $3',
      [teamId, lastId, this.maxReplay + 1],
    )) as { id: string; payload: Omit<DeploymentBusEvent, 'id'> }[];
    if (rows.length > this.maxReplay) return { kind: 'reset', reason: 'too_many_events', latest };
    return { kind: 'events', events: rows.map((r) => ({ ...r.payload, id: r.id })) };
  }

  /** newest returns the id of the newest event ('0' when there is none). */
  async newest(): Promise<string> {
    const rows = (await this.dataSource.query('SELECT coalesce(max(id), 0)::text AS id FROM events')) as { id: string }[];
    return rows[0]?.id ?? '0';
  }

  /** after returns every team's events with an id above `id`, in id order, at most `limit` (the hub's catch-up read). */
  async after(id: string, limit: number): Promise<DeploymentBusEvent[]> {
    const rows = (await this.dataSource.query(
      'SELECT id::text AS id, payload FROM events WHERE id > $1 ORDER BY id LIMIT $2', [ID.test(id) ? id : '0', limit],
    )) as { id: string; payload: Omit<DeploymentBusEvent, 'id'> }[];
    return rows.map((r) => ({ ...r.payload, id: r.id }));
  }

  /** prune deletes events older than the retention window, in batches of 10,000; returns how many were deleted. */
  async prune(): Promise<number> {
    const cutoff = new Date(this.clock.now().getTime() - this.retentionMs);
    let total = 0;
    for (;;) {
      const res = (await this.dataSource.query(
        'DELETE FROM events WHERE id IN (SELECT id FROM events WHERE created_at < $1 ORDER BY id LIMIT 10000)',
        [cutoff],
      )) as [unknown, number] | unknown;
      const n = Array.isArray(res) && typeof res[1] === 'number' ? res[1] : 0;
      total += n;
      if (n < 10_000) return total;
    }
  }
}

/**
 * RecordingEventBus is the coordination bus with the event log in front: publish and subscribe go to the inner bus
 * unchanged, and `recordDeploymentEvent` (called by `publishDeploymentEvent` before it publishes) appends to the log.
 * Every component that publishes deployment events must be given this bus (the composition root wraps once).
 */
export class RecordingEventBus implements EventBus, DeploymentEventRecorder {
  /** inner is the wrapped bus. */
  readonly inner: EventBus;
  /** log is the event log events are recorded in. */
  readonly log: EventLog;

  constructor(inner: EventBus, log: EventLog) {
    this.inner = inner;
    this.log = log;
  }

  /** publish forwards to the inner bus. */
  publish(channel: string, message: string): Promise<void> {
    return this.inner.publish(channel, message);
  }

  /** subscribe forwards to the inner bus. */
  subscribe(channel: string, handler: (message: string) => void): Promise<Unsubscribe> {
    return this.inner.subscribe(channel, handler);
  }

  /** recordDeploymentEvent appends the event to the log and returns its id. */
  recordDeploymentEvent(e: Omit<DeploymentBusEvent, 'id'>): Promise<string | undefined> {
    return this.log.append(e);
  }
}

/** recordingBus wraps `bus` so deployment events published through it are recorded in the Postgres event log. */
export function recordingBus(bus: EventBus, dataSource: DataSource, clock: Clock, opts: EventLogOptions = {}): RecordingEventBus {
  if (bus instanceof RecordingEventBus) return bus;
  return new RecordingEventBus(bus, new EventLog(dataSource, clock, opts));
}

/**
 * EventRetention prunes the event log periodically (every replica may run it: the delete is idempotent and
 * batched). `start` runs one pass soon, then every `intervalMs`; `stop` waits for the pass in progress.
 */
export class EventRetention {
  private readonly log: EventLog;
  private readonly intervalMs: number;
  private readonly logger: Logger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;

  constructor(log: EventLog, opts: { intervalMs?: number; logger?: Logger } = {}) {
    this.log = log;
    this.intervalMs = Math.max(1_000, opts.intervalMs ?? 3_600_000);
    this.logger = opts.logger;
  }

  /** start schedules the passes (idempotent). */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => { void this.run(); }, this.intervalMs);
    this.timer.unref();
    setTimeout(() => { if (this.timer) void this.run(); }, Math.min(this.intervalMs, 30_000)).unref();
  }

  /** run prunes once (a pass already running is joined); failures are logged and retried at the next pass. */
  run(): Promise<number> {
    if (!this.running) {
      this.running = this.log.prune()
        .catch((err: unknown) => { this.logger?.warn({ err }, 'event log pruning failed; retrying at the next pass'); return 0; })
        .finally(() => { this.running = undefined; });
    }
    return this.running;
  }

  /** stop ends the schedule and waits for a pass in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
