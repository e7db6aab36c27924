/**
 * Names: every name Drover derives for the cluster (platform.md, "Names"). Each ends in `-<h>`, eight hex characters
 * of a SHA-256 of the owning object's ID, so two tenants or two slug combinations never share a name; each is a
 * DNS-safe label of at most 63 characters whose middle parts are shortened, never the hash.
 */
import { createHash } from 'node:crypto';

/** SLUG_PATTERN is the slug rule: lower-case letters and digits in runs joined by single hyphens, 1–30 characters. */
export const SLUG_PATTERN: RegExp = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** MAX_SLUG_LENGTH is the longest slug (team, project, environment, service, database, volume name). */
export const MAX_SLUG_LENGTH = 30;

/** MAX_LABEL_LENGTH is the longest DNS label and therefore the longest derived name. */
export const MAX_LABEL_LENGTH = 63;

/** ID_PATTERN is what an object ID must look like to appear in names, Meta and router names (UUIDs qualify). */
export const ID_PATTERN: RegExp = /^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$/;

/** isSlug reports whether a string is a valid slug (pattern and length). */
export function isSlug(s: string): boolean {
  return s.length >= 1 && s.length <= MAX_SLUG_LENGTH && SLUG_PATTERN.test(s);
}

/** assertSlug throws when `s` is not a valid slug; `what` names the object in the message. */
export function assertSlug(s: string, what: string): void {
  if (!isSlug(s)) throw new Error(`${what} slug ${JSON.stringify(s)} is not a slug`);
}

/** assertId throws when `id` does not match ID_PATTERN; IDs are Drover's, but names and tags are built from them. */
export function assertId(id: string, what: string): void {
  if (!ID_PATTERN.test(id)) throw new Error(`${what} ID ${JSON.stringify(id)} is not a safe ID`);
}

/** shortHash returns the eight hex characters `<h>` of the SHA-256 of an object's ID. */
export function shortHash(id: string): string {
  return createHash('sha256').update(id, 'utf8').digest('hex').slice(0, 8);
}

/** trimSlug cuts a slug to at most `max` characters and drops a trailing hyphen the cut may leave. */
function trimSlug(s: string, max: number): string {
  return s.slice(0, Math.max(1, max)).replace(/-+$/, '');
}

/**
 * fitParts joins slug parts and a hash with '-', shortening the longest parts first (one character at a time) until
 * the name fits `max` characters. The hash is never shortened; parts keep at least one character.
 */
export function fitParts(parts: string[], hash: string, max: number = MAX_LABEL_LENGTH): string {
  const cut = [...parts];
  const total = (): number => cut.reduce((n, p) => n + p.length + 1, 0) + hash.length;
  while (total() > max) {
    let longest = 0;
    for (let i = 1; i < cut.length; i++) if ((cut[i]?.length ?? 0) > (cut[longest]?.length ?? 0)) longest = i;
    const p = cut[longest] ?? '';
    if (p.length <= 1) throw new Error('name cannot be shortened to fit');
    cut[longest] = trimSlug(p, p.length - 1);
  }
  return [...cut, hash].join('-');
}

/** namespaceName is a team's Nomad namespace: `t-<team-slug>-<h(team ID)>`. */
export function namespaceName(teamSlug: string, teamId: string): string {
  return fitParts(['t', teamSlug], shortHash(teamId));
}

/**
 * jobId is the Nomad job ID (and Consul service name) of a service or database:
 * `<project-slug>-<environment-slug>-<service-slug>-<h(owner ID)>`, at most 63 characters.
 * The owner ID is the service's (or database's) ID in its environment.
 */
export function jobId(projectSlug: string, environmentSlug: string, serviceSlug: string, ownerId: string): string {
  return fitParts([projectSlug, environmentSlug, serviceSlug], shortHash(ownerId));
}

/**
 * hostVolumeName is a dynamic host volume's name: `dv-<shortened job ID>-<volume-name>-<h(volume ID)>`, at most 63
 * characters; the job ID loses characters from its end first (its own hash included), the volume name only if needed.
 */
export function hostVolumeName(job: string, volumeName: string, volumeId: string): string {
  const h = shortHash(volumeId);
  const budget = MAX_LABEL_LENGTH - 'dv-'.length - 1 - volumeName.length - 1 - h.length;
  if (budget >= 1) return `dv-${trimSlug(job, budget)}-${volumeName}-${h}`;
  return fitParts(['dv', trimSlug(job, 8), volumeName], h);
}

/** generatedHostLabel is the one-label generated host of a service: `<service-slug>-<environment-slug>-<h>`. */
export function generatedHostLabel(serviceSlug: string, environmentSlug: string, serviceId: string): string {
  return fitParts([serviceSlug, environmentSlug], shortHash(serviceId));
}

/** generatedDomain is a service's generated domain: `<service-slug>-<environment-slug>-<h>.<apps domain>`. */
export function generatedDomain(serviceSlug: string, environmentSlug: string, serviceId: string, appsDomain: string): string {
  return `${generatedHostLabel(serviceSlug, environmentSlug, serviceId)}.${appsDomain}`;
}

/** routerName is the Traefik router and service name of a service, from its ID only: `d-<service-id>`. */
export function routerName(serviceId: string): string {
  return `d-${serviceId}`;
}

/** canaryRouterName is the Traefik router and service name for a service's canaries: `d-<service-id>-canary`. */
export function canaryRouterName(serviceId: string): string {
  return `d-${serviceId}-canary`;
}

/** nomadVariablesPath is the Nomad Variables path a job's tasks may read: `nomad/jobs/<job ID>`. */
export function nomadVariablesPath(job: string): string {
  return `nomad/jobs/${job}`;
}

/** vaultKvDataPath is the KV v2 read path of a job's values: `<mount>/data/drover/<namespace>/<job ID>`. */
export function vaultKvDataPath(mount: string, namespace: string, job: string): string {
  return `${mount}/data/drover/${namespace}/${job}`;
}
