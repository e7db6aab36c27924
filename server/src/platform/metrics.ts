/**
 * Metrics: one prom-client registry per platform with the default process metrics and an HTTP request duration
 * histogram labelled by method, matched route template (never the raw path) and status.
 */
import type { Context, Middleware, Next } from 'koa';
import { collectDefaultMetrics, Histogram, Registry } from 'prom-client';

/** Metrics is the registry and the instruments the platform shares. */
export interface Metrics {
  /** registry renders /metrics. */
  readonly registry: Registry;
  /** httpDuration observes every HTTP request, in seconds. */
  readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  /** httpMiddleware times each request; mount it before the routers so it sees their matched route. */
  httpMiddleware(): Middleware;
}

/** createMetrics builds a fresh registry with the default process metrics (standard names) and the HTTP histogram. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'Duration of HTTP requests in seconds, by method, route template and status code.',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return {
    registry,
    httpDuration,
    httpMiddleware: () => async (ctx: Context, next: Next) => {
      const end = httpDuration.startTimer();
      let status = 500;
      try {
        await next();
        status = ctx.status;
      } catch (e) {
        const s = (e as { status?: unknown }).status;
        status = typeof s === 'number' ? s : 500;
        throw e;
      } finally {
        const matched = (ctx as Context & { _matchedRoute?: unknown })._matchedRoute;
        const route = typeof matched === 'string' ? matched : ctx.path.startsWith('/api/') ? 'unmatched' : 'static';
        end({ method: ctx.method, route, status_code: String(status) });
      }
    },
  };
}
