/**
 * Typed errors of the Nomad client. An outage (NomadConnectionError, 5xx, 429) is never confused with a missing
 * object (a 404 NomadUnexpectedResponseError, see isNomadNotFound).
 */
import type { Variable } from './types.ts';

/** NomadUnexpectedResponseError is a response whose status was not one the call expects (like Go's api.UnexpectedResponseError). */
export class NomadUnexpectedResponseError extends Error {
  /** code is the namespaced error code: `nomad/not_found` for 404, else `nomad/unexpected_response`. */
  readonly code: string;
  /** status is the HTTP status received. */
  readonly status: number;
  /** body is the response body as text (truncated to 64 KiB); Nomad puts its error message here. */
  readonly body: string;
  /** method is the HTTP method of the request. */
  readonly method: string;
  /** path is the request path without the query string (which may hold no secret, but keeps errors short). */
  readonly path: string;
  /** expectedStatuses are the statuses the call accepts. */
  readonly expectedStatuses: readonly number[];
  /** retryable is true for 5xx and 429: the same request may succeed later. */
  readonly retryable: boolean;

  constructor(init: { status: number; body: string; method: string; path: string; expectedStatuses: readonly number[] }) {
    const text = init.body.length > 65536 ? init.body.slice(0, 65536) : init.body;
    super(`Nomad ${init.method} ${init.path}: unexpected response ${init.status} (expected ${init.expectedStatuses.join(', ')}): ${text.trim().slice(0, 500)}`);
    this.name = 'NomadUnexpectedResponseError';
    this.status = init.status;
    this.body = text;
    this.method = init.method;
    this.path = init.path;
    this.expectedStatuses = init.expectedStatuses;
    this.retryable = init.status >= 500 || init.status === 429;
    this.code = init.status === 404 ? 'nomad/not_found' : 'nomad/unexpected_response';
  }
}

/** NomadConnectionError is a failure to reach Nomad or to read its whole answer (refused, reset, TLS, timeout). */
export class NomadConnectionError extends Error {
  /** code is the namespaced error code `nomad/unreachable`. */
  readonly code = 'nomad/unreachable';
  /** method is the HTTP method of the request. */
  readonly method: string;
  /** path is the request path without the query string. */
  readonly path: string;
  /** retryable is always true: a connection failure says nothing about the request itself. */
  readonly retryable = true;

  constructor(method: string, path: string, cause: unknown) {
    super(`Nomad ${method} ${path}: cannot reach Nomad: ${(cause as Error)?.message ?? String(cause)}`, { cause });
    this.name = 'NomadConnectionError';
    this.method = method;
    this.path = path;
  }
}

/** NomadCasConflictError is a variable write or delete refused because its check-index is stale (HTTP 409). */
export class NomadCasConflictError extends Error {
  /** code is the namespaced error code `nomad/cas_conflict`. */
  readonly code = 'nomad/cas_conflict';
  /** checkIndex is the index the caller expected. */
  readonly checkIndex: number;
  /** conflict is the variable as Nomad holds it now (items included when the token may read them), or null. */
  readonly conflict: Variable | null;

  constructor(checkIndex: number, conflict: Variable | null) {
    super(`Nomad variable check-and-set conflict at index ${checkIndex}`);
    this.name = 'NomadCasConflictError';
    this.checkIndex = checkIndex;
    this.conflict = conflict;
  }
}

/** NomadStreamError is an error frame or malformed data inside a Nomad stream (event stream `Err`, bad frame JSON). */
export class NomadStreamError extends Error {
  /** code is the namespaced error code `nomad/stream_error`. */
  readonly code = 'nomad/stream_error';
  constructor(message: string) {
    super(message);
    this.name = 'NomadStreamError';
  }
}

/** isNomadNotFound is true only for a 404 answer from Nomad, never for an outage. */
export function isNomadNotFound(e: unknown): e is NomadUnexpectedResponseError {
  return e instanceof NomadUnexpectedResponseError && e.status === 404;
}

/** isNomadRetryable is true for errors where the same idempotent request may succeed later. */
export function isNomadRetryable(e: unknown): boolean {
  return (e instanceof NomadUnexpectedResponseError && e.retryable) || e instanceof NomadConnectionError;
}
