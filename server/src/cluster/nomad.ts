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

/**
 * NamespaceProvisioner creates a team's namespace once (with the management token, when one is configured) and
 * remembers the namespaces it has seen, so the deploy path asks Nomad at most once per namespace and process.
 */
export class NamespaceProvisioner {
  private readonly nomad: NomadClient;
  private readonly managementToken: string | undefined;
  private readonly known = new Set<string>();

  constructor(nomad: NomadClient, managementToken: string | undefined) {
    this.nomad = nomad;
    this.managementToken = managementToken;
  }

  /** ensure creates `name` unless it exists; `created` tells whether this call created it. */
  async ensure(name: string, description: string): Promise<{ created: boolean }> {
    if (this.known.has(name)) return { created: false };
    try {
      await this.nomad.namespaces.info(name);
      this.known.add(name);
      return { created: false };
    } catch (e) {
      if (!isNomadNotFound(e)) throw e;
    }
    await this.nomad.namespaces.register(
      { Name: name, Description: description, Meta: { 'drover.managed': 'true' } },
      this.managementToken ? { authToken: this.managementToken } : {},
    );
    this.known.add(name);
    return { created: true };
  }
}
