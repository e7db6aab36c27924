/**
 * Domain errors: every failure a service reports is a DomainError carrying a namespaced code from ErrorCodes.
 * Services throw them and never import Koa; one HTTP middleware turns them into RFC 9457 problem+json.
 * An outage (database, Nomad, Vault unreachable) has its own codes and status 503: it is never "not found".
 */

/** ErrorCodes is the one catalogue of error codes: `<domain>/<reason>` → HTTP status and a stable title. */
export const ErrorCodes = {
  'request/invalid': { status: 400, title: 'The request is invalid' },
  'request/malformed_json': { status: 400, title: 'The request body is not valid JSON' },
  'request/too_large': { status: 413, title: 'The request body is too large' },
  'request/unsupported_media_type': { status: 415, title: 'The request body must be application/json' },
  'route/not_found': { status: 404, title: 'No such route' },
  'route/method_not_allowed': { status: 405, title: 'Method not allowed' },
  'auth/unauthenticated': { status: 401, title: 'Authentication is required' },
  'auth/invalid_credentials': { status: 401, title: 'The email or password is wrong' },
  'auth/csrf': { status: 403, title: 'The CSRF token is missing or wrong' },
  'auth/forbidden': { status: 403, title: 'You are not allowed to do this' },
  'auth/insufficient_scope': { status: 403, title: 'The API token lacks the scope this needs' },
  'auth/rate_limited': { status: 429, title: 'Too many attempts; try again later' },
  'auth/setup_closed': { status: 409, title: 'Drover is already set up' },
  'auth/token_invalid': { status: 400, title: 'The link is invalid or has expired' },
  'user/email_taken': { status: 409, title: 'A user with this email exists' },
  'user/not_found': { status: 404, title: 'No such user' },
  'team/not_found': { status: 404, title: 'No such team' },
  'team/slug_taken': { status: 409, title: 'A team with this slug exists' },
  'team/last_owner': { status: 409, title: 'A team keeps at least one owner' },
  'team/not_empty': { status: 409, title: 'The team still holds projects' },
  'member/not_found': { status: 404, title: 'No such member' },
  'member/exists': { status: 409, title: 'This user is a member already' },
  'invitation/not_found': { status: 404, title: 'No such invitation' },
  'token/not_found': { status: 404, title: 'No such API token' },
  'project/not_found': { status: 404, title: 'No such project' },
  'project/slug_taken': { status: 409, title: 'A project with this slug exists in the team' },
  'environment/not_found': { status: 404, title: 'No such environment' },
  'environment/slug_taken': { status: 409, title: 'An environment with this slug exists in the project' },
  'environment/last': { status: 409, title: 'A project keeps at least one environment' },
  'service/not_found': { status: 404, title: 'No such service' },
  'service/slug_taken': { status: 409, title: 'A service with this slug exists in the environment' },
  'service/invalid': { status: 422, title: 'The service configuration is invalid' },
  'variable/not_found': { status: 404, title: 'No such variable' },
  'variable/invalid': { status: 422, title: 'The variable is invalid' },
  'domain/not_found': { status: 404, title: 'No such domain' },
  'domain/invalid': { status: 422, title: 'The domain name is invalid' },
  'domain/taken': { status: 409, title: 'This domain is used already' },
  'domain/verification_failed': { status: 422, title: 'The domain ownership could not be verified' },
  'deployment/not_found': { status: 404, title: 'No such deployment' },
  'deployment/conflict': { status: 409, title: 'The deployment cannot change state this way' },
  'deployment/invalid': { status: 422, title: 'The service cannot be deployed as configured' },
  'deployment/not_deployed': { status: 409, title: 'The service has no deployment to act on' },
  'database/not_found': { status: 404, title: 'No such database' },
  'database/invalid': { status: 422, title: 'The database is invalid' },
  'database/name_taken': { status: 409, title: 'A service or database of this environment has this name' },
  'database/confirmation_mismatch': { status: 422, title: "Type the database's name to confirm destroying its volume" },
  'database/volume_in_use': { status: 409, title: 'The volume is still mounted by the database' },
  'database/public_taken': { status: 409, title: "This public hostname (or the cluster's one public MySQL entry point) is used already" },
  'backup/not_found': { status: 404, title: 'No such backup' },
  'backup/failed': { status: 422, title: 'The backup failed' },
  'backup/invalid': { status: 422, title: 'The backup settings are invalid' },
  'backup/conflict': { status: 409, title: 'A backup destination of this team has this name' },
  'backup/not_ready': { status: 409, title: 'The backup cannot be restored or verified (it has not succeeded, or its object was pruned)' },
  'audit/not_found': { status: 404, title: 'No such audit entry' },
  'webhook/not_found': { status: 404, title: 'No such webhook' },
  'webhook/invalid_url': { status: 422, title: 'The webhook URL is not allowed' },
  'secret_store/unavailable': { status: 503, title: 'The secret store is unavailable' },
  'database/unavailable': { status: 503, title: 'The database is unavailable' },
  'coordination/unavailable': { status: 503, title: 'Redis is unavailable' },
  'nomad/unavailable': { status: 503, title: 'The Nomad cluster is unavailable' },
  'internal/error': { status: 500, title: 'Internal server error' },
} as const satisfies Record<string, { status: number; title: string }>;

/** ErrorCode is one key of ErrorCodes. */
export type ErrorCode = keyof typeof ErrorCodes;

/** FieldError names one invalid input field by its path (`body.domains[0]`) and says what is wrong with it. */
export interface FieldError {
  /** path is where the bad value stands: `body.name`, `query.limit`, `params.projectId`. */
  path: string;
  /** message says what is wrong, in words a user can act on; it never repeats a secret value. */
  message: string;
}

/** DomainErrorOptions carries optional details for a DomainError. */
export interface DomainErrorOptions {
  /** errors lists the invalid fields, for 4xx validation failures. */
  errors?: FieldError[];
  /** cause keeps the underlying error for logs; it is never sent to clients. */
  cause?: unknown;
}

/**
 * DomainError is what services throw: a code from ErrorCodes and a detail. The detail of a 4xx error is shown to
 * the client, so it must not contain secrets; the detail of a 5xx error is only logged.
 */
export class DomainError extends Error {
  /** code is the namespaced error code, `<domain>/<reason>`. */
  readonly code: ErrorCode;
  /** status is the HTTP status that ErrorCodes gives the code. */
  readonly status: number;
  /** errors lists the invalid fields, if any. */
  readonly errors: FieldError[];

  constructor(code: ErrorCode, detail?: string, options: DomainErrorOptions = {}) {
    super(detail ?? ErrorCodes[code].title, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'DomainError';
    this.code = code;
    this.status = ErrorCodes[code].status;
    this.errors = options.errors ?? [];
  }
}

/** invalid builds the 400 `request/invalid` DomainError for one or more bad fields. */
export function invalid(errors: FieldError[], detail?: string): DomainError {
  return new DomainError('request/invalid', detail ?? errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
}

/** isDomainError tells whether a value is a DomainError. */
export function isDomainError(e: unknown): e is DomainError {
  return e instanceof DomainError;
}
