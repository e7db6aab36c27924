/**
 * Postgres through TypeORM: entities are discovered from every `server/src/**\/*.entity.ts` file (each exports
 * EntitySchemas), migrations from `server/src/migrations/*.ts` (each exports one migration class). The schema only
 * ever changes through migrations (never `synchronize`); they run at boot under an advisory lock, with a
 * `lock_timeout` and a `statement_timeout`, each in its own transaction unless it declares `transaction = false`
 * (needed for CREATE INDEX CONCURRENTLY).
 */
import { readdirSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { DataSource, EntitySchema, MigrationExecutor } from 'typeorm';
import type { MigrationInterface, QueryRunner } from 'typeorm';
import { DomainError } from '../../core/errors.ts';

/** SERVER_SRC is the absolute path of `server/src`. */
export const SERVER_SRC = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** MIGRATIONS_DIR is where migrations are discovered: `server/src/migrations`. */
export const MIGRATIONS_DIR = join(SERVER_SRC, 'migrations');

/** MigrationClass is a migration constructor as TypeORM takes it; `transaction = false` opts out of a transaction. */
export type MigrationClass = new () => MigrationInterface;

/** DatabaseUnavailableError reports that Postgres could not be reached: the DomainError `database/unavailable` (HTTP 503). */
export class DatabaseUnavailableError extends DomainError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('database/unavailable', message, options?.cause === undefined ? {} : { cause: options.cause });
    this.name = 'DatabaseUnavailableError';
  }
}

function walk(dir: string, accept: (file: string) => boolean, skipDirs: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) {
      if (!skipDirs.has(e.name)) out.push(...walk(p, accept, skipDirs));
    } else if (e.isFile() && accept(e.name)) out.push(p);
  }
  return out.sort();
}

/**
 * discoverEntityFiles lists every `*.entity.ts` below `root` (default server/src), sorted, skipping node_modules
 * and test fixtures (`testdata` folders).
 */
export function discoverEntityFiles(root: string = SERVER_SRC): string[] {
  return walk(root, (n) => n.endsWith('.entity.ts'), new Set(['node_modules', 'testdata']));
}

/** discoverEntities imports every entity file and returns the EntitySchemas they export, in file order. */
export async function discoverEntities(root: string = SERVER_SRC): Promise<EntitySchema[]> {
  const out: EntitySchema[] = [];
  for (const f of discoverEntityFiles(root)) {
    const mod = (await import(pathToFileURL(f).href)) as Record<string, unknown>;
    const schemas = Object.values(mod).filter((v): v is EntitySchema => v instanceof EntitySchema);
    if (schemas.length === 0) throw new Error(`${relative(SERVER_SRC, f)} exports no EntitySchema`);
    out.push(...schemas);
  }
  return out;
}

/**
 * discoverMigrations imports every `*.ts` file (tests excluded) directly in `dir` (default server/src/migrations),
 * sorted by file name (which starts with the timestamp); each must export exactly one migration class.
 */
