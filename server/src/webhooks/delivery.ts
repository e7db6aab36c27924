/**
 * Webhook delivery. The dispatcher turns every deployment/service event of the bus (and every database backup, restore
 * and verification verdict, whose serviceId is the database's ID) into one durable delivery record
 * per matching webhook (every replica hears the event; a dedupe key from the event's content makes the insert
 * idempotent). The sender claims due deliveries with `FOR UPDATE SKIP LOCKED` (replicas share the work, a crashed
 * claim is retried after its lease), checks the URL again (DNS rebinding), connects only to the checked address,
 * never follows redirects, signs the body with HMAC-SHA256 and retries failures with exponential backoff and jitter.
 */
import { createHash, createHmac } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Clock } from '../core/clock.ts';
import { subscribeDeploymentEvents, type DeploymentBusEvent } from '../deployments/events.ts';
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
}

/** WebhookDelivery sends webhook events. */
export class WebhookDelivery {
  private readonly d: { dataSource: DataSource; bus: EventBus; secrets: SecretStore; guard: UrlGuard; clock: Clock; logger?: Logger | undefined };
  private readonly o: Required<DeliveryOptions>;
  private unsubscribe: Unsubscribe | undefined;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<number> | undefined;

  constructor(d: { dataSource: DataSource; bus: EventBus; secrets: SecretStore; guard: UrlGuard; clock: Clock; logger?: Logger }, o: DeliveryOptions = {}) {
    this.d = d;
    this.o = {
      baseDelayMs: o.baseDelayMs ?? 10_000, maxDelayMs: o.maxDelayMs ?? 3_600_000, maxAttempts: o.maxAttempts ?? 10,
      timeoutMs: o.timeoutMs ?? 10_000, pollMs: o.pollMs ?? 1_000, batch: o.batch ?? 20,
    };
  }

  /** start subscribes to the bus and polls for due deliveries. */
  async start(): Promise<void> {
    if (!this.unsubscribe) {
      this.unsubscribe = await subscribeDeploymentEvents(this.d.bus, (e) => {
        void this.enqueue(e).catch((err: unknown) => this.d.logger?.warn({ err }, 'webhook enqueue failed'));
      });
    }
    if (!this.timer) {
      this.timer = setInterval(() => { void this.poll(); }, this.o.pollMs);
      this.timer.unref();
    }
  }

  /** stop ends polling and the subscription, waiting for the poll in progress. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.polling?.catch(() => 0);
    const u = this.unsubscribe;
    this.unsubscribe = undefined;
    await u?.().catch(() => undefined);
  }

  /** enqueue records one delivery per webhook of the event's project that subscribes to its type (idempotent). */
  async enqueue(e: DeploymentBusEvent): Promise<number> {
    const payloadEvent = {
      type: e.type, teamId: e.teamId, serviceId: e.serviceId, deploymentId: e.deploymentId ?? null, reason: e.reason ?? null, at: e.at,
      // A database's backup, restore and verification verdicts name the database, the backup and the restore or verification.
      ...(e.databaseId ? { databaseId: e.databaseId } : {}), ...(e.backupId ? { backupId: e.backupId } : {}), ...(e.checkId ? { checkId: e.checkId } : {}),
    };
    const key = createHash('sha256').update(JSON.stringify(payloadEvent)).digest('hex');
    const now = this.d.clock.now();
    const rows = (await this.d.dataSource.query(
      `INSERT INTO webhook_deliveries (id, webhook_id, dedupe_key, event_type, payload, state, attempts, next_attempt_at, created_at)
       SELECT gen_random_uuid(), w.id, $1::text, $2::text, $3::jsonb, 'pending', 0, $4::timestamptz, $4::timestamptz
         FROM webhooks w
        WHERE w.project_id = (SELECT project_id FROM services WHERE id = $5::uuid UNION ALL SELECT project_id FROM databases WHERE id = $5::uuid LIMIT 1)
          AND w.team_id = $6::uuid AND ('*' = ANY(w.events) OR $2::text = ANY(w.events))
       ON CONFLICT (webhook_id, dedupe_key) DO NOTHING RETURNING id`,
      [key, e.type, JSON.stringify(payloadEvent), now, e.serviceId, e.teamId],
    )) as unknown[];
    if (rows.length > 0) void this.poll();
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
    const claimed = (await this.d.dataSource.query(
      `UPDATE webhook_deliveries d SET next_attempt_at = $2, attempts = d.attempts + 1
        FROM webhooks w
       WHERE w.id = d.webhook_id AND d.id IN (
         SELECT id FROM webhook_deliveries WHERE state = 'pending' AND next_attempt_at <= $1
          ORDER BY next_attempt_at LIMIT $3 FOR UPDATE SKIP LOCKED)
       RETURNING d.id, d.attempts, d.event_type, d.payload, d.created_at, w.id AS webhook_id, w.url, w.team_id`,
      [now, lease, this.o.batch],
    )) as [{ id: string; attempts: number; event_type: string; payload: unknown; created_at: Date; webhook_id: string; url: string; team_id: string }[], number] | { id: string }[];
    const rows = (Array.isArray(claimed[0]) ? claimed[0] : claimed) as { id: string; attempts: number; event_type: string; payload: unknown; created_at: Date; webhook_id: string; url: string; team_id: string }[];
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
