/**
 * Cluster adapter: builds Drover's Nomad client from the parsed configuration and provisions team namespaces. The
 * management token (NOMAD_MGMT_TOKEN) is read here only, by ensureNamespace; every other call uses the everyday token.
 */
import { NomadClient, isNomadNotFound } from '@drover/scheduler/nomad/index.ts';
import type { NomadClientConfig } from '@drover/scheduler/nomad/index.ts';

/** createNomadClient builds the client over the configuration's NOMAD_* settings (no request is made). */
export function createNomadClient(config: Readonly<NomadClientConfig>): NomadClient {
  return new NomadClient({ ...config });
}

/** NAMESPACE_CACHE_MS is how long NamespaceProvisioner trusts a namespace it saw exist (5 minutes). */
export const NAMESPACE_CACHE_MS = 5 * 60_000;

/**
 * NamespaceProvisioner creates a team's namespace once (with the management token, when one is configured). Within a
 * process it asks Nomad at most once at a time per namespace: concurrent deployments of one team share the request in
 * flight (and its outcome, a failure included; a failure is not remembered), and a namespace seen to exist is trusted
 * for `cacheMs` (default NAMESPACE_CACHE_MS) — after that one request checks it again, so a namespace deleted behind
 * Drover's back is created anew.
 */
export class NamespaceProvisioner {
  private readonly nomad: NomadClient;
  private readonly managementToken: string | undefined;
  private readonly cacheMs: number;
  private readonly now: () => number;
  private readonly known = new Map<string, number>();
  private readonly inFlight = new Map<string, Promise<{ created: boolean }>>();

  constructor(nomad: NomadClient, managementToken: string | undefined, options: { cacheMs?: number; now?: () => number } = {}) {
    this.nomad = nomad;
    this.managementToken = managementToken;
    this.cacheMs = options.cacheMs ?? NAMESPACE_CACHE_MS;
    this.now = options.now ?? Date.now;
  }

  /** ensure creates `name` unless it exists; `created` tells whether this call (or the one it joined) created it. */
  ensure(name: string, description: string): Promise<{ created: boolean }> {
    const seen = this.known.get(name);
    if (seen !== undefined && this.now() - seen < this.cacheMs) return Promise.resolve({ created: false });
    const pending = this.inFlight.get(name);
    if (pending) return pending;
    const p = this.provision(name, description).finally(() => this.inFlight.delete(name));
    this.inFlight.set(name, p);
    return p;
  }

  private async provision(name: string, description: string): Promise<{ created: boolean }> {
    try {
      await this.nomad.namespaces.info(name);
      this.known.set(name, this.now());
      return { created: false };
    } catch (e) {
      if (!isNomadNotFound(e)) throw e;
    }
    await this.nomad.namespaces.register(
      { Name: name, Description: description, Meta: { 'drover.managed': 'true' } },
      this.managementToken ? { authToken: this.managementToken } : {},
    );
    this.known.set(name, this.now());
    return { created: true };
  }
}
