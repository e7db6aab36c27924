/**
 * The exact argv of every backup, restore and verification step, in one place: the job compiler puts these arrays in
 * the jobs (`entrypoint` = argv[0], `args` = the rest) and the real-engine tests run the same arrays against Debian's
 * servers. Nothing here holds a credential: passwords reach the tools through environment variables or files that
 * Nomad templates render (PGPASSWORD, MYSQL_PWD, REDISCLI_AUTH, a mongo tools config file). Host, port, user and
 * database name are `${VAR}` references Nomad interpolates from the template environment at run time (the deployer
 * generates those values as `[A-Za-z0-9]`, and argv never passes through a shell). `interpolate` does what Nomad does,
 * for the tests.
 */
import type { DatabaseEngine } from '../compiler/model.ts';

/** ALLOC_DATA is the allocation's shared directory inside every task (`${NOMAD_ALLOC_DIR}/data`). */
export const ALLOC_DATA = '/alloc/data';

/** DUMP_FILES is the dump file name of each engine inside ALLOC_DATA (what Drover stats and hashes through Nomad's fs API). */
export const DUMP_FILES: Record<DatabaseEngine, string> = {
  postgres: 'dump.pgc',
  mysql: 'dump.sql',
  redis: 'dump.rdb',
  mongodb: 'dump.archive.gz',
};

/** MONGO_TOOLS_CONFIG is the mongo tools config file (YAML with `password:`) a template renders for mongodump/mongorestore. */
export const MONGO_TOOLS_CONFIG = '/secrets/mongo-tools.yaml';

/** dumpPath is the absolute path of an engine's dump file under `dir` (ALLOC_DATA in jobs). */
export function dumpPath(engine: DatabaseEngine, dir: string = ALLOC_DATA): string {
  return `${dir}/${DUMP_FILES[engine]}`;
}

/**
 * ENV_NAMES are the environment variables each engine's tools read, rendered by the backup/restore templates:
 * `DB_HOST`/`DB_PORT` at run time from the catalog, the rest from the database's generated credentials.
 */
export const ENV_NAMES: Record<DatabaseEngine, readonly string[]> = {
  postgres: ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'],
  mysql: ['DB_HOST', 'DB_PORT', 'DB_USER', 'MYSQL_PWD', 'DB_NAME'],
  redis: ['DB_HOST', 'DB_PORT', 'REDISCLI_AUTH'],
  mongodb: ['DB_HOST', 'DB_PORT', 'DB_USER'],
};

/**
 * dumpArgv is the native dump of one engine into `out`: `pg_dump -Fc`, `mysqldump --single-transaction`,
 * `redis-cli --rdb`, `mongodump --archive`. It exits non-zero when the dump is incomplete.
 */
export function dumpArgv(engine: DatabaseEngine, out: string = dumpPath(engine)): string[] {
  switch (engine) {
    case 'postgres':
      return ['pg_dump', '-Fc', '--no-owner', '--no-privileges', `--file=${out}`];
    case 'mysql':
      return [
        'mysqldump', '--protocol=TCP', '--host=${DB_HOST}', '--port=${DB_PORT}', '--user=${DB_USER}', '--single-transaction',
        '--quick', '--routines', '--triggers', '--no-tablespaces', `--result-file=${out}`, '${DB_NAME}',
      ];
    case 'redis':
      return ['redis-cli', '-h', '${DB_HOST}', '-p', '${DB_PORT}', '--no-auth-warning', '--rdb', out];
    case 'mongodb':
      return [
        'mongodump', '--host=${DB_HOST}', '--port=${DB_PORT}', '--username=${DB_USER}', '--authenticationDatabase=admin',
        `--config=${MONGO_TOOLS_CONFIG}`, `--archive=${out}`, '--gzip',
      ];
  }
}

/**
 * restoreArgv loads a dump into a running server (Postgres, MySQL, MongoDB): existing objects of the dump are
 * replaced, the tool stops at the first error. Redis is restored with redisRestoreSteps instead (stop, replace, start).
 */
