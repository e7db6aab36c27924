/**
 * Typed errors of the Consul adapter: an unreachable or failing Consul is never reported as "not found".
 */

/** ConsulUnreachableError is Consul not answering usefully: refused, reset, timed out, or a 5xx/429 answer. */
export class ConsulUnreachableError extends Error {
  /** code is the namespaced error code `consul/unreachable`. */
  readonly code = 'consul/unreachable';
  /** status is the HTTP status when Consul answered (5xx/429), undefined for a transport failure. */
  readonly status: number | undefined;
  /** operation names the adapter call (`health.service`). */
  readonly operation: string;
  constructor(operation: string, message: string, status?: number, cause?: unknown) {
    super(`Consul ${operation}: ${message}`, { cause });
    this.name = 'ConsulUnreachableError';
    this.status = status;
    this.operation = operation;
  }
}

/** ConsulNotFoundError is a 404 from Consul, or a service with no registered instance where one is required. */
export class ConsulNotFoundError extends Error {
  /** code is the namespaced error code `consul/not_found`. */
  readonly code = 'consul/not_found';
  /** operation names the adapter call. */
  readonly operation: string;
  /** what names the missing thing (the service name). */
  readonly what: string;
  constructor(operation: string, what: string) {
    super(`Consul ${operation}: ${what} not found`);
    this.name = 'ConsulNotFoundError';
    this.operation = operation;
    this.what = what;
  }
}

/** ConsulResponseError is any other refusal (400 bad filter, 403 ACL denied): the request itself is wrong. */
export class ConsulResponseError extends Error {
  /** code is the namespaced error code `consul/request_refused`. */
  readonly code = 'consul/request_refused';
  /** status is the HTTP status. */
  readonly status: number;
  /** body is Consul's message. */
  readonly body: string;
  /** operation names the adapter call. */
  readonly operation: string;
  constructor(operation: string, status: number, body: string) {
    super(`Consul ${operation}: ${status} ${body.trim().slice(0, 300)}`);
    this.name = 'ConsulResponseError';
    this.status = status;
    this.body = body;
    this.operation = operation;
  }
}
