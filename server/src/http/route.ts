/**
 * Route definitions: each API operation is declared once, with zod schemas for its path parameters, query, body and
 * responses. The same declaration validates requests, types the handler and generates the OpenAPI 3.1 document, so
 * the document cannot drift from what the server does.
 */
import type { Context } from 'koa';
import type { z } from 'zod';
import type { Actor } from '../core/actor.ts';

/** HttpMethod is an HTTP method a route answers. */
export type HttpMethod = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** AuthMode says who may call a route: `public` (anyone: setup, login, health) or `user` (an Actor is required). */
export type AuthMode = 'public' | 'user';

/** ResponseSpec documents one response of a route. */
export interface ResponseSpec {
  /** description says what the response means. */
  description: string;
  /** schema is the body's schema; absent for bodiless responses (204). */
  schema?: z.ZodType;
  /** contentType overrides `application/json` (for example `text/event-stream`). */
  contentType?: string;
}

/** RouteRequest is what a handler receives: validated inputs, the caller, and the raw Koa context for cookies/SSE. */
export interface RouteRequest<P, Q, B> {
  /** params are the validated path parameters. */
  params: P;
  /** query is the validated query string. */
  query: Q;
  /** body is the validated JSON body. */
  body: B;
  /** actor is the authenticated caller; always set on `user` routes, possibly null on `public` ones. */
  actor: Actor | null;
  /** ip is the client address. */
  ip: string;
  /** requestId identifies the request in logs and audit entries. */
  requestId: string;
  /** ctx is the Koa context, for cookies, headers and streaming; services never receive it. */
  ctx: Context;
}

/** RouteResult lets a handler choose a status and headers; returning a plain value uses the route's `status`. */
export interface RouteResult {
  /** status overrides the route's default status. */
  status: number;
  /** body is serialised as JSON (or left alone when the handler streamed it). */
  body?: unknown;
  /** headers are set on the response. */
  headers?: Record<string, string>;
}

/** RouteSpec declares one operation. `operationId` is unique across the API; `path` uses Koa's `:param` form. */
export interface RouteSpec<
  P extends z.ZodType = z.ZodType,
  Q extends z.ZodType = z.ZodType,
  B extends z.ZodType = z.ZodType,
> {
  /** operationId names the operation in the OpenAPI document and in the typed client. */
  operationId: string;
  /** method is the HTTP method. */
  method: HttpMethod;
  /** path is the route path under the server root, e.g. `/api/teams/:teamId/projects`. */
  path: string;
  /** summary is a one-line description. */
  summary: string;
  /** tags group operations in the document (one per domain). */
  tags: string[];
  /** auth says whether an authenticated Actor is required. */
  auth: AuthMode;
  /** params validates the path parameters. */
  params?: P;
  /** query validates the query string. */
  query?: Q;
  /** body validates the JSON body. */
  body?: B;
  /** status is the success status (default 200, or 204 when `responses` has only 204). */
  status: number;
  /** responses documents the success responses by status. */
  responses: Record<number, ResponseSpec>;
  /** errors lists the error statuses the operation can answer besides the generic ones (documented as problems). */
  errors?: number[];
  /** handler does the work by calling services; it returns the body, a RouteResult, or undefined for 204. */
  handler: (req: RouteRequest<z.output<P>, z.output<Q>, z.output<B>>) => Promise<unknown>;
}

/** AnyRoute is a RouteSpec of any schemas, for collections. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyRoute = RouteSpec<any, any, any>;

/** defineRoute declares a route with full type inference for its handler. */
export function defineRoute<P extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType, B extends z.ZodType = z.ZodType>(
  spec: RouteSpec<P, Q, B>,
): AnyRoute {
  return spec as AnyRoute;
}

const RESULT = Symbol('RouteResult');

/** reply builds a RouteResult: a status other than the route's default, or extra headers. */
export function reply(status: number, body?: unknown, headers?: Record<string, string>): RouteResult {
  return Object.assign({ status, body, ...(headers ? { headers } : {}) }, { [RESULT]: true });
}

/** isRouteResult tells whether a handler's return value was made by `reply`. */
export function isRouteResult(v: unknown): v is RouteResult {
  return typeof v === 'object' && v !== null && RESULT in v;
}
