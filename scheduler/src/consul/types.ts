/**
 * The Consul API shapes the adapter reads, modelled on Consul's Go `api` package (contract:
 * ../shared/contracts/consul-api.schema.json; a test validates fully populated values of each against it).
 */

/** ConsulHealthCheck is Consul's api.HealthCheck (a node or service check and its state). */
export interface ConsulHealthCheck {
  /** Node is the node name. */
  Node?: string;
  /** CheckID identifies the check on its node. */
  CheckID?: string;
  /** Name is the check's name. */
  Name?: string;
  /** Status is passing, warning or critical (maintenance shows as critical). */
  Status?: string;
  /** Notes are operator notes. */
  Notes?: string;
  /** Output is the last check output (may carry tenant program output: never log it as trusted). */
  Output?: string;
  /** ServiceID is the instance the check belongs to ("" for a node check). */
  ServiceID?: string;
  /** ServiceName is the service name ("" for a node check). */
  ServiceName?: string;
  /** ServiceTags are the instance's tags. */
  ServiceTags?: string[] | null;
  /** Type is the check type (http, tcp, ttl, …). */
  Type?: string;
  /** CreateIndex is the Raft index of creation. */
  CreateIndex?: number;
  /** ModifyIndex is the Raft index of the last change. */
  ModifyIndex?: number;
}

/** ConsulNode is Consul's api.Node. */
export interface ConsulNode {
  /** ID is the node's UUID. */
  ID?: string;
  /** Node is the node name. */
  Node?: string;
  /** Address is the node's address. */
  Address?: string;
  /** Datacenter is the node's datacenter. */
  Datacenter?: string;
  /** TaggedAddresses are lan/wan addresses. */
  TaggedAddresses?: Record<string, string> | null;
  /** Meta is node metadata. */
  Meta?: Record<string, string> | null;
  /** CreateIndex is the Raft index of creation. */
  CreateIndex?: number;
  /** ModifyIndex is the Raft index of the last change. */
  ModifyIndex?: number;
}

/** ConsulAgentService is Consul's api.AgentService (one registered instance). */
export interface ConsulAgentService {
  /** ID is the instance ID (Nomad: `_nomad-task-<alloc>-<task>-<service>-<port>`). */
  ID?: string;
  /** Service is the service name (Drover: the job ID). */
  Service?: string;
  /** Tags are the catalog tags (Traefik's configuration and `drover.managed=true`). */
  Tags?: string[] | null;
  /** Meta is service metadata (`drover_*` keys). */
  Meta?: Record<string, string> | null;
  /** Port is the instance port. */
  Port?: number;
  /** Address is the instance address ("" = the node's). */
  Address?: string;
  /** Datacenter is the instance's datacenter. */
  Datacenter?: string;
  /** CreateIndex is the Raft index of creation. */
  CreateIndex?: number;
  /** ModifyIndex is the Raft index of the last change. */
  ModifyIndex?: number;
}

/** ConsulServiceEntry is Consul's api.ServiceEntry: an instance with its node and checks (/health/service). */
export interface ConsulServiceEntry {
  /** Node is the node the instance runs on. */
  Node?: ConsulNode | null;
  /** Service is the instance. */
  Service?: ConsulAgentService | null;
  /** Checks are the node's and the instance's checks. */
  Checks?: Array<ConsulHealthCheck | null> | null;
}

/** ConsulCatalogService is Consul's api.CatalogService: one instance as the catalog lists it (/catalog/service). */
export interface ConsulCatalogService {
  /** ID is the node's UUID. */
  ID?: string;
  /** Node is the node name. */
  Node?: string;
  /** Address is the node address. */
  Address?: string;
  /** Datacenter is the datacenter. */
  Datacenter?: string;
  /** NodeMeta is node metadata. */
  NodeMeta?: Record<string, string> | null;
  /** ServiceID is the instance ID. */
  ServiceID?: string;
  /** ServiceName is the service name. */
  ServiceName?: string;
  /** ServiceAddress is the instance address ("" = the node's). */
  ServiceAddress?: string;
  /** ServiceTags are the instance tags. */
  ServiceTags?: string[] | null;
  /** ServiceMeta is the instance metadata. */
  ServiceMeta?: Record<string, string> | null;
  /** ServicePort is the instance port. */
  ServicePort?: number;
  /** CreateIndex is the Raft index of creation. */
  CreateIndex?: number;
  /** ModifyIndex is the Raft index of the last change. */
  ModifyIndex?: number;
}
