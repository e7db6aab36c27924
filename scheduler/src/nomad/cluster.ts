/**
 * Cluster-level handles modelled on Go's api package: nodes, dynamic host volumes (create/list/get/delete — never
 * `register`, which accepts any host path), variables, namespaces, ACL policies and status.
 */
import { NomadCasConflictError, NomadUnexpectedResponseError, isNomadNotFound } from './errors.ts';
import type { NomadHttp, QueryOptions, QueryResult, WriteOptions, WriteResult } from './http.ts';
import { seg, segs } from './http.ts';
import type {
  ACLPolicy, ACLPolicyListStub, HostVolume, HostVolumeCreateRequest, HostVolumeCreateResponse, HostVolumeStub,
  Namespace, Node, NodeListStub, Variable, VariableMetadata,
} from './types.ts';
import { parseNomadWarnings } from './jobs.ts';

/** Nodes is the handle on `/v1/node*` (read only). */
export class Nodes {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** list lists client nodes (GET /v1/nodes). */
  list(q: QueryOptions = {}): Promise<QueryResult<NodeListStub[]>> {
    return this.http.query<NodeListStub[]>('/v1/nodes', q);
  }

  /** info reads one node (GET /v1/node/:id). */
  info(nodeId: string, q: QueryOptions = {}): Promise<QueryResult<Node>> {
    return this.http.query<Node>(`/v1/node/${seg(nodeId)}`, q);
  }
}

/** HostVolumeCreateResult is a created (or updated) dynamic host volume with Nomad's warnings split into items. */
export interface HostVolumeCreateResult {
  /** volume is the volume as Nomad recorded it (ID, NodeID, State, HostPath chosen by the plugin). */
  volume: HostVolume | null;
  /** warnings are Nomad's warnings, one per item. */
  warnings: string[];
}

/** HostVolumes is the handle on dynamic host volumes. There is deliberately no `register`. */
export class HostVolumes {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** create asks a plugin on a node to create a volume (PUT /v1/volume/host/create); the plugin picks the path. */
  async create(volume: HostVolume, opts: { policyOverride?: boolean } = {}, w: WriteOptions = {}): Promise<WriteResult<HostVolumeCreateResult>> {
    const body: HostVolumeCreateRequest = { Volume: volume };
    if (opts.policyOverride) body.PolicyOverride = true;
    const r = await this.http.write<HostVolumeCreateResponse>('PUT', '/v1/volume/host/create', body, { namespace: volume.Namespace, ...w });
    return { data: { volume: r.data?.Volume ?? null, warnings: parseNomadWarnings(r.data?.Warnings) }, meta: r.meta };
  }

  /** list lists host volumes (GET /v1/volumes?type=host), optionally of one node or node pool. */
  list(opts: { nodeId?: string; nodePool?: string } = {}, q: QueryOptions = {}): Promise<QueryResult<HostVolumeStub[]>> {
    return this.http.query<HostVolumeStub[]>('/v1/volumes', q, { type: 'host', node_id: opts.nodeId, node_pool: opts.nodePool });
  }

  /** get reads one host volume by ID (GET /v1/volume/host/:id). */
  get(volumeId: string, q: QueryOptions = {}): Promise<QueryResult<HostVolume>> {
    return this.http.query<HostVolume>(`/v1/volume/host/${seg(volumeId)}`, q);
  }

  /** delete deletes a host volume and its data through its plugin (DELETE /v1/volume/host/:id); explicit, never implicit. */
  delete(volumeId: string, w: WriteOptions = {}): Promise<WriteResult<unknown>> {
    return this.http.write<unknown>('DELETE', `/v1/volume/host/${seg(volumeId)}`, undefined, w, {}, [200, 204]);
  }
}

/** Variables is the handle on Nomad Variables (`/v1/var/*`), with check-and-set writes. */
export class Variables {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** read reads a variable with its items (GET /v1/var/:path); a missing path is a 404 error. */
  read(path: string, q: QueryOptions = {}): Promise<QueryResult<Variable>> {
    return this.http.query<Variable>(`/v1/var/${segs(path)}`, q);
  }

  /** peek reads a variable like read, but resolves to data null when it does not exist (outages still throw). */
  async peek(path: string, q: QueryOptions = {}): Promise<QueryResult<Variable | null>> {
    try {
      return await this.read(path, q);
    } catch (e) {
      if (isNomadNotFound(e)) return { data: null, meta: { lastIndex: 0, knownLeader: true, lastContact: 0, requestTimeMs: 0 } };
      throw e;
    }
  }