export async function discoverMigrations(dir: string = MIGRATIONS_DIR): Promise<MigrationClass[]> {
  let files: string[];
  try {
    files = readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts')).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
  const out: MigrationClass[] = [];
  for (const n of files) {
    const mod = (await import(pathToFileURL(join(dir, n)).href)) as Record<string, unknown>;
    const classes = Object.values(mod).filter((v): v is MigrationClass =>
      typeof v === 'function' && typeof (v as { prototype?: { up?: unknown } }).prototype?.up === 'function');
    if (classes.length !== 1) throw new Error(`${dir}${sep}${n} must export exactly one migration class (found ${classes.length})`);
    out.push(classes[0] as MigrationClass);
  }
  return out;
}

/** DataSourceSettings configure createDataSource. */
export interface DataSourceSettings {
  /** url is the postgres:// URL. */
  url: string;
  /** entities are the EntitySchemas (default: none). */
  entities?: EntitySchema[];
  /** migrations are the migration classes (default: none). */
  migrations?: MigrationClass[];
  /** poolSize is the maximum number of pooled connections (default 10). */
  poolSize?: number;
  /**
   * minConnections is how many pooled connections stay open when idle (default 0: each closes after 10 s idle, and
   * the next burst of concurrent queries pays for reconnecting); at most poolSize.
   */
  minConnections?: number;
  /** statementTimeoutMs bounds each statement of the application's connections (default 30 s). */
  statementTimeoutMs?: number;
  /** applicationName shows in pg_stat_activity (default `drover`). */
  applicationName?: string;
}

/** createDataSource builds (does not initialise) a TypeORM DataSource for Postgres; `synchronize` is always off. */
export function createDataSource(s: DataSourceSettings): DataSource {
  return new DataSource({
    type: 'postgres',
    url: s.url,
    entities: s.entities ?? [],
    migrations: s.migrations ?? [],
    migrationsTransactionMode: 'each',
    migrationsRun: false,
    synchronize: false,
    installExtensions: false,
    uuidExtension: 'pgcrypto',
    poolSize: s.poolSize ?? 10,
    applicationName: s.applicationName ?? 'drover',
    connectTimeoutMS: 5_000,
    extra: {
      statement_timeout: s.statementTimeoutMs ?? 30_000,
      idle_in_transaction_session_timeout: 60_000,
      min: Math.min(s.minConnections ?? 0, s.poolSize ?? 10),
    },
    logging: false,
  });
}

/** MigrationRunOptions bound the migrations run at boot. */
export interface MigrationRunOptions {
  /** lockTimeoutMs is the session's lock_timeout while migrating (default 5 s): a migration never queues behind traffic for long. */
  lockTimeoutMs?: number;
  /** statementTimeoutMs is the session's statement_timeout while migrating (default 10 min, CREATE INDEX CONCURRENTLY can be slow). */
  statementTimeoutMs?: number;
}

/** MIGRATION_ADVISORY_LOCK is the pg_advisory_lock key that serialises migrations across replicas. */
export const MIGRATION_ADVISORY_LOCK = 0x64726f76; // "drov"

/**
 * runMigrations applies the data source's pending migrations on one session that holds an advisory lock (so
 * replicas booting together migrate once), with lock_timeout and statement_timeout set. Each migration runs in
 * its own transaction unless its class sets `transaction = false`. Returns the names applied.
 */
export async function runMigrations(dataSource: DataSource, options: MigrationRunOptions = {}): Promise<string[]> {
  const qr = dataSource.createQueryRunner();
  await qr.connect();
  try {
    await qr.query(`SELECT pg_advisory_lock(${MIGRATION_ADVISORY_LOCK})`);
    await qr.query(`SET lock_timeout = ${Math.max(1, Math.trunc(options.lockTimeoutMs ?? 5_000))}`);
    await qr.query(`SET statement_timeout = ${Math.max(1, Math.trunc(options.statementTimeoutMs ?? 600_000))}`);
    const executor = new MigrationExecutor(dataSource, qr);
    executor.transaction = 'each';
    const done = await executor.executePendingMigrations();
    return done.map((m) => m.name);
  } finally {
    await qr.query(`SELECT pg_advisory_unlock(${MIGRATION_ADVISORY_LOCK})`).catch(() => undefined);
    await qr.query('RESET lock_timeout; RESET statement_timeout').catch(() => undefined);
    await qr.release();
  }
}

/** pingDatabase runs `SELECT 1` within `timeoutMs`; throws DatabaseUnavailableError otherwise. */
export async function pingDatabase(dataSource: DataSource, timeoutMs = 2_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      dataSource.query('SELECT 1'),
      new Promise((_, rej) => { timer = setTimeout(() => rej(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs); }),
    ]);
  } catch (e) {
    throw new DatabaseUnavailableError(`Postgres is unavailable: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
}

/** withClient runs `fn` with a plain pg client on `url` (administrative statements: CREATE DATABASE …), then closes it. */
export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** recordQueries wraps a QueryRunner so every SQL text it sends is recorded, and returns the growing list (migration checker). */
export function recordQueries(qr: QueryRunner): string[] {
  const recorded: string[] = [];
  const original = qr.query.bind(qr);
  qr.query = ((sql: string, ...rest: unknown[]) => {
    recorded.push(sql);
    return (original as (...a: unknown[]) => Promise<unknown>)(sql, ...rest);
  }) as QueryRunner['query'];
  return recorded;
}
