/**
 * Problem details (RFC 9457): the one place where errors become HTTP responses. DomainErrors keep their status and,
 * for 4xx, their message; anything else is a 500 whose body says nothing about the cause (the log has it).
 */
import type { Context, Next } from 'koa';
import { z } from 'zod';
import { DomainError, ErrorCodes, type ErrorCode, type FieldError } from '../core/errors.ts';

/** ProblemSchema documents the problem+json body every error response carries. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('A URI naming the problem type: urn:drover:problem:<code>'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string().describe('The namespaced error code, e.g. project/not_found'),
    instance: z.string().describe('The request path'),
    requestId: z.string(),
    errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem' });

/** Problem is the body of an error response. */
export type Problem = z.infer<typeof ProblemSchema>;

/** problemFor builds the problem body for a code; 5xx details are replaced by the generic title. */
export function problemFor(code: ErrorCode, detail: string, instance: string, requestId: string, errors: FieldError[] = []): Problem {
  const { status, title } = ErrorCodes[code];
  return {
    type: `urn:drover:problem:${code}`,
    title,
    status,
    detail: status >= 500 ? title : detail,
    code,
    instance,
    requestId,
    ...(errors.length > 0 ? { errors } : {}),
  };
}

/** sendProblem writes a problem+json response on a Koa context. */
export function sendProblem(ctx: Context, problem: Problem): void {
  ctx.status = problem.status;
  ctx.type = 'application/problem+json';
  ctx.body = problem;
  if (problem.status === 401) ctx.set('WWW-Authenticate', 'Bearer realm="drover"');
}

/** ErrorLogger receives unexpected errors and 5xx domain errors with the request id. */
export type ErrorLogger = (err: unknown, requestId: string, status: number) => void;

/**
 * problemMiddleware catches every error below it and answers problem+json: DomainErrors with their code, Koa's own
 * HTTP errors (body parsing, 404/405) with matching codes, anything else as `internal/error` without its message.
 */
export function problemMiddleware(log: ErrorLogger) {
  return async function problems(ctx: Context, next: Next): Promise<void> {
    const requestId = String(ctx.state.requestId ?? '');
    try {
      await next();
      if (ctx.status === 404 && ctx.body === undefined) {
        sendProblem(ctx, problemFor('route/not_found', `No route for ${ctx.method} ${ctx.path}`, ctx.path, requestId));
      } else if (ctx.status === 405 && (ctx.body === undefined || typeof ctx.body === 'string')) {
        sendProblem(ctx, problemFor('route/method_not_allowed', `${ctx.method} is not allowed on ${ctx.path}`, ctx.path, requestId));
      }
    } catch (err) {
      const problem = toProblem(err, ctx.path, requestId);
      if (problem.status >= 500) log(err, requestId, problem.status);
      sendProblem(ctx, problem);
    }
  };
}

/** PG_OUTAGE_SQLSTATES are the Postgres error classes that mean the database is unreachable or going away
 * (08: connection exception; 57P01–57P03: admin/crash shutdown, cannot connect now; 53300: too many connections). */
const PG_OUTAGE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** NET_OUTAGE_CODES are the socket errors of a connection that cannot be made or was cut. */
const NET_OUTAGE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/**
 * isDatabaseOutage tells whether an error thrown by TypeORM or pg means Postgres is unreachable (as opposed to a
 * query that failed): socket errors, SQLSTATE class 08 and shutdown codes, and pg's pool/connection messages. An
 * outage is answered 503 `database/unavailable`, never 500 and never "not found".
 */
export function isDatabaseOutage(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const { code, message } = e as { code?: unknown; message?: unknown };
    if (typeof code === 'string' && (code.startsWith('08') || PG_OUTAGE_SQLSTATES.has(code) || NET_OUTAGE_CODES.has(code))) return true;
    if (typeof message === 'string' && /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Cannot use a pool after calling end/.test(message)) {
      return true;
    }
    e = (e as { driverError?: unknown; cause?: unknown }).driverError ?? (e as { cause?: unknown }).cause;
  }
  return false;
}

/** toProblem maps any thrown value to a problem body. */
export function toProblem(err: unknown, instance: string, requestId: string): Problem {
  if (err instanceof DomainError) return problemFor(err.code, err.message, instance, requestId, err.errors);
  if (isDatabaseOutage(err)) return problemFor('database/unavailable', 'The database is unavailable', instance, requestId);
  const status = typeof err === 'object' && err !== null && 'status' in err ? Number((err as { status: unknown }).status) : 500;
  if (status === 413) return problemFor('request/too_large', 'The request body is too large', instance, requestId);
  if (status === 415) return problemFor('request/unsupported_media_type', 'The request body must be application/json', instance, requestId);
  if (status === 405) return problemFor('route/method_not_allowed', 'Method not allowed', instance, requestId);
  if (status === 404) return problemFor('route/not_found', 'Not found', instance, requestId);
  return problemFor('internal/error', 'Internal server error', instance, requestId);
}
