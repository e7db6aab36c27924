/**
 * Public API of Drover's Nomad client: configuration, the client and its handles, errors, blocking queries and
 * the stream decoders. Types of Nomad bodies are re-exported from types.ts (generated from the contract).
 */
export { NomadConfigError, nomadConfigFromEnv, normalizeNomadAddress } from './config.ts';
export type { NomadClientConfig, NomadConfigOverrides, NomadEnvFileReader, NomadRetryConfig, NomadTlsConfig } from './config.ts';
export { NomadClient } from './client.ts';
export { NomadHttp, backoffDelay, defaultNomadRetry, parseQueryMeta, seg, segs } from './http.ts';
export type { NomadStreamResponse, Params, QueryMeta, QueryOptions, QueryResult, WriteMeta, WriteOptions, WriteResult } from './http.ts';
export {
  NomadCasConflictError, NomadConnectionError, NomadStreamError, NomadUnexpectedResponseError, isNomadNotFound,
  isNomadRetryable,
} from './errors.ts';
export { Jobs, NomadJobModifyIndexConflictError, parseNomadWarnings, registerEnforceIndexErrPrefix } from './jobs.ts';
export type { DeregisterOptions, DispatchOptions, PeriodicForceResponse, RegisterOptions, RegisterResult, ScaleOptions } from './jobs.ts';
export { AllocFS, Allocations, Deployments, Evaluations } from './allocations.ts';
export type { LogsOptions } from './allocations.ts';
export { ACLPolicies, HostVolumes, Namespaces, Nodes, Status, Variables } from './cluster.ts';
export type { HostVolumeCreateResult } from './cluster.ts';
export { EventStream, topicParams } from './events.ts';
export type { EventStreamOptions, EventTopics } from './events.ts';
export { nextBlockingIndex, watch } from './blocking.ts';
export { listAll, paginate } from './pagination.ts';
export type { WatchOptions } from './blocking.ts';
export { FrameDecoder, JsonObjectSplitter, decodeFrame, decodeFrames, maxFrameBytes, plainChunks } from './stream/frames.ts';
export type { LogChunk } from './stream/frames.ts';
export { EventStreamDecoder, NdjsonSplitter, decodeEventLine, decodeEventStream, maxEventLineBytes } from './stream/events.ts';
export type { EventBatch } from './stream/events.ts';
export type * from './types.ts';
