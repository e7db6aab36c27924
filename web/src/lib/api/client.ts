/**
 * The one module that talks to the Drover API. It wraps an `openapi-fetch` client typed by the generated
 * `schema.d.ts`: it sends the session cookie, echoes the `drover_csrf` cookie in `X-CSRF-Token` on every mutation,
 * and turns any non-2xx answer into an `ApiProblem` (RFC 9457 problem+json, with field errors). Components and
 * loads never call `fetch` themselves: they call `api.GET/POST/…` and unwrap the result with `ok`.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.d.ts';

/** Problem is the problem+json body every API error carries. */
export type Problem = components['schemas']['Problem'];

/** FieldErrors maps a field name (the last segment of the problem's path, e.g. `name` for `body.name`) to a message. */
export type FieldErrors = Record<string, string>;

/**
 * ApiProblem is the single error type of the client: the HTTP status, the namespaced `code` (`project/not_found`),
 * a message fit for users (`detail`, else `title`), and the field errors by field name and by full path. A network
 * failure is an ApiProblem with status 0 and code `network/unreachable`.
 */
export class ApiProblem extends Error {
  /** status is the HTTP status (0 when the server could not be reached). */
  readonly status: number;
  /** code is the problem's namespaced code. */
  readonly code: string;
  /** title is the problem's stable title. */
  readonly title: string;
  /** errors lists every field error as sent (`body.name`, `query.limit`, …). */
  readonly errors: { path: string; message: string }[];
  /** fields maps each field error's last path segment (and its path without the `body.` prefix) to its message. */
  readonly fields: FieldErrors;

  constructor(status: number, body: Partial<Problem> | null) {
    const title = body?.title ?? (status === 0 ? 'The server could not be reached' : `Request failed (${status})`);
    super(body?.detail || title);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = body?.code ?? (status === 0 ? 'network/unreachable' : 'http/error');
    this.title = title;
    this.errors = Array.isArray(body?.errors) ? body.errors : [];
    const fields: FieldErrors = {};
    for (const e of this.errors) {
      const rel = e.path.replace(/^(body|query|params)\.?/, '');
      fields[rel] ??= e.message;
      const last = rel.split(/[.[\]]/).filter(Boolean).pop();
      if (last) fields[last] ??= e.message;
    }
    this.fields = fields;
  }
}

/** readCookie returns a cookie's value from document.cookie, or null (also outside a browser). */
export function readCookie(name: string): string | null {
  if (typeof document === 'undefined') return null;
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

let csrfFallback: string | null = null;

/** rememberCsrf keeps the CSRF token a login, setup or session answer carried, for when the cookie is unreadable. */
export function rememberCsrf(token: string | null | undefined): void {
  csrfFallback = token ?? null;
}

const session: Middleware = {
  onRequest({ request }) {
    if (!SAFE.has(request.method)) {
      const csrf = readCookie('drover_csrf') ?? csrfFallback;
      if (csrf) request.headers.set('X-CSRF-Token', csrf);
    }
    request.headers.set('Accept', 'application/json, application/problem+json');
    return request;
  },
  async onResponse({ response }) {
    if (response.ok) return response;
    let body: Partial<Problem> | null;
    try {
      body = (await response.clone().json()) as Partial<Problem>;
    } catch {
      body = null;
    }
    throw new ApiProblem(response.status, body);
  },
  onError({ error }) {
    if (error instanceof ApiProblem) return error;
    return new ApiProblem(0, null);
  },
};

/** api is the typed client; every call rejects with ApiProblem on a non-2xx answer or a network failure. */
export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(session);

/**
 * ok awaits an `api` call and returns its body (undefined for 204). Errors were already thrown as ApiProblem by the
 * client's middleware, so the result here is always the success branch.
 */
export async function ok<D>(call: Promise<{ data?: D; response: Response }>): Promise<D> {
  const r = await call;
  return r.data as D;
}

/** problemOf turns anything thrown by a call into an ApiProblem (a non-ApiProblem becomes a generic status 0 one). */
export function problemOf(err: unknown): ApiProblem {
  if (err instanceof ApiProblem) return err;
  return new ApiProblem(0, { title: 'Something went wrong', detail: err instanceof Error ? err.message : String(err) });
}
