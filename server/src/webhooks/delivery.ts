/**
 * Webhook delivery. Deliveries derive from the durable event log (`events`, Postgres), never from the bus alone: the
 * dispatcher keeps a cursor in Postgres (`webhook_event_cursor`: the last event id turned into deliveries) and, on each
 * bus notification and on a periodic tick, reads the events after it in id order and inserts one durable delivery per
 * matching webhook (unique per (webhook, event)), advancing the cursor in the same transaction, which holds the cursor
 * row (`FOR UPDATE SKIP LOCKED`) so one replica at a time advances it. An event recorded while Redis was down (or
 * dropped by Redis) is therefore still delivered, once, by the next tick. Every deployment/service event and every
 * database backup, restore and verification verdict (whose serviceId is the database's ID) is matched to the webhooks
 * of its project that subscribe to its type.
 *
 * The bigserial visibility gap: ids are taken before the inserting transaction commits, so a lower id can become
 * visible after a higher one was read. An id the read skipped is kept in `webhook_event_gaps` with when it was first
 * missed, and every pass re-reads those ids: one that appears is delivered then; one still missing after
 * `gapHorizonMs` (a sequence value lost to a rolled-back insert, or to a crash's sequence jump) is forgotten. This
 * neither holds every later event back behind one slow commit (as a time horizon on the cursor would), nor stalls
 * behind any long transaction of the database (as an xmin/snapshot horizon would: a pg_dump or an idle transaction).
 *
 * The sender claims due deliveries with `FOR UPDATE SKIP LOCKED` (replicas share the work, a crashed claim is retried
 * after its lease), checks the URL again (DNS rebinding), connects only to the checked address, never follows
 * redirects, signs the body with HMAC-SHA256 and retries failures with exponential backoff and jitter.
 */
import { createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import type { Clock } from '../core/clock.ts';
import { subscribeDeploymentEvents, type DeploymentBusEvent } from '../deployments/events.ts';
import { isUuid } from '../projects/scope.ts';
import type { EventBus, Unsubscribe } from '../platform/coordination/types.ts';
import type { SecretStore } from '../secrets/secret-store.ts';
import { SECRET_NAME, webhookOwner } from './service.ts';
import { UrlRefusal, type UrlGuard } from './url-guard.ts';

/** SIGNATURE_HEADER carries `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`. */
export const SIGNATURE_HEADER = 'x-drover-signature';

/** sign computes the signature header value of a body at a time. */
export function sign(secret: string, body: string, unixSeconds: number): string {
  const mac = createHmac('sha256', secret).update(`${unixSeconds}.${body}`).digest('hex');
  return `t=${unixSeconds},v1=${mac}`;
}

/** DeliveryOptions tune delivery. */
export interface DeliveryOptions {
  /** baseDelayMs is the first retry delay (default 10 s); each retry doubles it, with ±20 % jitter. */
  baseDelayMs?: number;
  /** maxDelayMs caps a retry delay (default 1 h). */
  maxDelayMs?: number;
  /** maxAttempts ends retrying (default 10); the delivery is then `failed`. */
  maxAttempts?: number;
  /** timeoutMs bounds one attempt (default 10 s). */
  timeoutMs?: number;
  /** pollMs is how often due deliveries are claimed (default 1 s). */
  pollMs?: number;
  /** batch is how many deliveries one poll claims (default 20). */
  batch?: number;
  /** eventPollMs is how often the event log is read even without a bus notification (default 2 s, at least 50 ms). */
  eventPollMs?: number;
  /** eventBatch is how many events one dispatcher pass reads (default 500). */
  eventBatch?: number;
  /** gapHorizonMs is how long an id skipped by a read is looked for again before it is forgotten (default 10 min). */
  gapHorizonMs?: number;
}

/** MAX_GAPS_PER_PASS bounds the skipped ids one pass remembers (a sequence moved far ahead by hand is not tracked). */
const MAX_GAPS_PER_PASS = 10_000;

interface EventRow { id: string; payload: Omit<DeploymentBusEvent, 'id'> }

/** rowsOf returns the rows of a raw query answer (TypeORM answers `[rows, count]` to UPDATE and DELETE). */
function rowsOf<T>(r: unknown): T[] {
  return (Array.isArray(r) && Array.isArray(r[0]) ? r[0] : r) as T[];
}

/** WebhookDelivery turns the event log into webhook deliveries and sends them. */
export class WebhookDelivery {
  private readonly d: { dataSource: DataSource; bus: EventBus; secrets: SecretStore; guard: UrlGuard; clock: Clock; logger?: Logger | undefined };
  private readonly o: Required<DeliveryOptions>;
  private unsubscribe: Unsubscribe | undefined;
  private timer: NodeJS.Timeout | undefined;
  private eventTimer: NodeJS.Timeout | undefined;
  private polling: Promise<number> | undefined;
  private dispatching: Promise<number> | undefined;
  private again = false;
  private cursorReady = false;

  constructor(d: { dataSource: DataSource; bus: EventBus; secrets: SecretStore; guard: UrlGuard; clock: Clock; logger?: Logger }, o: DeliveryOptions = {}) {
    this.d = d;
    this.o = {
      baseDelayMs: o.baseDelayMs ?? 10_000, maxDelayMs: o.maxDelayMs ?? 3_600_000, maxAttempts: o.maxAttempts ?? 10,
      timeoutMs: o.timeoutMs ?? 10_000, pollMs: o.pollMs ?? 1_000, batch: o.batch ?? 20,
      eventPollMs: Math.max(50, o.eventPollMs ?? 2_000), eventBatch: Math.max(1, o.eventBatch ?? 500),
      gapHorizonMs: Math.max(1_000, o.gapHorizonMs ?? 600_000),
    };
  }

  /**
   * start creates the cursor (at the newest event on the very first run: history is not replayed), starts the event
   * log tick and the delivery poll, then subscribes to the bus for prompt passes. Rejects when the database or the bus
   * is unavailable (a later call retries); the ticks run meanwhile, so a bus outage only delays deliveries.
   */
  async start(): Promise<void> {
    await this.ensureCursor();
    if (!this.timer) {
      this.timer = setInterval(() => { void this.poll(); }, this.o.pollMs);
      this.timer.unref();
    }
    if (!this.eventTimer) {
      this.eventTimer = setInterval(() => { void this.dispatch(); }, this.o.eventPollMs);
      this.eventTimer.unref();
    }
    if (!this.unsubscribe) {
      this.unsubscribe = await subscribeDeploymentEvents(this.d.bus, (e) => {
        if (e.id !== undefined) void this.dispatch();
      });
    }
  }

  /** stop ends the ticks and the subscription, waiting for the pass and the poll in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.eventTimer) clearInterval(this.eventTimer);
    this.timer = undefined;
    this.eventTimer = undefined;
    await this.dispatching?.catch(() => 0);
    await this.polling?.catch(() => 0);
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    await u?.().catch(() => undefined);
  }

  /**
   * dispatch reads the event log after the cursor and records the deliveries of what it finds, until caught up;
   * resolves with how many deliveries this replica recorded (0 when another replica held the cursor). A call during
   * a pass joins it and makes it read once more. Failures are logged and retried at the next tick.
   */
  dispatch(): Promise<number> {
    if (this.dispatching) {
      this.again = true;
      return this.dispatching;
    }
    this.dispatching = (async () => {
      let total = 0;
      do {
        this.again = false;
        for (let i = 0; i < 100; i++) {
          const r = await this.dispatchOnce();
          total += r.inserted;
          if (r.inserted > 0) void this.poll();
          if (!r.more) break;
        }
      } while (this.again);
      return total;
    })().catch((err: unknown) => {
      this.d.logger?.warn({ err }, 'webhook dispatch failed; retrying at the next tick');
      return 0;
    }).finally(() => { this.dispatching = undefined; });
    return this.dispatching;
  }

  private async ensureCursor(): Promise<void> {
    if (this.cursorReady) return;
    await this.d.dataSource.query(
      `INSERT INTO webhook_event_cursor (id, last_event_id, updated_at) SELECT 1, coalesce(max(id), 0), $1 FROM events
       ON CONFLICT (id) DO NOTHING`, [this.d.clock.now()],
    );
    this.cursorReady = true;
  }

  /** dispatchOnce is one pass in one transaction: recheck the gaps, read after the cursor, insert, advance. */
  private async dispatchOnce(): Promise<{ inserted: number; more: boolean }> {
    await this.ensureCursor();
    return this.d.dataSource.transaction(async (m) => {
      const cur = rowsOf<{ id: string }>(await m.query('SELECT last_event_id::text AS id FROM webhook_event_cursor WHERE id = 1 FOR UPDATE SKIP LOCKED'));
      if (!cur[0]) return { inserted: 0, more: false }; // another replica is advancing it (it heard the same notification)
      const cursor = BigInt(cur[0].id);
      const now = this.d.clock.now();
      const late = rowsOf<EventRow>(await m.query(
        'DELETE FROM webhook_event_gaps g USING events e WHERE e.id = g.event_id RETURNING e.id::text AS id, e.payload',
      ));
      await m.query('DELETE FROM webhook_event_gaps WHERE seen_at < $1', [new Date(now.getTime() - this.o.gapHorizonMs)]);
      const fresh = rowsOf<EventRow>(await m.query(
        'SELECT id::text AS id, payload FROM events WHERE id > $1 ORDER BY id LIMIT $2', [cur[0].id, this.o.eventBatch],
      ));
      const last = fresh.at(-1);
      if (last) {
        const gaps: string[] = [];
        let expected = cursor + 1n;
        for (const e of fresh) {
          const id = BigInt(e.id);
          for (; expected < id && gaps.length < MAX_GAPS_PER_PASS; expected++) gaps.push(String(expected));
          expected = id + 1n;
        }
        if (gaps.length > 0) {
          await m.query('INSERT INTO webhook_event_gaps (event_id, seen_at) SELECT unnest($1::bigint[]), $2 ON CONFLICT (event_id) DO NOTHING', [gaps, now]);
        }
        await m.query('UPDATE webhook_event_cursor SET last_event_id = $1, updated_at = $2 WHERE id = 1', [last.id, now]);
      }
      const inserted = await this.record(m, [...late, ...fresh], now);
      return { inserted, more: fresh.length >= this.o.eventBatch };
    });
  }

  /** record inserts one delivery per webhook of each event's project that subscribes to its type (once per event). */
  private async record(m: EntityManager, events: EventRow[], now: Date): Promise<number> {
    const usable = events.filter((e) => isUuid(e.payload.serviceId) && isUuid(e.payload.teamId) && typeof e.payload.type === 'string');
    if (usable.length === 0) return 0;
    const payloads = usable.map(({ payload: e }) => JSON.stringify({
      type: e.type, teamId: e.teamId, serviceId: e.serviceId, deploymentId: e.deploymentId ?? null, reason: e.reason ?? null, at: e.at,
      // A database's backup, restore and verification verdicts name the database, the backup and the restore or verification.
      ...(e.databaseId ? { databaseId: e.databaseId } : {}), ...(e.backupId ? { backupId: e.backupId } : {}), ...(e.checkId ? { checkId: e.checkId } : {}),
    }));
    const rows = rowsOf<{ id: string }>(await m.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, event_id, event_type, payload, state, attempts, next_attempt_at, created_at)
       SELECT gen_random_uuid(), w.id, x.event_id, x.type, x.payload, 'pending', 0, $6::timestamptz, $6::timestamptz
         FROM unnest($1::bigint[], $2::text[], $3::jsonb[], $4::uuid[], $5::uuid[]) AS x(event_id, type, payload, service_id, team_id)
         JOIN LATERAL (SELECT project_id FROM services WHERE id = x.service_id
                       UNION ALL SELECT project_id FROM databases WHERE id = x.service_id LIMIT 1) p ON true
         JOIN webhooks w ON w.project_id = p.project_id AND w.team_id = x.team_id AND ('*' = ANY(w.events) OR x.type = ANY(w.events))
       ORDER BY x.event_id
       ON CONFLICT (webhook_id, event_id) DO NOTHING RETURNING id`,
      [usable.map((e) => e.id), usable.map((e) => e.payload.type.slice(0, 64)), payloads, usable.map((e) => e.payload.serviceId), usable.map((e) => e.payload.teamId), now],
    ));
    return rows.length;
  }

  /** poll claims due deliveries and attempts them; returns how many were attempted. */
  poll(): Promise<number> {
    if (this.polling) return this.polling;
    this.polling = this.pollOnce().finally(() => { this.polling = undefined; });
    return this.polling;
  }

  private async pollOnce(): Promise<number> {
    const now = this.d.clock.now();
    const lease = new Date(now.getTime() + this.o.timeoutMs * 3);
    const rows = rowsOf<{ id: string; attempts: number; event_type: string; payload: unknown; created_at: Date; webhook_id: string; url: string; team_id: string }>(await this.d.dataSource.query(
      `UPDATE webhook_deliveries d SET next_attempt_at = $2, attempts = d.attempts + 1
        FROM webhooks w
       WHERE w.id = d.webhook_id AND d.id IN (
         SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING d.id, d.attempts, d.event_type, d.payload, d.created_at, w.id AS webhook_id, w.url, w.team_id`,
      [now, lease, this.o.batch],
    ));
    await Promise.all(rows.map((r) => this.attempt(r)));
    return rows.length;
  }

  private async attempt(r: { id: string; attempts: number; event_type: string; payload: unknown; created_at: Date; webhook_id: string; url: string; team_id: string }): Promise<void> {
    let status: number | null = null;
    let error: string | null = null;
    let permanent = false;
    try {
      const target = await this.d.guard.check(r.url);
      const secret = (await this.d.secrets.read(webhookOwner(r.team_id, r.webhook_id), [SECRET_NAME])).get(SECRET_NAME);
      if (!secret) throw new Error('the webhook has no signing secret');
      const body = JSON.stringify({ id: r.id, type: r.event_type, createdAt: new Date(r.created_at).toISOString(), data: r.payload });
      status = await this.send(target.url, target.addresses[0] as string, body, {
        'content-type': 'application/json', 'user-agent': 'Drover-Webhooks/1', 'x-drover-event': r.event_type, 'x-drover-delivery': r.id,
        [SIGNATURE_HEADER]: sign(secret, body, Math.floor(this.d.clock.now().getTime() / 1000)),
      });
      if (status < 200 || status >= 300) error = status >= 300 && status < 400 ? `redirect ${status} not followed` : `HTTP ${status}`;
    } catch (e) {
      if (e instanceof UrlRefusal) {
        permanent = true;
        error = `refused: ${e.message}`;
      } else {
        error = e instanceof Error ? e.message.slice(0, 500) : 'error';
      }
    }
    const now = this.d.clock.now();
    if (error === null) {
      await this.d.dataSource.query(`UPDATE webhook_deliveries SET state = 'delivered', last_status = $2, last_error = NULL, delivered_at = $3 WHERE id = $1`, [r.id, status, now]);
      return;
    }
    const done = permanent || r.attempts >= this.o.maxAttempts;
    const delay = Math.min(this.o.maxDelayMs, this.o.baseDelayMs * 2 ** (r.attempts - 1)) * (0.8 + Math.random() * 0.4);
    await this.d.dataSource.query(
      `UPDATE webhook_deliveries SET state = $2, last_status = $3, last_error = $4, next_attempt_at = $5 WHERE id = $1`,
      [r.id, done ? 'failed' : 'pending', status, error, new Date(now.getTime() + delay)],
    );
  }

  /** send POSTs the body to the URL over a connection to `address` only; resolves to the status (redirects are not followed). */
  private send(url: URL, address: string, body: string, headers: Record<string, string>): Promise<number> {
    const family = isIP(address);
    const lookup: LookupFunction = (_host, opts, cb) => {
      if ((opts as { all?: boolean }).all) (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address, family }]);
      else cb(null, address, family);
    };
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, {
      method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) }, lookup, timeout: this.o.timeoutMs,
    });
    return new Promise((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      });
      req.on('timeout', () => req.destroy(new Error('timed out')));
      req.on('error', reject);
      req.end(body);
    });
  }
}
