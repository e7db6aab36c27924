/**
 * Wiring of the cluster status: probes over Drover's own Nomad client and, when configured, a Consul and a Vault
 * adapter built for the one check and closed after it (the status is read rarely; no connection is kept open).
 */
import { readFileSync } from 'node:fs';
import type { DataSource } from 'typeorm';
import { ConsulAdapter } from '@drover/scheduler/consul/index.ts';
import type { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { VaultAdapter } from '@drover/scheduler/vault/index.ts';
import type { Config } from '../platform/config.ts';
import { ClusterStatusService, type ClusterProbes } from './service.ts';

/** clusterProbes builds the probes from the configuration; Consul and Vault probes exist only when configured. */
export function clusterProbes(nomad: NomadClient, config: Pick<Config, 'consul' | 'vault'>): ClusterProbes {
  const probes: ClusterProbes = {
    nomadLeader: (signal) => nomad.status.leader({ signal }),
    nomadNodes: async (signal) => (await nomad.nodes.list({ signal })).data ?? [],
  };
  const c = config.consul;
  if (c) {
    probes.consulLeader = async (signal) => {
      const ca = c.caCertPath ? readFileSync(c.caCertPath, 'utf8') : undefined;
      const adapter = new ConsulAdapter({ address: c.address, timeoutMs: 3_000, ...(c.token ? { token: c.token } : {}), ...(ca ? { tls: { ca } } : {}) });
      try {
        return await adapter.leader({ signal });
      } finally {
        adapter.close();
      }
    };
  }
  const v = config.vault;
  if (v) {
    probes.vaultHealth = async () => {
      const ca = v.caCertPath ? readFileSync(v.caCertPath, 'utf8') : undefined;
      const adapter = new VaultAdapter({ address: v.address, kvMount: v.kvMount, timeoutMs: 3_000, ...(v.token ? { token: v.token } : {}), ...(ca ? { tls: { ca } } : {}) });
      try {
        return await adapter.health();
      } finally {
        await adapter.close();
      }
    };
  }
  return probes;
}

/** createClusterStatus builds the service over the deployment engine's Nomad client and the configuration. */
export function createClusterStatus(d: { dataSource: DataSource; nomad: NomadClient; config: Pick<Config, 'consul' | 'vault'> }): ClusterStatusService {
  return new ClusterStatusService({ dataSource: d.dataSource, probes: clusterProbes(d.nomad, d.config) });
}
