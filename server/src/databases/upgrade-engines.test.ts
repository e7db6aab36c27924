/**
 * A major Postgres upgrade's data path with real servers of two majors: the backup job's exact dump argv against
 * Debian's Postgres 15, the object through the jobs' rclone argv and s3rver, and the restore job's exact restore argv
 * into a newer major — the embedded Postgres the test suite runs (18). What cannot be real here: the job restores with
 * the NEW version's pg_restore (postgres:<new> image) while Debian ships only the 15 client tools, so this runs
 * pg_restore 15 against the newer server; the new-tools-read-old-dumps direction is checked at the argv level in
 * scheduler/src/databases/jobs.test.ts.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { countArgv, downloadArgv, dumpArgv, interpolate, parseCounts, rcloneEnv, restoreArgv, uploadArgv } from '@drover/scheduler/databases/argv.ts';
import { createTestDatabase, type TestDatabase } from '../testing/db.ts';
import { PG_BIN, runOk, startPostgres, startS3, type Postgres, type S3 } from '../backups/testing/engines.ts';

let s3: S3;
let work: string;
let source: Postgres;
let target: TestDatabase;

before(async () => {
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'drover-major-'));
  source = await startPostgres();
  target = await createTestDatabase({ empty: true });
});
after(async () => {
  await target?.cleanup();
  await source?.stop();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** envOf is what the restore template renders for the tools, from a postgres:// URL. */
function envOf(url: string): Record<string, string> {
  const u = new URL(url);
  return { PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: decodeURIComponent(u.username), PGPASSWORD: decodeURIComponent(u.password), PGDATABASE: u.pathname.slice(1) };
}

const psql = (env: Record<string, string>, sql: string): Promise<string> => runOk([`${PG_BIN}/psql`, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], env);

test('a dump of Postgres 15 made with the backup job’s argv restores with the restore job’s argv into a newer major, data and counts equal', async () => {
  const to = envOf(target.url);
  const fromMajor = Math.floor(Number((await psql(source.env, 'SHOW server_version_num')).trim()) / 10000);
  const toMajor = Math.floor(Number((await psql(to, 'SHOW server_version_num')).trim()) / 10000);
  assert.equal(fromMajor, 15);
  assert.ok(toMajor > fromMajor, `the target is a newer major (${toMajor})`);

  await source.psql(`CREATE TABLE accounts (id int PRIMARY KEY, email text UNIQUE NOT NULL, meta jsonb, created timestamptz DEFAULT now());
    CREATE TABLE entries (id bigserial PRIMARY KEY, account int REFERENCES accounts, amount numeric(12,2), tags text[]);
    CREATE INDEX entries_account ON entries (account);
    CREATE VIEW balances AS SELECT account, sum(amount) AS total FROM entries GROUP BY account;
    INSERT INTO accounts SELECT g, 'user' || g || '@example.test', jsonb_build_object('n', g) FROM generate_series(1, 300) g;
    INSERT INTO entries (account, amount, tags) SELECT 1 + g % 300, g * 0.25, ARRAY['t' || g % 7] FROM generate_series(1, 12000) g;`);

  // The backup job: pg_dump -Fc into the allocation's directory, then the poststop rclone upload.
  const key = 'drover/t-acme-00000000/db/upgrade/dump.pgc';
  const dumped = join(work, 'dump.pgc');
  await runOk(interpolate(dumpArgv('postgres', dumped), source.env), source.env);
  const rclone = { ...rcloneEnv(s3.endpoint, ''), ...s3.rcloneSecrets };
  await runOk(uploadArgv(dumped, s3.bucket, key), rclone);

  // The restore job on the new major: the prestart download, then pg_restore into the new server's database.
  const fetched = join(work, 'restore.pgc');
  await runOk(downloadArgv(s3.bucket, key, fetched), rclone);
  await runOk(interpolate(restoreArgv('postgres', fetched), to), to);

  const snapshot = (env: Record<string, string>) => psql(env, `SELECT md5(string_agg(a::text, ',' ORDER BY id)) FROM (SELECT id, email, meta FROM accounts) a
    UNION ALL SELECT md5(string_agg(e::text, ',' ORDER BY id)) FROM entries e
    UNION ALL SELECT md5(string_agg(b::text, ',' ORDER BY account)) FROM balances b`);
  assert.equal(await snapshot(to), await snapshot(source.env));
  assert.equal((await psql(to, "SELECT nextval('entries_id_seq')")).trim(), '12001', 'sequences carry over');
  const counts = parseCounts('postgres', await runOk(interpolate(countArgv('postgres'), to), to));
  assert.deepEqual(counts, { 'public.accounts': 300, 'public.entries': 12000 });
});
