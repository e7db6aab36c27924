/**
 * Cluster status: whether Drover can reach the HashiCorp stack it runs on — the Nomad leader, Consul and Vault when
 * configured — and Nomad's client nodes with their status, eligibility and pool. Every probe is bounded in time and
 * reports `ok`, `down` or `not_configured` with a message that never carries a token or a secret.
 *
 * Who may read it: any signed-in user (session or token of any scope) who is a member of at least one team, with any
 * role — every role has `read`. The answer names no tenant resources (nodes and component reachability only), and a
 * viewer who sees a deployment fail benefits from knowing whether the cluster itself is down. A user with no team gets
 * `auth/forbidden`.
 */
import type { DataSource } from 'typeorm';
import type { Actor } from '../core/actor.ts';
import { DomainError } from '../core/errors.ts';

/** ComponentState is a component's reachability. */
export type ComponentState = 'ok' | 'down' | 'not_configured';

/** ComponentStatus is one component's reachability with a non-secret message (leader address, version, or the failure's class). */
export interface ComponentStatus {
  /** status is ok, down or not_configured. */
  status: ComponentState;
  /** message says why, fit for operators (never a token, never a response body). */
  message: string;
}

/** ClusterNode is one Nomad client node as the status screen shows it. */
export interface ClusterNode {
  /** id is the node's ID. */
  id: string;
  /** name is the node's name. */
  name: string;
  /** status is Nomad's node status (`ready`, `down`, `initializing`, `disconnected`). */
  status: string;
  /** eligibility is `eligible` or `ineligible` for scheduling. */
  eligibility: string;
  /** pool is the node pool. */
  pool: string;
  /** datacenter is the node's datacenter. */
  datacenter: string;
  /** drain is true while the node drains. */
  drain: boolean;
}

/** ClusterStatus is the whole answer. */
export interface ClusterStatus {
  /** nomad is the Nomad leader's reachability. */
  nomad: ComponentStatus;
  /** consul is Consul's reachability (not_configured without CONSUL_HTTP_ADDR). */
  consul: ComponentStatus;
  /** vault is Vault's health (not_configured without VAULT_ADDR). */
  vault: ComponentStatus;
  /** nodes are Nomad's client nodes (empty when Nomad is down). */
  nodes: ClusterNode[];
  /** checkedAt is when the probes ran. */
  checkedAt: Date;
}

/** NodeStub is what the probe needs from Nomad's node list (a subset of NodeListStub). */
export interface NodeStub {
  ID?: string;
  Name?: string;
  Status?: string;
  SchedulingEligibility?: string;
  NodePool?: string;
  Datacenter?: string;
  Drain?: boolean;
}

/**
 * ClusterProbes are the calls the status makes, each given an AbortSignal that fires at the probe deadline. `consul`
 * and `vault` are absent when they are not configured.
 */
export interface ClusterProbes {
  /** nomadLeader returns the leader's RPC address ("" when there is none). */
  nomadLeader: (signal: AbortSignal) => Promise<string>;
  /** nomadNodes lists the client nodes. */
  nomadNodes: (signal: AbortSignal) => Promise<NodeStub[]>;
  /** consulLeader returns Consul's Raft leader ("" when there is none). */
  consulLeader?: (signal: AbortSignal) => Promise<string>;
  /** vaultHealth reads Vault's /sys/health. */
  vaultHealth?: (signal: AbortSignal) => Promise<{ initialized: boolean; sealed: boolean; standby: boolean; version: string }>;
}

/** ClusterStatusDeps build the service. */
export interface ClusterStatusDeps {
  /** dataSource answers whether the caller belongs to a team. */
  dataSource: DataSource;
  /** probes reach the cluster. */
  probes: ClusterProbes;
  /** timeoutMs bounds each probe (default 3 000 ms). */
  timeoutMs?: number;
  /** now stamps checkedAt (default: the system clock). */
  now?: () => Date;
}

