/**
 * Public TCP access to a managed database through Traefik, off by default. Postgres is routed by SNI on a shared
 * entrypoint (Traefik speaks Postgres STARTTLS and terminates TLS); Redis and MongoDB clients speak TLS from the first
 * byte, so they are routed by SNI on a shared TLS entrypoint; MySQL negotiates TLS inside its own protocol, which
 * Traefik cannot route by name: it gets an entrypoint of its own (`HostSNI(*)`, TLS left to the server and client).
 */
import type { DatabaseEngine } from '../compiler/model.ts';
import { hostnameProblem } from '../compiler/rules.ts';
import { routerName } from '../compiler/names.ts';

/** PublicAccess is a database's public endpoint: its hostname, the Traefik entrypoint chosen for it and its port. */
export interface PublicAccess {
  /** hostname is the database's public host name (checked with hostnameProblem). */
  hostname: string;
  /** entrypoint is the Traefik entrypoint (shared `postgres`/`dbtls`, or MySQL's own). */
  entrypoint: string;
  /** port is the entrypoint's public port (1–65535), the port of DATABASE_PUBLIC_URL. */
  port: number;
  /** certResolver is the ACME resolver for the TLS certificate (empty: Traefik's default certificate). */
  certResolver: string;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** routesBySni says whether Traefik can route the engine by SNI (else it needs an entrypoint of its own). */
export function routesBySni(engine: DatabaseEngine): boolean {
  return engine !== 'mysql';
}

/**
 * databaseTcpTags are the Traefik TCP router tags of a public database (IDs name the router; hostname checked). They
 * name no service: Traefik's Consul Catalog provider makes the one TCP service from the catalog entry (named after
 * it, with its address and dynamic port) and gives it to the router, as it does for HTTP routers. The public port is
 * the entrypoint's own, so it is not needed here.
 */
export function databaseTcpTags(databaseId: string, engine: DatabaseEngine, p: Pick<PublicAccess, 'hostname' | 'entrypoint' | 'certResolver'>): string[] {
  if (!NAME.test(p.entrypoint)) throw new Error('internal: entrypoint name is not safe');
  if (p.certResolver !== '' && !NAME.test(p.certResolver)) throw new Error('internal: cert resolver name is not safe');
  const problem = hostnameProblem(p.hostname);
  if (problem) throw new Error(`internal: hostname reached the router unchecked (${problem})`);
  const r = routerName(databaseId);
  const sni = routesBySni(engine);
  const tags = [
    'traefik.enable=true',
    `traefik.tcp.routers.${r}.rule=${sni ? `HostSNI(\`${p.hostname}\`)` : 'HostSNI(`*`)'}`,
    `traefik.tcp.routers.${r}.entrypoints=${p.entrypoint}`,
  ];
  if (sni) {
    tags.push(`traefik.tcp.routers.${r}.tls=true`);
    if (p.certResolver !== '') tags.push(`traefik.tcp.routers.${r}.tls.certresolver=${p.certResolver}`);
  }
  return tags;
}

/**
 * PublicUrlForm is how an engine's public connection URL is spelled: `<scheme>://<user>:<password>@<host>:<port>`,
 * then `/<database name>` when `hasName`, then `suffix`, which asks for TLS the way the engine's clients spell it.
 * Every part is a URL-safe constant (the compiler puts them in templates as constants).
 */
export interface PublicUrlForm {
  /** scheme is the URL scheme (`rediss` for Redis, which speaks TLS from the first byte). */
  scheme: string;
  /** hasName says the URL carries the database name as its path (Postgres, MySQL). */
  hasName: boolean;
  /** suffix follows the host, port and name: the engine's TLS option. */
  suffix: string;
}

/**
 * PUBLIC_URL_FORMS are the public URL forms of every engine: the one source of the TLS suffixes, used by the
 * compiler's `DATABASE_PUBLIC_URL` reference and by the server's view and credentials reveal alike.
 */
export const PUBLIC_URL_FORMS: Readonly<Record<DatabaseEngine, PublicUrlForm>> = Object.freeze({
  postgres: { scheme: 'postgresql', hasName: true, suffix: '?sslmode=require' },
  mysql: { scheme: 'mysql', hasName: true, suffix: '?ssl-mode=REQUIRED' },
  redis: { scheme: 'rediss', hasName: false, suffix: '' },
  mongodb: { scheme: 'mongodb', hasName: false, suffix: '/?authSource=admin&tls=true' },
});

/**
 * PUBLIC_URL_NAMES are the names a public database's full public URL is referenced by: `DATABASE_PUBLIC_URL` for
 * every engine, plus the engine's customary name as Railway's templates spell it (`MYSQL_PUBLIC_URL`,
 * `REDIS_PUBLIC_URL`, `MONGO_PUBLIC_URL`; Railway's Postgres uses DATABASE_PUBLIC_URL itself). Secrets, like DATABASE_URL.
 */
export const PUBLIC_URL_NAMES: Readonly<Record<DatabaseEngine, readonly string[]>> = Object.freeze({
  postgres: ['DATABASE_PUBLIC_URL'],
  mysql: ['DATABASE_PUBLIC_URL', 'MYSQL_PUBLIC_URL'],
  redis: ['DATABASE_PUBLIC_URL', 'REDIS_PUBLIC_URL'],
  mongodb: ['DATABASE_PUBLIC_URL', 'MONGO_PUBLIC_URL'],
});
