/**
 * @drover/scheduler: everything that talks to the cluster, as a library with no Koa or TypeORM inside. Import a
 * module's own entry (`@drover/scheduler/nomad/index.ts`) for its full API; this root re-exports each as a namespace.
 */
export * as contracts from './contracts/index.ts';
export * as nomad from './nomad/index.ts';
export * as consul from './consul/index.ts';
export * as vault from './vault/index.ts';
export * as compiler from './compiler/index.ts';
export * as manifest from './manifest/index.ts';
export * as nomadValidate from './nomad-validate/index.ts';
