/**
 * ConsulAdapter: the one place Drover reads Consul, on npm `consul`. It answers status questions — which instances
 * of a service exist and how healthy they are — and nothing else. There is deliberately no register or deregister:
 * Nomad owns the registrations of its jobs and re-registers them, so stale entries are cleaned through Nomad.
 */
import { EventEmitter } from 'node:events';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import Consul from 'consul';
import type { ConsulClientConfig } from './config.ts';
import { ConsulNotFoundError, ConsulResponseError, ConsulUnreachableError } from './errors.ts';
import type { ConsulCatalogService, ConsulHealthCheck, ConsulServiceEntry } from './types.ts';

/** ConsulQueryOptions are the options of a read. */
export interface ConsulQueryOptions {
  /** dc overrides the configured datacenter. */
  dc?: string;
  /** filter is a Consul filter expression (e.g. `Service.Meta.drover_team == "…"`). */
  filter?: string;
  /** index makes the read a blocking query on X-Consul-Index. */
  index?: number;
  /** wait bounds a blocking query, in ms (sent as `<n>ms`). */
  wait?: number;
  /** stale lets any server answer. */
  stale?: boolean;
  /** signal aborts the request. */
  signal?: AbortSignal;
}

/** ConsulQueryMeta is what Consul says about a read (X-Consul-* headers). */
export interface ConsulQueryMeta {
  /** lastIndex is X-Consul-Index (0 when absent); pass it as `index` to block for changes. */
  lastIndex: number;
  /** knownLeader is X-Consul-KnownLeader. */
  knownLeader: boolean;
  /** lastContact is X-Consul-LastContact in ms. */
  lastContact: number;
}

/** ConsulResult pairs decoded data with its ConsulQueryMeta. */
export interface ConsulResult<T> {
  /** data is the decoded response. */
  data: T;
  /** meta is the query meta. */
  meta: ConsulQueryMeta;
}

/** InstanceStatus is the worst state among an instance's node and service checks. */
export type InstanceStatus = 'passing' | 'warning' | 'critical';

/** ServiceInstanceHealth is one instance of a service as the status page shows it. */
export interface ServiceInstanceHealth {
  /** id is the Consul service ID of the instance. */
  id: string;
  /** node is the node name. */
  node: string;
  /** address is the instance address (the node's when the service has none). */
  address: string;
  /** port is the instance port. */
  port: number;
  /** status is the worst of the instance's checks (passing when it has none). */
  status: InstanceStatus;
  /** meta is the instance's service Meta (`drover_*`). */
  meta: Record<string, string>;
  /** checks are the instance's and its node's checks: name, status, output. */
  checks: Array<{ name: string; status: string; output: string; serviceId: string }>;
}

const rank: Record<string, number> = { passing: 0, warning: 1, critical: 2 };

/** worstStatus returns the worst status among checks (unknown states count as critical; none = passing). */
export function worstStatus(checks: ReadonlyArray<ConsulHealthCheck | null> | null | undefined): InstanceStatus {
  let worst = 0;
  for (const c of checks ?? []) {
    if (!c) continue;
    worst = Math.max(worst, rank[c.Status ?? ''] ?? 2);
  }
  return (['passing', 'warning', 'critical'] as const)[worst] ?? 'critical';
}

/** toInstanceHealth turns a ServiceEntry into a ServiceInstanceHealth. */
export function toInstanceHealth(e: ConsulServiceEntry): ServiceInstanceHealth {
  const svc = e.Service ?? {};
  return {
    id: svc.ID ?? '',
    node: e.Node?.Node ?? '',
    address: svc.Address || e.Node?.Address || '',
    port: svc.Port ?? 0,
    status: worstStatus(e.Checks),
    meta: { ...(svc.Meta ?? {}) },
    checks: (e.Checks ?? []).filter((c): c is ConsulHealthCheck => c !== null).map((c) => ({
      name: c.Name ?? c.CheckID ?? '', status: c.Status ?? '', output: c.Output ?? '', serviceId: c.ServiceID ?? '',
    })),
  };
}

interface PapiError extends Error {
  isPapi?: boolean;
  isResponse?: boolean;
  isTimeout?: boolean;
  isAbort?: boolean;
  isValidation?: boolean;
  statusCode?: number;
  response?: { statusCode?: number; body?: unknown };
  code?: string;
}

type IncomingResponse = { headers: Record<string, string | string[] | undefined> };

/** ConsulAdapter reads service health and the catalog. Build it from consulConfigFromEnv; close() on shutdown. */
export class ConsulAdapter {
  private readonly consul: Consul;
  private readonly config: ConsulClientConfig;
  private readonly agent: HttpAgent | HttpsAgent;

  constructor(config: ConsulClientConfig) {
    this.config = config;
    const secure = config.address.startsWith('https:');
    this.agent = secure
      ? new HttpsAgent({
          keepAlive: true,
          ca: config.tls?.ca,
          cert: config.tls?.cert,
          key: config.tls?.key,
          servername: config.tls?.serverName,
          rejectUnauthorized: !(config.tls?.skipVerify ?? false),
        })
      : new HttpAgent({ keepAlive: true });
    const opts = {
      baseUrl: `${config.address}/v1`,
      agent: this.agent,
      defaults: { token: config.token, dc: config.datacenter, timeout: config.timeoutMs ?? 10_000 },
    };
    this.consul = new Consul(opts as ConstructorParameters<typeof Consul>[0]);
  }

