/**
 * Global setup of `node --test` (scripts/run-tests.mjs passes --test-global-setup): starts ONE embedded Postgres
 * (data in `.test-data/`, kept warm between runs) and ONE redis-server on free loopback ports, migrates the template
 * database once, and exports DROVER_TEST_DATABASE_URL, DROVER_TEST_TEMPLATE_DATABASE and DROVER_TEST_REDIS_URL
 * through process.env, which every test process inherits. Several runs may share the Postgres (each registers
 * itself under `.test-data/runs/`); the last one out stops it.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmbeddedPostgres } from '../server/src/platform/db/embedded-postgres.ts';
import type { EmbeddedPostgres } from '../server/src/platform/db/embedded-postgres.ts';
import { withClient } from '../server/src/platform/db/index.ts';
import { prepareTemplate } from '../server/src/testing/db.ts';
import { startRedisServer } from '../server/src/testing/redis.ts';
import type { RedisServer } from '../server/src/testing/redis.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = join(root, '.test-data');
const runsDir = join(dataDir, 'runs');
const me = join(runsDir, String(process.pid));

let postgres: EmbeddedPostgres | undefined;
let redis: RedisServer | undefined;

function othersAlive(): boolean {
  let names: string[];
  try {
    names = readdirSync(runsDir);
  } catch {
    return false;
  }
  return names.some((n) => {
    const pid = Number(n);
    if (!Number.isInteger(pid) || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      rmSync(join(runsDir, n), { force: true });
      return false;
    }
  });
}

/**
 * dropLeftovers drops the test databases of runs that died before their cleanup (`test_<pid>_…` whose pid is gone),
 * and, when no other run is active, templates of older migration sets.
 */
async function dropLeftovers(adminUrl: string, template: string): Promise<void> {
  const others = othersAlive();
  await withClient(adminUrl, async (c) => {
    const { rows } = await c.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'test\\_%' OR datname LIKE 'drover\\_tpl\\_%'`);
    for (const { datname } of rows) {
      const pid = Number(/^test_(\d+)_/.exec(datname)?.[1]);
      const stale = datname.startsWith('test_') ? Number.isInteger(pid) && !pidAlive(pid) : datname !== template && !others;
      if (stale) await c.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`).catch(() => undefined);
    }
  });
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** globalSetup starts the shared Postgres and Redis and exports their URLs to the test processes. */
export async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  mkdirSync(runsDir, { recursive: true });
  writeFileSync(me, '');
  const [pg, rd] = await Promise.all([
    startEmbeddedPostgres({
      dataDir,
      fastInit: true,
      settings: { fsync: 'off', synchronous_commit: 'off', full_page_writes: 'off', max_connections: '400', shared_buffers: '64MB' },
    }),
    startRedisServer(),
  ]);
  postgres = pg;
  redis = rd;
  const adminUrl = pg.url('postgres');
  process.env.DROVER_TEST_DATABASE_URL = adminUrl;
  process.env.DROVER_TEST_REDIS_URL = rd.url;
  try {
    const template = await prepareTemplate(adminUrl);
    process.env.DROVER_TEST_TEMPLATE_DATABASE = template;
    await dropLeftovers(adminUrl, template);
  } catch (e) {
    // A broken migration fails the tests that need the migrated schema (createTestDatabase rethrows this), not
    // every test of the run.
    const message = `the migrations do not apply: ${(e as Error).message}`;
    console.error(`global setup: ${message}`);
    process.env.DROVER_TEST_TEMPLATE_ERROR = message;
  }
  if (process.env.DROVER_TEST_SETUP_VERBOSE) console.error(`global setup: ${Date.now() - t0} ms (postgres ${pg.adopted ? 'reused' : 'started'})`);
}

/** globalTeardown stops Redis, and Postgres unless another test run still uses it. */
export async function globalTeardown(): Promise<void> {
  rmSync(me, { force: true });
  await redis?.stop();
  if (postgres && !othersAlive()) await postgres.stop();
}
