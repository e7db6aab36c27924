/**
 * Public access to a managed database, off by default: a database opened by its team gets a hostname directly under
 * the cluster's apps domain (the operator's wildcard DNS already points it at the edge, so no ownership check is
 * needed, and a name there cannot be claimed on a domain someone else owns), unique across all teams. Postgres,
 * Redis and MongoDB are routed by SNI with TLS on one shared Traefik entry point; MySQL, which Traefik cannot route
 * by name, gets an entry point of its own, so at most one MySQL database of the cluster can be public at a time.
 * The change takes effect at the next deploy of the environment, like every database change.
 */
import type { Database, DatabaseEngine } from '@drover/scheduler/compiler/model.ts';
import { PUBLIC_URL_FORMS, routesBySni } from '@drover/scheduler/databases/public.ts';
import { DomainError } from '../core/errors.ts';
import { parseHostname } from '../domains/hostname.ts';
import type { DatabaseRow } from './database.entity.ts';

/**
 * DatabasePublicSettings are the operator's settings for public databases (config.databasePublic plus the apps
 * domain). Entry point and resolver names are Traefik names; certResolver may be empty (Traefik's default certificate).
 */
export interface DatabasePublicSettings {
  /** enabled says the edge has the database entry points (DROVER_DB_PUBLIC_ACCESS); off: nothing is opened. */
  enabled: boolean;
  /** tlsEntrypoint is the shared SNI/TLS entry point of Postgres, Redis and MongoDB. */
  tlsEntrypoint: string;
  /** tlsPort is its public port. */
  tlsPort: number;
  /** mysqlEntrypoint is MySQL's own entry point. */
  mysqlEntrypoint: string;
  /** mysqlPort is its public port. */
  mysqlPort: number;
  /** certResolver is the ACME resolver for public hostnames (empty: Traefik's default certificate). */
  certResolver: string;
  /** appsDomain is the parent domain public hostnames sit directly under. */
  appsDomain: string;
}

/** PUBLIC_OFF are the settings of a cluster without public database access (the default). */
export const PUBLIC_OFF: DatabasePublicSettings = Object.freeze({
  enabled: false, tlsEntrypoint: 'dbtls', tlsPort: 5432, mysqlEntrypoint: 'mysql', mysqlPort: 3306, certResolver: '', appsDomain: 'localhost',
});

/** publicEndpoint is the entry point and public port an engine is served on. */
export function publicEndpoint(s: DatabasePublicSettings, engine: DatabaseEngine): { entrypoint: string; port: number } {
  return routesBySni(engine) ? { entrypoint: s.tlsEntrypoint, port: s.tlsPort } : { entrypoint: s.mysqlEntrypoint, port: s.mysqlPort };
}

/**
 * publicAccessOf is the compiler's public access of a row (hostname, entry point and its public port, resolver):
 * present only when the row is public and the cluster allows it.
 */
export function publicAccessOf(row: Pick<DatabaseRow, 'engine' | 'publicHostname'>, s: DatabasePublicSettings): Database['publicAccess'] {
  if (!s.enabled || !row.publicHostname) return undefined;
  const { entrypoint, port } = publicEndpoint(s, row.engine);
  return { hostname: row.publicHostname, entrypoint, port, certResolver: s.certResolver };
}

/** withPublicAccess adds the row's public access (when any) to its compiler model. */
export function withPublicAccess(model: Database, row: Pick<DatabaseRow, 'engine' | 'publicHostname'>, s: DatabasePublicSettings): Database {
  const publicAccess = publicAccessOf(row, s);
  return publicAccess ? { ...model, publicAccess } : model;
}

/** PublicCredentials are what a full public URL holds (secrets: only the reveal endpoint returns that URL). */
export interface PublicCredentials {
  /** user is the user (`default` for Redis). */
  user: string;
  /** password is the password. */
  password: string;
  /** name is the database name, or null where the engine has none. */
  name: string | null;
}

/**
 * publicUrl is the public connection URL of a database at `host:port`, with TLS asked for the way each engine's
 * clients spell it (PUBLIC_URL_FORMS, shared with the compiler's DATABASE_PUBLIC_URL reference); without `creds` it
 * carries no user, password or database name (safe to show).
 */
export function publicUrl(engine: DatabaseEngine, host: string, port: number, creds?: PublicCredentials): string {
  const e = encodeURIComponent;
  const form = PUBLIC_URL_FORMS[engine];
  const auth = creds ? `${e(creds.user)}:${e(creds.password)}@` : '';
  const name = form.hasName ? (creds?.name ? `/${e(creds.name)}` : '/') : '';
  return `${form.scheme}://${auth}${host}:${port}${name}${form.suffix}`;
}

/** defaultPublicHostname is the hostname a database gets when its team names none: `<name>-<id prefix>.<apps domain>`. */
export function defaultPublicHostname(row: Pick<DatabaseRow, 'name' | 'id'>, appsDomain: string): string {
  return `${row.name}-${row.id.slice(0, 8)}.${appsDomain}`;
}

/**
 * checkPublicHostname validates a requested public hostname with the domains' rules (LDH, punycode for IDN, no
 * wildcard) and requires it to be one label directly under the apps domain; returns the ASCII form or throws
 * `database/invalid` naming `body.public.hostname`.
 */
export function checkPublicHostname(input: string, appsDomain: string): string {
  const bad = (message: string): DomainError => new DomainError('database/invalid', `public hostname: ${message}`, { errors: [{ path: 'body.public.hostname', message }] });
  const parsed = parseHostname(input);
  if (!parsed.ok) throw bad(parsed.message);
  const suffix = `.${appsDomain}`;
  if (!parsed.hostname.endsWith(suffix) || parsed.hostname.slice(0, -suffix.length).includes('.')) throw bad(`must be one label under ${appsDomain} (like db.${appsDomain})`);
  return parsed.hostname;
}
