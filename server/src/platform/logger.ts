/**
 * Logging: pino JSON lines on stdout. Every field named like a secret (passwords, tokens, secrets, authorization
 * and cookie headers, variable values) is censored at any depth, so an object handed to the logger never leaks one.
 */
import { pino } from 'pino';
import type { DestinationStream, Logger } from 'pino';
import type { LogLevel } from './config.ts';

/** SECRET_FIELDS are the field names whose values are always censored in logs. */
export const SECRET_FIELDS: readonly string[] = [
  'password', 'newPassword', 'currentPassword', 'passwordHash', 'token', 'accessToken', 'refreshToken', 'apiToken',
  'secret', 'secretKey', 'clientSecret', 'authorization', 'Authorization', 'cookie', 'Cookie', 'set-cookie', 'Set-Cookie',
  'value', 'values', 'privateKey', 'csrfToken', 'registryPassword',
];

/** REDACTED is what a censored value is replaced with. */
export const REDACTED = '[redacted]';

const secretKeys = new Set(SECRET_FIELDS.map((f) => f.toLowerCase()));

function isPlainObject(v: object): v is Record<string, unknown> {
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

/**
 * redactSecrets returns `value` with every SECRET_FIELDS key (case-insensitive) censored, at any depth up to 8,
 * in plain objects and arrays; it copies only the objects it changes, so logging stays cheap (pino's path-based
 * redaction with wildcards costs hundreds of microseconds a line).
 */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    value.forEach((v, i) => {
      const r = redactSecrets(v, depth + 1);
      if (r !== v) (out ??= [...value])[i] = r;
    });
    return out ?? value;
  }
  if (!isPlainObject(value)) return value;
  let out: Record<string, unknown> | undefined;
  for (const k of Object.keys(value)) {
    const v = value[k];
    const r = secretKeys.has(k.toLowerCase()) ? REDACTED : redactSecrets(v, depth + 1);
    if (r !== v) (out ??= { ...value })[k] = r;
  }
  return out ?? value;
}

/**
 * createLogger returns the process logger at `level`, writing JSON lines to `destination` (default: stdout through
 * an asynchronous writer, so a request never blocks on a full pipe; `logger.flush(cb)` drains it and the
 * buffer is flushed synchronously when the process exits).
 */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'drover' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: {
      level: (label: string) => ({ level: label }),
      log: (obj: Record<string, unknown>) => redactSecrets(obj) as Record<string, unknown>,
    },
  };
  let dest = destination;
  if (!dest) {
    const stdout = pino.destination({ dest: 1, sync: false });
    process.once('exit', () => stdout.flushSync());
    dest = stdout;
  }
  const logger = pino(options, dest);
  // Child bindings bypass formatters.log: censor them when the child is made (children inherit this method).
  const child = logger.child as unknown as (this: Logger, bindings: Record<string, unknown>, opts?: unknown) => Logger;
  (logger as { child: unknown }).child = function (this: Logger, bindings: Record<string, unknown>, opts?: unknown): Logger {
    return child.call(this, redactSecrets(bindings) as Record<string, unknown>, opts);
  };
  return logger;
}

/** AccessLine is one finished HTTP request (never its query string, headers or body). */
export interface AccessLine {
  /** requestId correlates every line of the request. */
  requestId: string;
  /** method is the HTTP method. */
  method: string;
  /** path is the URL path without the query string. */
  path: string;
  /** status is the response status. */
  status: number;
  /** ms is the duration in milliseconds. */
  ms: number;
  /** ip is the client address. */
  ip: string;
}

/**
 * accessLogger adapts a pino logger to the HTTP app's access log: one `request` line per request (debug for the
 * probes /healthz, /readyz and /metrics), and 5xx errors with their stack under the request id.
 */
export function accessLogger(logger: Logger): { request(line: AccessLine): void; error(err: unknown, requestId: string, status: number): void } {
  return {
    request(line) {
      const probe = line.path === '/healthz' || line.path === '/readyz' || line.path === '/metrics';
      if (probe && line.status < 400) logger.debug(line, 'request');
      else logger.info(line, 'request');
    },
    error(err, requestId, status) {
      logger.error({ err, requestId, status }, 'request failed');
    },
  };
}
