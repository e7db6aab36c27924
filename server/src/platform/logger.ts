/**
 * Logging: pino JSON lines on stdout. A redact list censors every field that may hold a secret (passwords,
 * tokens, secrets, authorization and cookie headers, variable values) at the top level and up to three levels
 * deep, so an object handed to the logger never leaks one.
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

/** redactPaths expands SECRET_FIELDS into the pino paths censored: the field itself and up to three levels deep. */
export function redactPaths(): string[] {
  const out: string[] = [];
  for (const f of SECRET_FIELDS) {
    const k = /^[A-Za-z_$][\w$]*$/.test(f) ? f : `["${f}"]`;
    const join = (prefix: string) => (k.startsWith('[') ? `${prefix}${k}` : `${prefix}.${k}`);
    out.push(k.startsWith('[') ? k.slice(2, -2) : k, join('*'), join('*.*'), join('*.*.*'));
  }
  return out;
}

/** REDACTED is what a censored value is replaced with. */
export const REDACTED = '[redacted]';

/** createLogger returns the process logger at `level`, writing JSON lines to `destination` (default stdout). */
export function createLogger(level: LogLevel, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'drover' },
    redact: { paths: redactPaths(), censor: REDACTED },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
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
