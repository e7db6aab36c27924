/**
 * Traefik tags: the Consul Catalog (or Nomad) provider reads routers from a service's tags. Router and service names
 * come from the service's ID only; hostnames are checked with hostnameProblem before they reach a rule; tenants can
 * add no tag. No load-balancer port is set: the catalog entry carries the dynamic port.
 */
import { hostnameProblem } from './rules.ts';
import { canaryRouterName, routerName } from './names.ts';

/** MANAGED_TAG marks catalog entries Drover owns; Traefik's constraint routes only those. */
export const MANAGED_TAG = 'drover.managed=true';

/** CANARY_HEADER is the request header that reaches a deployment's canaries before promotion. */
export const CANARY_HEADER = 'X-Drover-Canary';

/** TraefikSettings are the entrypoints and certificate resolver from the cluster settings. */
export interface TraefikSettings {
  /** entrypoints are the Traefik entrypoint names routers listen on. */
  entrypoints: string[];
  /** certResolver is the ACME resolver name (empty: none). */
  certResolver: string;
}

const NAME = /^[A-Za-z0-9_-]{1,64}$/;

function hostRule(hosts: string[]): string {
  for (const h of hosts) {
    const p = hostnameProblem(h);
    if (p) throw new Error(`internal: hostname reached the router unchecked (${p})`);
  }
  return hosts.map((h) => `Host(\`${h}\`)`).join(' || ');
}

function routerTags(router: string, rule: string, s: TraefikSettings): string[] {
  for (const e of s.entrypoints) if (!NAME.test(e)) throw new Error('internal: entrypoint name is not safe');
  if (s.certResolver !== '' && !NAME.test(s.certResolver)) throw new Error('internal: cert resolver name is not safe');
  const tags = [
    `traefik.http.routers.${router}.rule=${rule}`,
    `traefik.http.routers.${router}.entrypoints=${s.entrypoints.join(',')}`,
    `traefik.http.routers.${router}.tls=true`,
  ];
  if (s.certResolver !== '') tags.push(`traefik.http.routers.${router}.tls.certresolver=${s.certResolver}`);
  tags.push(
    `traefik.http.routers.${router}.service=${router}`,
    `traefik.http.services.${router}.loadbalancer.passhostheader=true`,
  );
  return tags;
}

/**
 * traefikTags returns the tags and canary tags of a service routed at `hosts` (empty: not routed, only the
 * managed tag). Canaries get their own router `d-<id>-canary`, reachable with the CANARY_HEADER until promotion.
 */
export function traefikTags(serviceId: string, hosts: string[], s: TraefikSettings): { tags: string[]; canaryTags: string[] } {
  if (hosts.length === 0) return { tags: [MANAGED_TAG], canaryTags: [MANAGED_TAG] };
  const rule = hostRule(hosts);
  const main = routerName(serviceId);
  const canary = canaryRouterName(serviceId);
  const canaryRule = `(${rule}) && Header(\`${CANARY_HEADER}\`, \`true\`)`;
  return {
    tags: ['traefik.enable=true', MANAGED_TAG, ...routerTags(main, rule, s)],
    canaryTags: ['traefik.enable=true', MANAGED_TAG, ...routerTags(canary, canaryRule, s)],
  };
}