export function restoreArgv(engine: Exclude<DatabaseEngine, 'redis'>, input: string = dumpPath(engine)): string[] {
  switch (engine) {
    case 'postgres':
      return ['pg_restore', '--clean', '--if-exists', '--no-owner', '--no-privileges', '--exit-on-error', '--single-transaction', '--dbname=${PGDATABASE}', input];
    case 'mysql':
      return [
        'mysql', '--protocol=TCP', '--host=${DB_HOST}', '--port=${DB_PORT}', '--user=${DB_USER}', '--database=${DB_NAME}',
        `--execute=source ${input}`,
      ];
    case 'mongodb':
      return [
        'mongorestore', '--host=${DB_HOST}', '--port=${DB_PORT}', '--username=${DB_USER}', '--authenticationDatabase=admin',
        `--config=${MONGO_TOOLS_CONFIG}`, `--archive=${input}`, '--gzip', '--drop',
      ];
  }
}

/**
 * redisRestoreSteps restores an RDB file into a stopped Redis data directory `dataDir` (the volume at `/data`):
 * `aside` moves the current append-only data out of the way (kept, never deleted: `<name>.before-<restoreId>`), then
 * `place` copies the RDB as `appendonly.aof` (an RDB is a valid AOF with an RDB preamble; Redis 7+ adopts it as the
 * base of a new multi-part AOF at start). The database job is started again afterwards. `restoreId` is an ID.
 */
export function redisRestoreSteps(version: string, restoreId: string, input: string = dumpPath('redis'), dataDir = '/data'): { aside: string[]; place: string[] } {
  if (!/^[a-z0-9-]{1,64}$/.test(restoreId)) throw new Error('internal: restore ID is not an ID');
  const current = Number(version) >= 7 ? 'appendonlydir' : 'appendonly.aof';
  return {
    aside: ['mv', `${dataDir}/${current}`, `${dataDir}/${current}.before-${restoreId}`],
    place: ['cp', input, `${dataDir}/appendonly.aof`],
  };
}

/**
 * POSTGRES_COUNT_SQL lists every user table with its exact row count, one `schema.table|count` line each.
 */
export const POSTGRES_COUNT_SQL = "SELECT table_schema || '.' || table_name, (xpath('/row/c/text()', query_to_xml(format('SELECT count(*) AS c FROM %I.%I', table_schema, table_name), false, true, '')))[1]::text::bigint FROM information_schema.tables WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1";

/** MYSQL_COUNT_SQL lists every table of the current database with its exact row count (tab-separated lines). */
export const MYSQL_COUNT_SQL = "SET @q = (SELECT IFNULL(GROUP_CONCAT(CONCAT('SELECT ''', table_name, ''', COUNT(*) FROM `', REPLACE(table_name, '`', '``'), '`') ORDER BY table_name SEPARATOR ' UNION ALL '), 'SELECT 1 FROM DUAL WHERE FALSE') FROM information_schema.tables WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'); PREPARE drover_counts FROM @q; EXECUTE drover_counts; DEALLOCATE PREPARE drover_counts";

/** countArgv prints what a restore verification records: tables with row counts, or the key count per Redis database. */
export function countArgv(engine: DatabaseEngine): string[] {
  switch (engine) {
    case 'postgres':
      return ['psql', '--no-psqlrc', '--no-align', '--tuples-only', '--set=ON_ERROR_STOP=1', `--command=${POSTGRES_COUNT_SQL}`];
    case 'mysql':
      return [
        'mysql', '--protocol=TCP', '--host=${DB_HOST}', '--port=${DB_PORT}', '--user=${DB_USER}', '--database=${DB_NAME}',
        '--batch', '--skip-column-names', `--execute=${MYSQL_COUNT_SQL}`,
      ];
    case 'redis':
      return ['redis-cli', '-h', '${DB_HOST}', '-p', '${DB_PORT}', '--no-auth-warning', 'INFO', 'keyspace'];
    case 'mongodb':
      return [
        'mongosh', '--quiet', '--host=${DB_HOST}', '--port=${DB_PORT}', '--username=${DB_USER}', '--authenticationDatabase=admin',
        '--eval', 'db.getMongo().getDBNames().forEach(function(d){var x=db.getSiblingDB(d);x.getCollectionNames().forEach(function(c){print(d+"."+c+"|"+x.getCollection(c).countDocuments({}))})})',
      ];
  }
}

/** Counts is what a verification found: row counts per table (collection), or key counts per Redis database. */
export type Counts = Record<string, number>;

