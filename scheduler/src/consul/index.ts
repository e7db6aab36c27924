/**
 * Public API of Drover's Consul adapter: read-only service health and catalog for status pages. No deregister:
 * stale registrations are cleaned through Nomad.
 */
export { ConsulConfigError, consulConfigFromEnv } from './config.ts';
export type { ConsulClientConfig, ConsulTlsConfig } from './config.ts';
export { ConsulAdapter, consulServiceNamePattern, toInstanceHealth, worstStatus } from './adapter.ts';
export type { ConsulQueryMeta, ConsulQueryOptions, ConsulResult, InstanceStatus, ServiceInstanceHealth } from './adapter.ts';
export { ConsulNotFoundError, ConsulResponseError, ConsulUnreachableError } from './errors.ts';
export type { ConsulAgentService, ConsulCatalogService, ConsulHealthCheck, ConsulNode, ConsulServiceEntry } from './types.ts';
