/**
 * The service registry: builds every domain service from the platform adapters, injecting into each only what it
 * needs. Domains add their service here (one line each) and their routes in `routes.ts`.
 */
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Clock } from './core/clock.ts';
import type { Config } from './platform/config.ts';
import type { Coordination } from './platform/coordination/index.ts';

/** ServiceDeps are the adapters services may be built from. */
export interface ServiceDeps {
  /** dataSource is the initialized TypeORM DataSource (migrations already run). */
  dataSource: DataSource;
  /** clock is the time source. */
  clock: Clock;
  /** config is the parsed configuration. */
  config: Config;
  /** coordination holds the rate-limit store, locks, cache and event bus (Redis or in-process). */
  coordination: Coordination;
  /** logger is the root logger; services log through children and never log secret values. */
  logger: Logger;
}

/** Services is every domain service, by domain. */
export type Services = ReturnType<typeof createServices>;

/** createServices builds the domain services. */
export function createServices(_deps: ServiceDeps) {
  return {};
}
