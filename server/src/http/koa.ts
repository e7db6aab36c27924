/**
 * buildHttpApp: the Koa application around the route declarations — request ids, access logs, security headers,
 * problem+json errors, authentication, input validation and the OpenAPI document. It knows nothing of the domains:
 * the composition root (`app.ts`) hands it routes and an authenticator.
 */
import { randomUUID } from 'node:crypto';
import Koa, { type Context, type Middleware } from 'koa';
import Router from '@koa/router';
import { z } from 'zod';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';
import { readJsonBody } from './body.ts';
import { buildOpenApi, type OpenApiDocument } from './openapi.ts';
import { problemMiddleware, type ErrorLogger } from './problem.ts';
import { isRouteResult, type AnyRoute } from './route.ts';
import { parseInput } from './validate.ts';

/** Authenticate resolves the caller of a request (cookie session or bearer token), or null when there is none. It
 * throws DomainErrors for a bad CSRF token or a malformed credential. */
export type Authenticate = (ctx: Context, requestId: string) => Promise<Actor | null>;

/** AccessLogger receives one line per finished request. */
export interface AccessLogger {
  /** request logs a finished request; it never receives query strings or bodies. */
  request(line: { requestId: string; method: string; path: string; status: number; ms: number; ip: string }): void;
  /** error logs an unexpected error with the request id. */
  error: ErrorLogger;
}

/** HttpAppDeps is everything buildHttpApp needs. */
export interface HttpAppDeps {
  /** routes are the API operations. */
  routes: readonly AnyRoute[];
  /** authenticate resolves the caller. */
  authenticate: Authenticate;
  /** log receives access lines and unexpected errors. */
  log: AccessLogger;
  /** trustProxy makes Koa read X-Forwarded-For for the client address (only behind a trusted proxy). */
  trustProxy: boolean;
  /** before runs ahead of the API router (health, metrics). */
  before?: Middleware[];
  /** after runs when no API route matched (the dashboard's static files). */
  after?: Middleware[];
  /** info titles the OpenAPI document. */
  info: { title: string; version: string; description?: string };
}

const REQUEST_ID_RE = /^[A-Za-z0-9._-]{8,64}$/;
const EmptyObject = z.object({}).strict();

/** buildHttpApp assembles the Koa app. The OpenAPI document is generated once, at build time. */
export function buildHttpApp(deps: HttpAppDeps): { app: Koa; openapi: OpenApiDocument } {
  const app = new Koa();
  app.proxy = deps.trustProxy;
  app.silent = true;
  const openapi = buildOpenApi(deps.routes, deps.info);

  app.use(async (ctx, next) => {
    const incoming = ctx.get('x-request-id');
    const requestId = REQUEST_ID_RE.test(incoming) ? incoming : randomUUID();
    ctx.state.requestId = requestId;
    ctx.set('X-Request-Id', requestId);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Referrer-Policy', 'same-origin');
    ctx.set('X-Frame-Options', 'DENY');
    const start = performance.now();
    try {
      await next();
    } finally {
      deps.log.request({
        requestId, method: ctx.method, path: ctx.path, status: ctx.status, ms: Math.round((performance.now() - start) * 10) / 10, ip: ctx.ip,
      });
    }
  });
  app.use(problemMiddleware(deps.log.error));
  for (const m of deps.before ?? []) app.use(m);

  const router = new Router();
  router.get('/api/openapi.json', (ctx) => {
    ctx.body = openapi;
  });
  for (const route of deps.routes) router[route.method](route.path, routeMiddleware(route, deps.authenticate));
  app.use(router.routes());
  app.use(async (ctx, next) => {
    if (ctx.path.startsWith('/api/')) {
      const allowed = router.match(ctx.path, ctx.method).path.length > 0;
      if (allowed) ctx.status = 405;
      else throw new DomainError('route/not_found', `No route for ${ctx.method} ${ctx.path}`);
      return;
    }
    await next();
  });
  for (const m of deps.after ?? []) app.use(m);
  return { app, openapi };
}

function routeMiddleware(route: AnyRoute, authenticate: Authenticate): Middleware {
  return async (ctx) => {
    const requestId = String(ctx.state.requestId);
    const actor = await authenticate(ctx, requestId);
    if (route.auth === 'user' && actor === null) throw new DomainError('auth/unauthenticated');
    const params = parseInput('params', route.params ?? EmptyObject.passthrough(), (ctx as Context & { params: unknown }).params ?? {});
    const query = parseInput('query', route.query ?? z.object({}).passthrough(), ctx.query);
    let body: unknown = undefined;
    if (route.method !== 'get' && route.method !== 'delete') {
      const raw = await readJsonBody(ctx);
      if (route.body) body = parseInput('body', route.body, raw ?? {});
    }
    const out = await route.handler({ params, query, body, actor, ip: ctx.ip, requestId, ctx });
    if (ctx.respond === false || ctx.headerSent) return;
    if (isRouteResult(out)) {
      ctx.status = out.status;
      for (const [k, v] of Object.entries(out.headers ?? {})) ctx.set(k, v);
      if (out.body !== undefined) ctx.body = out.body;
      else if (out.status !== 204) ctx.body = null;
      return;
    }
    ctx.status = route.status;
    if (route.status !== 204) ctx.body = out ?? null;
  };
}
