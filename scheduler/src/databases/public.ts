/**
 * Public TCP access to a managed database through Traefik, off by default. Postgres is routed by SNI on a shared
 * entrypoint (Traefik speaks Postgres STARTTLS and terminates TLS); Redis and MongoDB clients speak TLS from the first
 * byte, so they are routed by SNI on a shared TLS entrypoint; MySQL negotiates TLS inside its own protocol, which
 * Traefik cannot route by name: it gets an entrypoint of its own (`HostSNI(*)`, TLS left to the server and client).
 */
import type { DatabaseEngine } from '../compiler/model.ts';
import { hostnameProblem } from '../compiler/rules.ts';
import { routerName } from '../compiler/names.ts';

/** PublicAccess is a database's public endpoint: its hostname and the Traefik entrypoint chosen for it. */
export interface PublicAccess {
  /** hostname is the database's public host name (checked with hostnameProblem). */
  hostname: string;
  /** entrypoint is the Traefik entrypoint (shared `postgres`/`dbtls`, or MySQL's own). */
  entrypoint: string;
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
 * it, with its address and dynamic port) and gives it to the router, as it does for HTTP routers.
 */
export function databaseTcpTags(databaseId: string, engine: DatabaseEngine, p: PublicAccess): string[] {
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