  /**
   * upsert writes a variable (PUT /v1/var/:path). With checkIndex it is a check-and-set: 0 means "must not exist",
   * otherwise the variable's ModifyIndex; a lost race is NomadCasConflictError carrying the current variable.
   */
  async upsert(variable: Variable & { Path: string }, opts: { checkIndex?: number } = {}, w: WriteOptions = {}): Promise<WriteResult<Variable>> {
    try {
      return await this.http.write<Variable>('PUT', `/v1/var/${segs(variable.Path)}`, variable, { namespace: variable.Namespace, ...w }, { cas: opts.checkIndex });
    } catch (e) {
      throw casConflict(e, opts.checkIndex);
    }
  }

  /** delete deletes a variable (DELETE /v1/var/:path), check-and-set against checkIndex when given. */
  async delete(path: string, opts: { checkIndex?: number } = {}, w: WriteOptions = {}): Promise<WriteResult<unknown>> {
    try {
      return await this.http.write<unknown>('DELETE', `/v1/var/${segs(path)}`, undefined, w, { cas: opts.checkIndex }, [200, 204]);
    } catch (e) {
      throw casConflict(e, opts.checkIndex);
    }
  }

  /** list lists variable metadata (no items) under a prefix (GET /v1/vars?prefix=). */
  list(q: QueryOptions = {}): Promise<QueryResult<VariableMetadata[]>> {
    return this.http.query<VariableMetadata[]>('/v1/vars', q);
  }
}

function casConflict(e: unknown, checkIndex: number | undefined): unknown {
  if (checkIndex !== undefined && e instanceof NomadUnexpectedResponseError && e.status === 409) {
    let conflict: Variable | null;
    try {
      conflict = JSON.parse(e.body) as Variable;
    } catch {
      conflict = null;
    }
    return new NomadCasConflictError(checkIndex, conflict);
  }
  return e;
}

/** Namespaces is the handle on `/v1/namespace*` (writes need a management token: pass WriteOptions.authToken). */
export class Namespaces {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** list lists namespaces (GET /v1/namespaces). */
  list(q: QueryOptions = {}): Promise<QueryResult<Namespace[]>> {
    return this.http.query<Namespace[]>('/v1/namespaces', q);
  }

  /** info reads one namespace (GET /v1/namespace/:name). */
  info(name: string, q: QueryOptions = {}): Promise<QueryResult<Namespace>> {
    return this.http.query<Namespace>(`/v1/namespace/${seg(name)}`, q);
  }

  /** register creates or updates a namespace (PUT /v1/namespace). */
  register(namespace: Namespace & { Name: string }, w: WriteOptions = {}): Promise<WriteResult<unknown>> {
    return this.http.write<unknown>('PUT', '/v1/namespace', namespace, w);
  }

  /** delete deletes an empty namespace (DELETE /v1/namespace/:name). */
  delete(name: string, w: WriteOptions = {}): Promise<WriteResult<unknown>> {
    return this.http.write<unknown>('DELETE', `/v1/namespace/${seg(name)}`, undefined, w);
  }
}

/** ACLPolicies is the handle on `/v1/acl/polic*` (management token only). */
export class ACLPolicies {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** upsert creates or updates a policy (PUT /v1/acl/policy/:name). */
  upsert(policy: ACLPolicy & { Name: string; Rules: string }, w: WriteOptions = {}): Promise<WriteResult<unknown>> {
    return this.http.write<unknown>('PUT', `/v1/acl/policy/${seg(policy.Name)}`, policy, w);
  }

  /** info reads one policy (GET /v1/acl/policy/:name). */
  info(name: string, q: QueryOptions = {}): Promise<QueryResult<ACLPolicy>> {
    return this.http.query<ACLPolicy>(`/v1/acl/policy/${seg(name)}`, q);
  }

  /** list lists policies (GET /v1/acl/policies). */
  list(q: QueryOptions = {}): Promise<QueryResult<ACLPolicyListStub[]>> {
    return this.http.query<ACLPolicyListStub[]>('/v1/acl/policies', q);
  }

  /** delete deletes a policy (DELETE /v1/acl/policy/:name). */
  delete(name: string, w: WriteOptions = {}): Promise<WriteResult<unknown>> {
    return this.http.write<unknown>('DELETE', `/v1/acl/policy/${seg(name)}`, undefined, w);
  }
}

/** Status is the handle on `/v1/status/*`. */
export class Status {
  private readonly http: NomadHttp;
  constructor(http: NomadHttp) {
    this.http = http;
  }

  /** leader returns the leader's RPC address (`ip:port`); "" when there is no leader. */
  async leader(q: QueryOptions = {}): Promise<string> {
    return (await this.http.query<string>('/v1/status/leader', q)).data ?? '';
  }

  /** peers returns the RPC addresses of the Raft peers. */
  async peers(q: QueryOptions = {}): Promise<string[]> {
    return (await this.http.query<string[]>('/v1/status/peers', q)).data ?? [];
  }
}
