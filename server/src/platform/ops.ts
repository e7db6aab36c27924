/**
 * Operations endpoints: `GET /healthz` (the process is up), `GET /readyz` (Postgres answers SELECT 1 and, when
 * configured, Redis answers PING — else 503 naming which is down; also 503 while draining) and `GET /metrics`.
 */
import Router from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Coordination } from './coordination/index.ts';
import { pingDatabase } from './db/index.ts';
import type { Metrics } from './metrics.ts';

/** OpsDeps is what the ops endpoints probe. */
export interface OpsDeps {
  /** dataSource is the application's Postgres. */
  dataSource: DataSource;
  /** coordination is probed only when it is the Redis implementation. */
  coordination: Coordination;
  /** metrics renders /metrics. */
  metrics: Metrics;
  /** logger records why a probe failed (the response only names the component). */
  logger: Logger;
  /** draining tells that shutdown has begun (readiness then fails so load balancers move away). */
  draining: () => boolean;
  /** probeTimeoutMs bounds each probe (default 2 s). */
  probeTimeoutMs?: number;
}

/** ReadinessBody is the JSON of /readyz. */
export interface ReadinessBody {
  /** status is `ready` or `unavailable`. */
  status: 'ready' | 'unavailable';
  /** checks maps each component to `ok` or `down` (`postgres`, and `redis` when configured). */
  checks: Record<string, 'ok' | 'down'>;
  /** draining is present while the process shuts down. */
  draining?: true;
}

/** readiness probes every dependency in parallel. */
export async function readiness(deps: OpsDeps): Promise<ReadinessBody> {
  const timeout = deps.probeTimeoutMs ?? 2_000;
  const probes: [string, Promise<void>][] = [['postgres', pingDatabase(deps.dataSource, timeout)]];
  if (deps.coordination.kind === 'redis') {
    probes.push(['redis', Promise.race([
      deps.coordination.ping(),
      new Promise<void>((_, rej) => setTimeout(() => rej(new Error(`no answer within ${timeout} ms`)), timeout).unref()),
    ])]);
  }
  const checks: Record<string, 'ok' | 'down'> = {};
  await Promise.all(probes.map(async ([name, p]) => {
    try {
      await p;
      checks[name] = 'ok';
    } catch (e) {
      checks[name] = 'down';
      deps.logger.warn({ component: name, err: e }, 'readiness probe failed');
    }
  }));
  const draining = deps.draining();
  const ok = !draining && Object.values(checks).every((c) => c === 'ok');
  return { status: ok ? 'ready' : 'unavailable', checks, ...(draining ? { draining: true as const } : {}) };
}

/** opsRoutes returns the Koa middleware serving /healthz, /readyz and /metrics (never cached). */
export function opsRoutes(deps: OpsDeps): Middleware {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    const body = await readiness(deps);
    ctx.set('Cache-Control', 'no-store');
    ctx.status = body.status === 'ready' ? 200 : 503;
    ctx.body = body;
  });
  router.get('/metrics', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.type = deps.metrics.registry.contentType;
    ctx.body = await deps.metrics.registry.metrics();
  });
  return router.routes() as Middleware;
}