/** failureMessage words a probe failure without its body or any header: the error's class and a short reason. */
export function failureMessage(e: unknown, timeoutMs: number): string {
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) return `no answer within ${timeoutMs} ms`;
  const code = (e as { code?: unknown } | null)?.code;
  const status = (e as { status?: unknown; statusCode?: unknown } | null)?.status ?? (e as { statusCode?: unknown } | null)?.statusCode;
  if (typeof status === 'number' && status === 403) return 'permission denied (check the configured token)';
  if (typeof status === 'number') return `answered HTTP ${status}`;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return `unreachable (${code})`;
  return 'unreachable';
}

/** ClusterStatusService runs the probes for a signed-in caller. */
export class ClusterStatusService {
  private readonly ds: DataSource;
  private readonly probes: ClusterProbes;
  private readonly timeoutMs: number;
  private readonly now: () => Date;

  constructor(d: ClusterStatusDeps) {
    this.ds = d.dataSource;
    this.probes = d.probes;
    this.timeoutMs = d.timeoutMs ?? 3_000;
    this.now = d.now ?? (() => new Date());
  }

  /** status checks the caller belongs to a team (else `auth/forbidden`), then runs every probe in parallel. */
  async status(actor: Actor): Promise<ClusterStatus> {
    const rows: unknown[] = await this.ds.query('SELECT 1 FROM team_members WHERE user_id = $1 LIMIT 1', [actor.userId]);
    if (rows.length === 0) throw new DomainError('auth/forbidden', 'The cluster status is shown to members of a team');
    const [nomad, consul, vault] = await Promise.all([this.nomad(), this.consul(), this.vault()]);
    return { nomad: nomad.status, consul, vault, nodes: nomad.nodes, checkedAt: this.now() };
  }

  private async bounded<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const ctl = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        ctl.abort();
        reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' }));
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([fn(ctl.signal), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async nomad(): Promise<{ status: ComponentStatus; nodes: ClusterNode[] }> {
    try {
      const [leader, stubs] = await Promise.all([this.bounded(this.probes.nomadLeader), this.bounded(this.probes.nomadNodes)]);
      const nodes = stubs.map((n) => ({
        id: n.ID ?? '', name: n.Name ?? '', status: n.Status ?? 'unknown', eligibility: n.SchedulingEligibility ?? 'unknown',
        pool: n.NodePool ?? 'default', datacenter: n.Datacenter ?? '', drain: n.Drain ?? false,
      })).sort((a, b) => a.name.localeCompare(b.name));
      if (!leader) return { status: { status: 'down', message: 'reachable, but the cluster has no leader' }, nodes };
      return { status: { status: 'ok', message: `leader at ${leader}` }, nodes };
    } catch (e) {
      return { status: { status: 'down', message: failureMessage(e, this.timeoutMs) }, nodes: [] };
    }
  }

  private async consul(): Promise<ComponentStatus> {
    const probe = this.probes.consulLeader;
    if (!probe) return { status: 'not_configured', message: 'CONSUL_HTTP_ADDR is not set' };
    try {
      const leader = await this.bounded(probe);
      return leader ? { status: 'ok', message: `leader at ${leader}` } : { status: 'down', message: 'reachable, but the cluster has no leader' };
    } catch (e) {
      return { status: 'down', message: failureMessage(e, this.timeoutMs) };
    }
  }

  private async vault(): Promise<ComponentStatus> {
    const probe = this.probes.vaultHealth;
    if (!probe) return { status: 'not_configured', message: 'VAULT_ADDR is not set: variables are sealed in Postgres' };
    try {
      const h = await this.bounded(probe);
      if (!h.initialized) return { status: 'down', message: 'not initialized' };
      if (h.sealed) return { status: 'down', message: 'sealed' };
      return { status: 'ok', message: `unsealed${h.standby ? ', standby' : ''}${h.version ? `, version ${h.version}` : ''}` };
    } catch (e) {
      return { status: 'down', message: failureMessage(e, this.timeoutMs) };
    }
  }
}
