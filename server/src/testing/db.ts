/**
 * Test databases on the one embedded Postgres that test/global-setup.ts starts: a template database migrated once
 * per set of migrations, and a fresh copy of it per test file (CREATE DATABASE … TEMPLATE), which is fast.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import {
  createDataSource, discoverEntities, discoverMigrations, MIGRATIONS_DIR, runMigrations, withClient,
} from '../platform/db/index.ts';

/** TestDatabase is a fresh database for one test file. */
export interface TestDatabase {
  /** name is the database name. */
  readonly name: string;
  /** url is its postgres:// URL. */
  readonly url: string;
  /** dataSource is an initialised DataSource on it, with every discovered entity and migration. */
  readonly dataSource: DataSource;
  /** cleanup closes the data source and drops the database. */
  cleanup(): Promise<void>;
}

/** testAdminUrl is the superuser URL of the shared test Postgres (DROVER_TEST_DATABASE_URL, set by the global setup). */
export function testAdminUrl(): string {
  const url = process.env.DROVER_TEST_DATABASE_URL;
  if (!url) throw new Error('DROVER_TEST_DATABASE_URL is unset: run tests through `npm run test:node` (test/global-setup.ts starts Postgres)');
  return url;
}

/** databaseUrl returns `adminUrl` pointed at the database `name`. */
export function databaseUrl(adminUrl: string, name: string): string {
  const u = new URL(adminUrl);
  u.pathname = `/${encodeURIComponent(name)}`;
  return u.toString();
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** migrationsHash hashes the names and contents of the migration files, naming the template they produce. */
export function migrationsHash(dir: string = MIGRATIONS_DIR): string {
  const h = createHash('sha256');
  let files: string[];
  try {
    files = readdirSync(dir).filter((n) => n.endsWith('.ts') && !n.endsWith('.test.ts')).sort();
  } catch {
    files = [];
  }
  for (const n of files) h.update(n).update('\0').update(readFileSync(join(dir, n))).update('\0');
  return h.digest('hex').slice(0, 12);
}

/**
 * prepareTemplate makes sure the template database for the current migrations exists (`drover_tpl_<hash>`),
 * creating and migrating it under an advisory lock when missing; returns its name. Called by the global setup.
 */
export async function prepareTemplate(adminUrl: string): Promise<string> {
  const name = `drover_tpl_${migrationsHash()}`;
  return withClient(adminUrl, async (c) => {
    await c.query('SELECT pg_advisory_lock(7319)');
    try {
      const found = await c.query<{ ok: boolean }>(
        `SELECT obj_description(oid, 'pg_database') = 'ready' AS ok FROM pg_database WHERE datname = $1`, [name]);
      if (found.rows[0]?.ok) return name;
      await c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`);
      await c.query(`CREATE DATABASE ${ident(name)}`);
      const ds = createDataSource({ url: databaseUrl(adminUrl, name), migrations: await discoverMigrations(), poolSize: 1 });
      await ds.initialize();
      try {
        await runMigrations(ds);
      } finally {
        await ds.destroy();
      }
      await c.query(`COMMENT ON DATABASE ${ident(name)} IS 'ready'`);
      return name;
    } finally {
      await c.query('SELECT pg_advisory_unlock(7319)').catch(() => undefined);
    }
  });
}

/** CreateTestDatabaseOptions choose what the new database starts from. */
export interface CreateTestDatabaseOptions {
  /** empty creates an empty database (no migrations applied) instead of a copy of the migrated template. */
  empty?: boolean;
  /** poolSize of the returned DataSource (default 5). */
  poolSize?: number;
}

/**
 * createTestDatabase creates a fresh database for a test file — a copy of the migrated template, or empty — and
 * returns an initialised DataSource (all discovered entities and migrations registered) and its cleanup.
 */
export async function createTestDatabase(options: CreateTestDatabaseOptions = {}): Promise<TestDatabase> {
  const adminUrl = testAdminUrl();
  if (!options.empty && process.env.DROVER_TEST_TEMPLATE_ERROR) throw new Error(process.env.DROVER_TEST_TEMPLATE_ERROR);
  const template = options.empty ? '' : process.env.DROVER_TEST_TEMPLATE_DATABASE ?? (await prepareTemplate(adminUrl));
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, async (c) => {
    for (let attempt = 0; ; attempt++) {
      try {
        await c.query(options.empty ? `CREATE DATABASE ${ident(name)}` : `CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}`);
        return;
      } catch (e) {
        // 55006: the template is briefly in use (another copy being set up); retry.
        if ((e as { code?: string }).code !== '55006' || attempt >= 50) throw e;
        await new Promise((r) => setTimeout(r, 50 + Math.random() * 100));
      }
    }
  });
  const url = databaseUrl(adminUrl, name);
  const dataSource = createDataSource({
    url, entities: await discoverEntities(), migrations: await discoverMigrations(), poolSize: options.poolSize ?? 5, applicationName: 'drover-test',
  });
  await dataSource.initialize();
  let cleaned: Promise<void> | undefined;
  return {
    name,
    url,
    dataSource,
    cleanup: () => (cleaned ??= (async () => {
      if (dataSource.isInitialized) await dataSource.destroy();
      await withClient(adminUrl, (c) => c.query(`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`));
    })()),
  };
}