/** parseCounts reads countArgv's output into counts; lines it does not understand are an error. */
export function parseCounts(engine: DatabaseEngine, output: string): Counts {
  const out: Counts = {};
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('# ')) continue;
    let m: RegExpMatchArray | null;
    if (engine === 'redis') m = /^(db\d+):keys=(\d+),/.exec(line);
    else if (engine === 'mysql') m = /^(.+)\t(\d+)$/.exec(line);
    else m = /^(.+)\|(\d+)$/.exec(line);
    if (!m?.[1] || m[2] === undefined) throw new Error(`unexpected count line ${JSON.stringify(line.slice(0, 80))}`);
    out[m[1]] = Number(m[2]);
  }
  return out;
}

/** S3_REMOTE is the rclone remote name the upload/download steps use; its settings come from `RCLONE_CONFIG_DROVER_*` env. */
export const S3_REMOTE = 'drover';

/** RCLONE_ENV_NAMES are the env variables a template renders for rclone (endpoint and credentials of the team's destination). */
export const RCLONE_ENV_NAMES = ['RCLONE_CONFIG_DROVER_ACCESS_KEY_ID', 'RCLONE_CONFIG_DROVER_SECRET_ACCESS_KEY'] as const;

/** BUCKET_PATTERN is an S3 bucket name Drover accepts (lower-case DNS-style, 3–63 characters). */
export const BUCKET_PATTERN: RegExp = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** OBJECT_KEY_PATTERN is an object key Drover builds (`<prefix>/<IDs>/<file>`: slugs, IDs, dots and slashes). */
export const OBJECT_KEY_PATTERN: RegExp = /^[a-z0-9][a-z0-9./-]{0,1000}$/;

function checkObject(bucket: string, key: string): void {
  if (!BUCKET_PATTERN.test(bucket)) throw new Error('internal: bucket is not a valid bucket name');
  // `${NOMAD_JOB_ID}` (a periodic child's `<job>/periodic-<unix>`) is the one interpolation a key may hold.
  const k = key.replace('/${NOMAD_JOB_ID}/', '/job/');
  if (!OBJECT_KEY_PATTERN.test(k) || k.includes('..') || k.includes('//')) throw new Error('internal: object key is not a Drover key');
}

/** uploadArgv uploads `file` to `bucket/key` with rclone (the `rclone/rclone` image); it fails when `file` is missing. */
export function uploadArgv(file: string, bucket: string, key: string): string[] {
  checkObject(bucket, key);
  return ['rclone', '--config=/dev/null', 'copyto', '--s3-no-check-bucket', '--retries=3', file, `${S3_REMOTE}:${bucket}/${key}`];
}

/** downloadArgv downloads `bucket/key` to `file` with rclone. */
export function downloadArgv(bucket: string, key: string, file: string): string[] {
  checkObject(bucket, key);
  return ['rclone', '--config=/dev/null', 'copyto', '--retries=3', `${S3_REMOTE}:${bucket}/${key}`, file];
}

/** rcloneEnv is the non-secret rclone configuration (remote type, provider, endpoint URL) as env variables. */
export function rcloneEnv(endpoint: string, region: string): Record<string, string> {
  const u = new URL(endpoint);
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('internal: endpoint is not http(s)');
  if (!/^[a-z0-9-]{0,32}$/.test(region)) throw new Error('internal: region is not a region');
  return {
    RCLONE_CONFIG_DROVER_TYPE: 's3',
    RCLONE_CONFIG_DROVER_PROVIDER: 'Other',
    RCLONE_CONFIG_DROVER_ENDPOINT: u.origin,
    RCLONE_CONFIG_DROVER_FORCE_PATH_STYLE: 'true',
    ...(region !== '' ? { RCLONE_CONFIG_DROVER_REGION: region } : {}),
  };
}

/**
 * interpolate replaces `${NAME}` in argv the way Nomad does with the task environment (unknown names stay as they
 * are). Tests use it to run the jobs' argv with the environment the templates would render.
 */
export function interpolate(argv: readonly string[], env: Record<string, string>): string[] {
  return argv.map((a) => a.replace(/\$\{([A-Za-z_][A-Za-z0-9_.]*)\}/g, (m, name: string) => env[name] ?? m));
}
