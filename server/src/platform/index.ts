/**
 * The platform under the domains: configuration, logger, metrics, Postgres (embedded when DATABASE_URL is unset,
 * migrated at boot), coordination (Redis or in-process) and the ops endpoints. `startPlatform` brings it up,
 * `close()` takes it down in reverse order.
 */
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { DataSource } from 'typeorm';
import type { Config } from './config.ts';
import { createCoordination } from './coordination/index.ts';
import type { Coordination } from './coordination/index.ts';
import { startEmbeddedPostgres } from './db/embedded-postgres.ts';
import type { EmbeddedPostgres } from './db/embedded-postgres.ts';
import { createDataSource, discoverEntities, discoverMigrations, runMigrations, withClient } from './db/index.ts';
import { createLogger } from './logger.ts';
import { createMetrics } from './metrics.ts';
import type { Metrics } from './metrics.ts';
import { opsRoutes } from './ops.ts';

/** EMBEDDED_DATABASE is the database Drover uses inside its embedded Postgres. */
export const EMBEDDED_DATABASE = 'drover';

/** Platform is everything the HTTP app and the domains are built on. */
export interface Platform {
  /** config is the frozen configuration. */
  readonly config: Config;
  /** logger is the process logger (pino JSON, secrets redacted). */
  readonly logger: Logger;
  /** metrics is the Prometheus registry and the HTTP histogram. */
  readonly metrics: Metrics;
  /** dataSource is the initialised, migrated TypeORM DataSource. */
  readonly dataSource: DataSource;
  /** coordination is the event bus, rate limits, locks and cache (Redis or in-process). */
  readonly coordination: Coordination;
  /** embeddedPostgres is the embedded Postgres, when DATABASE_URL is unset. */
  readonly embeddedPostgres: EmbeddedPostgres | undefined;
  /** ops serves /healthz, /readyz and /metrics; mount it ahead of the API router. */
  readonly ops: Middleware;
  /** draining tells that shutdown has begun. */
  draining(): boolean;
  /** startDraining makes /readyz fail from now on (called first by the shutdown sequence). */
  startDraining(): void;
  /** close shuts coordination, the pool and the embedded Postgres down, in that order; idempotent. */
  close(): Promise<void>;
}

/** StartPlatformOptions override parts of the platform (tests). */
export interface StartPlatformOptions {
  /** logger replaces the logger built from config. */
  logger?: Logger;
}

async function ensureDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (c) => {
    const r = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (r.rowCount === 0) {
      await c.query(`CREATE DATABASE "${name.replace(/"/g, '""')}"`).catch((e: { code?: string }) => {
        if (e.code !== '42P04') throw e; // created concurrently
      });
    }
  });
}

/**
 * startPlatform starts the embedded Postgres when `config.databaseUrl` is unset, connects TypeORM with every
 * discovered entity, runs pending migrations (advisory lock, lock_timeout), and connects coordination. On a
 * failure it stops what it had started and rethrows.
 */
export async function startPlatform(config: Config, options: StartPlatformOptions = {}): Promise<Platform> {
  const logger = options.logger ?? createLogger(config.logLevel);
  const metrics = createMetrics();
  const cleanup: (() => Promise<void>)[] = [];
  const unwind = async () => {
    for (const f of cleanup.reverse()) await f().catch((e: unknown) => logger.error({ err: e }, 'shutdown step failed'));
    cleanup.length = 0;
  };
  try {
    let url = config.databaseUrl;
    let embedded: EmbeddedPostgres | undefined;
    if (!url) {
      const pgLog = logger.child({ component: 'embedded-postgres' });
      embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log: { info: (m) => pgLog.info(m), warn: (m) => pgLog.warn(m) } });
      const e = embedded;
      cleanup.push(() => e.stop());
      await ensureDatabase(e.url('postgres'), EMBEDDED_DATABASE);
      url = e.url(EMBEDDED_DATABASE);
    }
    // Up to ten of the pool's connections stay open when idle: a burst after a quiet minute does not reconnect first
    // (≈6 ms each). DROVER_DB_POOL_SIZE bounds the pool; concurrent deployments and requests queue for it.
    const dataSource = createDataSource({
      url, entities: await discoverEntities(), migrations: await discoverMigrations(), poolSize: config.dbPoolSize, minConnections: Math.min(10, config.dbPoolSize),
    });
    await dataSource.initialize();
    cleanup.push(async () => { if (dataSource.isInitialized) await dataSource.destroy(); });
    const applied = await runMigrations(dataSource);
    if (applied.length > 0) logger.info({ migrations: applied }, 'migrations applied');

    let lastRedisWarning = 0;
    const coordination = await createCoordination(config.redisUrl, (e) => {
      if (Date.now() - lastRedisWarning < 30_000) return; // one line per 30 s of outage, not one per retry
      lastRedisWarning = Date.now();
      logger.warn({ err: e }, 'redis unavailable');
    });
    cleanup.push(() => coordination.close());

    let draining = false;
    let closing: Promise<void> | undefined;
    const platform: Platform = {
      config,
      logger,
      metrics,
      dataSource,
      coordination,
      embeddedPostgres: embedded,
      ops: opsRoutes({ dataSource, coordination, metrics, logger, draining: () => draining }),
      draining: () => draining,
      startDraining: () => { draining = true; },
      close: () => (closing ??= unwind()),
    };
    logger.info({ database: embedded ? `embedded (127.0.0.1:${embedded.port})` : 'external', coordination: coordination.kind }, 'platform started');
    return platform;
  } catch (e) {
    await unwind();
    throw e;
  }
}
