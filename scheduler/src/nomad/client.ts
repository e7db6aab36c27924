/**
 * NomadClient: Drover's own Nomad HTTP client on undici, one handle per resource as in Nomad's Go `api` package.
 */
import type { NomadClientConfig } from './config.ts';
import { NomadHttp } from './http.ts';
import { Jobs } from './jobs.ts';
import { AllocFS, Allocations, Deployments, Evaluations } from './allocations.ts';
import { ACLPolicies, HostVolumes, Namespaces, Nodes, Status, Variables } from './cluster.ts';
import { EventStream } from './events.ts';

/**
 * NomadClient talks to one Nomad address over a keep-alive pool. Build its config with nomadConfigFromEnv; the
 * client never reads process.env. Call close() on shutdown.
 */
export class NomadClient {
  /** http is the transport shared by every handle (exposed for custom endpoints and tests). */
  readonly http: NomadHttp;
  /** jobs is the handle on job endpoints. */
  readonly jobs: Jobs;
  /** evaluations is the handle on evaluation endpoints. */
  readonly evaluations: Evaluations;
  /** deployments is the handle on deployment endpoints. */
  readonly deployments: Deployments;
  /** allocations is the handle on allocation endpoints. */
  readonly allocations: Allocations;
  /** fs is the handle on the client file system (logs). */
  readonly fs: AllocFS;
  /** events is the handle on the event stream. */
  readonly events: EventStream;
  /** nodes is the handle on node endpoints (read only). */
  readonly nodes: Nodes;
  /** hostVolumes is the handle on dynamic host volumes (create/list/get/delete; no register). */
  readonly hostVolumes: HostVolumes;
  /** variables is the handle on Nomad Variables. */
  readonly variables: Variables;
  /** namespaces is the handle on namespaces. */
  readonly namespaces: Namespaces;
  /** aclPolicies is the handle on ACL policies. */
  readonly aclPolicies: ACLPolicies;
  /** status is the handle on the status endpoints (leader, peers). */
  readonly status: Status;

  constructor(config: NomadClientConfig) {
    this.http = new NomadHttp(config);
    this.jobs = new Jobs(this.http);
    this.evaluations = new Evaluations(this.http);
    this.deployments = new Deployments(this.http);
    this.allocations = new Allocations(this.http);
    this.fs = new AllocFS(this.http);
    this.events = new EventStream(this.http);
    this.nodes = new Nodes(this.http);
    this.hostVolumes = new HostVolumes(this.http);
    this.variables = new Variables(this.http);
    this.namespaces = new Namespaces(this.http);
    this.aclPolicies = new ACLPolicies(this.http);
    this.status = new Status(this.http);
  }

  /** close waits for in-flight requests, then closes the connection pools. */
  close(): Promise<void> {
    return this.http.close();
  }

  /** destroy aborts in-flight requests and streams and closes the pools. */
  destroy(): Promise<void> {
    return this.http.destroy();
  }
}
