/**
 * createApp: the composition root of the HTTP server. It builds the domain services over the platform adapters,
 * collects every route, and hands them with the authenticator, the ops endpoints and the dashboard's static files to
 * buildHttpApp.
 */
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Config } from '../platform/config.ts';
import type { Coordination } from '../platform/coordination/index.ts';
import { accessLogger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import { opsRoutes } from '../platform/ops.ts';
import { allRoutes } from '../routes.ts';
import { createServices, type ServiceDeps, type Services } from '../services.ts';
import { buildHttpApp } from './koa.ts';
import type { OpenApiDocument } from './openapi.ts';
import { staticSite } from './static.ts';

/** WEB_BUILD_DIR is where the dashboard's static build lives (`web/build`). */
export const WEB_BUILD_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'web', 'build');

/** AppPlatform is what the HTTP app is built on: the platform adapters started by `startPlatform`. */
export interface AppPlatform {
  /** config is the parsed configuration. */
  config: Config;
  /** dataSource is the initialized, migrated DataSource. */
  dataSource: DataSource;
  /** coordination is Redis or the in-process implementation. */
  coordination: Coordination;
  /** logger is the root logger. */
  logger: Logger;
  /** metrics is the Prometheus registry. */
  metrics: Metrics;
}

/** CreateAppOptions overrides parts of the composition (tests). */
export interface CreateAppOptions {
  /** clock replaces the system clock. */
  clock?: Clock;
  /** draining tells readiness that shutdown has begun. */
  draining?: () => boolean;
  /** webRoot replaces the dashboard build directory. */
  webRoot?: string;
  /**
   * services replaces service adapters (tests: an in-memory mailer, relaxed rate limits, cheaper argon2 costs, a
   * chosen secret store, a loopback DNS resolver and challenge fetcher).
   */
  services?: Partial<Pick<ServiceDeps, 'mailer' | 'authLimits' | 'argon2' | 'secretStore' | 'resolver' | 'fetcher'>>;
}

/** App is the built application: the Koa app, its OpenAPI document and the services behind it. */
export interface App {
  /** koa is the Koa application; `koa.callback()` is the request handler. */
  koa: Koa;
  /** openapi is the generated OpenAPI 3.1 document. */
  openapi: OpenApiDocument;
  /** services are the domain services (the deployment worker and tests use them). */
  services: Services;
}

/** createApp composes the HTTP application over a started platform. */
export function createApp(platform: AppPlatform, options: CreateAppOptions = {}): App {
  const services = createServices({
    dataSource: platform.dataSource,
    clock: options.clock ?? systemClock,
    config: platform.config,
    coordination: platform.coordination,
    logger: platform.logger,
    ...options.services,
  });
  const { app, openapi } = buildHttpApp({
    routes: allRoutes(services),
    authenticate: services.auth.authenticate,
    log: accessLogger(platform.logger),
    trustProxy: platform.config.trustProxy,
    before: [
      platform.metrics.httpMiddleware(),
      opsRoutes({
        dataSource: platform.dataSource,
        coordination: platform.coordination,
        metrics: platform.metrics,
        logger: platform.logger,
        draining: options.draining ?? (() => false),
      }),
    ],
    after: [staticSite(options.webRoot ?? WEB_BUILD_DIR)],
    info: {
      title: 'Drover API',
      version: '0.1.0',
      description: 'The REST API of Drover, a self-hosted Railway on Nomad, Consul, Vault and Traefik.',
    },
  });
  return { koa: app, openapi, services };
}