  /** close releases the keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private async call<T>(operation: string, q: ConsulQueryOptions, run: (opts: Record<string, unknown>) => Promise<unknown>): Promise<ConsulResult<T>> {
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const onAbort = (): void => void ctx.emit('cancel');
    q.signal?.addEventListener('abort', onAbort, { once: true });
    const opts: Record<string, unknown> = { ctx };
    if (q.dc) opts.dc = q.dc;
    if (q.filter) opts.filter = q.filter;
    if (q.stale) opts.stale = true;
    if (q.index) {
      opts.index = String(q.index);
      opts.wait = `${Math.floor(q.wait ?? 300_000)}ms`;
      opts.timeout = (q.wait ?? 300_000) + Math.ceil((q.wait ?? 300_000) / 16) + (this.config.timeoutMs ?? 10_000);
    }
    try {
      if (q.signal?.aborted) throw q.signal.reason;
      const [res, body] = (await run(opts)) as [IncomingResponse, T];
      const h = (k: string): string | undefined => {
        const v = res.headers[k];
        return Array.isArray(v) ? v[0] : v;
      };
      const index = Number(h('x-consul-index') ?? '0');
      return {
        data: body,
        meta: { lastIndex: Number.isFinite(index) ? index : 0, knownLeader: h('x-consul-knownleader') === 'true', lastContact: Number(h('x-consul-lastcontact') ?? '0') || 0 },
      };
    } catch (e) {
      if (q.signal?.aborted) throw q.signal.reason;
      throw classify(operation, e);
    } finally {
      q.signal?.removeEventListener('abort', onAbort);
    }
  }

  /**
   * serviceHealth lists the instances of a service with their checks (GET /v1/health/service/:name), only the
   * instances whose checks all pass when passingOnly. An unknown service is an empty list, as Consul answers.
   */
  serviceHealth(service: string, opts: ConsulQueryOptions & { passingOnly?: boolean; tag?: string } = {}): Promise<ConsulResult<ConsulServiceEntry[]>> {
    assertName(service);
    return this.call<ConsulServiceEntry[]>('health.service', opts, (o) =>
      this.consul.health.service({ service, ...(opts.passingOnly ? { passing: true } : {}), ...(opts.tag ? { tag: opts.tag } : {}), ...o }));
  }

  /** serviceInstances is serviceHealth summarized per instance (worst check wins). */
  async serviceInstances(service: string, opts: ConsulQueryOptions & { passingOnly?: boolean } = {}): Promise<ConsulResult<ServiceInstanceHealth[]>> {
    const r = await this.serviceHealth(service, opts);
    return { data: (r.data ?? []).map(toInstanceHealth), meta: r.meta };
  }

  /** catalogService lists the registered instances of a service (GET /v1/catalog/service/:name), health not considered. */
  catalogService(service: string, opts: ConsulQueryOptions & { tag?: string } = {}): Promise<ConsulResult<ConsulCatalogService[]>> {
    assertName(service);
    return this.call<ConsulCatalogService[]>('catalog.service', opts, (o) =>
      this.consul.catalog.service.nodes({ service, ...(opts.tag ? { tag: opts.tag } : {}), ...o }));
  }

  /** requireCatalogService is catalogService that throws ConsulNotFoundError when no instance is registered. */
  async requireCatalogService(service: string, opts: ConsulQueryOptions = {}): Promise<ConsulResult<ConsulCatalogService[]>> {
    const r = await this.catalogService(service, opts);
    if (!r.data || r.data.length === 0) throw new ConsulNotFoundError('catalog.service', `service "${service}"`);
    return r;
  }

  /** catalogServices lists every service name with its tags (GET /v1/catalog/services). */
  catalogServices(opts: ConsulQueryOptions = {}): Promise<ConsulResult<Record<string, string[]>>> {
    return this.call<Record<string, string[]>>('catalog.services', opts, (o) => this.consul.catalog.service.list(o));
  }

  /** leader returns the Raft leader address (GET /v1/status/leader); "" when there is none. */
  async leader(opts: ConsulQueryOptions = {}): Promise<string> {
    return (await this.call<string>('status.leader', opts, (o) => this.consul.status.leader(o))).data ?? '';
  }
}

/** consulServiceNamePattern is what a Consul service name may be here: DNS-safe, as Drover's job IDs are. */
export const consulServiceNamePattern = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

function assertName(service: string): void {
  if (!consulServiceNamePattern.test(service)) throw new TypeError(`invalid Consul service name "${service}"`);
}

function classify(operation: string, e: unknown): Error {
  const err = e as PapiError;
  const status = err?.isResponse ? (err.response?.statusCode ?? err.statusCode) : undefined;
  if (status !== undefined) {
    const body = typeof err.response?.body === 'string' ? err.response.body : JSON.stringify(err.response?.body ?? err.message);
    if (status === 404) return new ConsulNotFoundError(operation, body.trim() || 'resource');
    if (status >= 500 || status === 429) return new ConsulUnreachableError(operation, `${status} ${body.trim().slice(0, 300)}`, status, e);
    return new ConsulResponseError(operation, status, body);
  }
  if (err?.isValidation) return new TypeError(`Consul ${operation}: ${err.message}`);
  return new ConsulUnreachableError(operation, err?.message ?? String(e), undefined, e);
}
