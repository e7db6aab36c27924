/**
 * Real-engine backup tests: the exact argv of the jobs (scheduler/src/databases/argv.ts, interpolated as Nomad does
 * with the environment the templates render) against Debian's Postgres 15, MariaDB and Redis, uploading and
 * downloading with Debian's rclone (what the job's rclone image runs) to s3rver on loopback, and the verdict taken
 * by judgeBackup from the dump file and the object read back through the S3 adapter.
 */
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  countArgv, downloadArgv, dumpArgv, interpolate, parseCounts, rcloneEnv, redisRestoreSteps, restoreArgv, uploadArgv,
} from '@drover/scheduler/databases/argv.ts';
import type { DatabaseEngine } from '@drover/scheduler/compiler/model.ts';
import { judgeBackup as sut, judgeVerification } from './outcome.ts';
import type { FileDigest } from './outcome.ts';
import { digestObject } from './s3.ts';
import { run, runOk, start, startMariaDB, startPostgres, startRedis, startS3, waitFor } from './testing/engines.ts';
import type { S3 } from './testing/engines.ts';

let s3: S3;
let work: string;
before(async () => {
  s3 = await startS3();
  work = mkdtempSync(join(tmpdir(), 'drover-backup-'));
});
after(async () => {
  await s3.close();
  rmSync(work, { recursive: true, force: true });
});

const digestFile = (path: string): FileDigest | null => {
  if (!existsSync(path)) return null;
  const b = readFileSync(path);
  return { size: b.byteLength, sha256: createHash('sha256').update(b).digest('hex') };
};

function rclone(): Record<string, string> {
  return { ...rcloneEnv(s3.endpoint, ''), ...s3.rcloneSecrets };
}

/** backup runs the job's two tasks (dump, then the poststop upload whatever happened) and judges the result. */
async function backup(engine: DatabaseEngine, env: Record<string, string>, key: string, during?: (dump: ReturnType<typeof start>, file: string) => Promise<void>) {
  const file = join(work, `${key.replaceAll('/', '_')}.${engine}`);
  const dump = start(interpolate(dumpArgv(engine, file), env), env);
  if (during) await during(dump, file);
  const r = await dump.done;
  const upload = await run(uploadArgv(file, s3.bucket, key), rclone());
  const object = await digestObject({ endpoint: s3.endpoint, region: '', bucket: s3.bucket, key }, s3.credentials);
  const verdict = sut({
    dump: { state: 'dead', failed: r.code !== 0, exitCode: r.code },
    file: digestFile(file),
    object: object.ok ? object.digest : null,
    ...(object.ok ? {} : { objectError: object.error }),
  });
  return { verdict, file, dump: r, upload, object };
}

/** fetchBack downloads with the restore job's download argv. */
async function fetchBack(engine: DatabaseEngine, key: string): Promise<string> {
  const file = join(work, `restore-${key.replaceAll('/', '_')}.${engine}`);
  await runOk(downloadArgv(s3.bucket, key, file), rclone());
  return file;
}

test('Postgres: pg_dump -Fc → rclone → verified; restored into a new database the data and the counts equal the source; truncated or altered objects fail; killed mid-dump fails', async () => {
  const pg = await startPostgres();
  try {
    await pg.psql(`CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL);
      CREATE TABLE orders (id bigserial PRIMARY KEY, customer int REFERENCES customers, total numeric(10,2), note text);
      INSERT INTO customers SELECT g, 'customer ' || g FROM generate_series(1, 500) g;
      INSERT INTO orders (customer, total, note) SELECT 1 + g % 500, g * 1.5, md5(g::text) FROM generate_series(1, 20000) g;`);
    const source = { 'public.customers': 500, 'public.orders': 20000 };

    const good = await backup('postgres', pg.env, 'pg/good/dump.pgc');
    assert.equal(good.dump.code, 0, good.dump.stderr);
    assert.equal(good.upload.code, 0, good.upload.stderr);
    assert.equal(good.verdict.status, 'succeeded', good.verdict.reason ?? '');

    // Restore into a new database with the restore job's download and restore argv.
    const file = await fetchBack('postgres', 'pg/good/dump.pgc');
    await pg.psql('CREATE DATABASE restored', 'postgres');
    const target = { ...pg.env, PGDATABASE: 'restored' };
    await runOk(interpolate(restoreArgv('postgres', file), target), target);
    const snapshot = (db: string) => pg.psql('SELECT md5(string_agg(c::text, \',\' ORDER BY id)) FROM customers c UNION ALL SELECT md5(string_agg(o::text, \',\' ORDER BY id)) FROM orders o', db);
    assert.equal(await snapshot('restored'), await snapshot('app'));
    // Verification records the counts it found.
    const check = await run(interpolate(countArgv('postgres'), target), target);
    const verification = judgeVerification({ state: 'dead', failed: check.code !== 0, exitCode: check.code }, check.stdout, (o) => parseCounts('postgres', o));
    assert.equal(verification.status, 'succeeded', verification.reason ?? '');
    assert.deepEqual(verification.counts, source);
    // An empty restore (the scratch database without the dump) is not a verified backup.
    await pg.psql('CREATE DATABASE scratch_empty', 'postgres');
    const empty = { ...pg.env, PGDATABASE: 'scratch_empty' };
    const none = await run(interpolate(countArgv('postgres'), empty), empty);
    assert.equal(judgeVerification({ state: 'dead', failed: false, exitCode: none.code }, none.stdout, (o) => parseCounts('postgres', o)).status, 'failed');

    // An object truncated after upload, then one altered in place, fail verification.
    const bytes = readFileSync(good.file);
    const truncated = join(work, 'truncated.pgc');
    writeFileSync(truncated, bytes.subarray(0, bytes.byteLength - 100));
    await runOk(uploadArgv(truncated, s3.bucket, 'pg/good/dump.pgc'), rclone());
    const t = await digestObject({ endpoint: s3.endpoint, region: '', bucket: s3.bucket, key: 'pg/good/dump.pgc' }, s3.credentials);
    assert.ok(t.ok);
    const v1 = sut({ dump: { state: 'dead', failed: false, exitCode: 0 }, file: good.verdict.digest, object: t.digest });
    assert.equal(v1.status, 'failed');
    assert.match(v1.reason ?? '', /bytes/);
    const altered = Buffer.from(bytes);
    altered[altered.byteLength >> 1] = (altered[altered.byteLength >> 1]! + 1) % 256;
    writeFileSync(truncated, altered);
    await runOk(uploadArgv(truncated, s3.bucket, 'pg/good/dump.pgc'), rclone());
    const a = await digestObject({ endpoint: s3.endpoint, region: '', bucket: s3.bucket, key: 'pg/good/dump.pgc' }, s3.credentials);
    assert.ok(a.ok);
    assert.equal(a.digest.size, good.verdict.digest?.size);
    const v2 = sut({ dump: { state: 'dead', failed: false, exitCode: 0 }, file: good.verdict.digest, object: a.digest });
    assert.equal(v2.status, 'failed');
    assert.match(v2.reason ?? '', /SHA-256/);

    // Killed mid-dump: a session holds a lock pg_dump waits for, the server dies while pg_dump holds the file open.
    const locker = start([`/usr/lib/postgresql/15/bin/psql`, '-X', '-q', '-d', 'app'], pg.env);
    locker.child.stdin?.write('BEGIN; LOCK TABLE orders IN ACCESS EXCLUSIVE MODE; SELECT pg_sleep(60);\n');
    // The dump must start only once the lock is held, or a slow psql start lets pg_dump finish before it is killed.
    await waitFor('the lock on orders', async () =>
      (await pg.psql("SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'orders' AND l.mode = 'AccessExclusiveLock' AND l.granted")).trim() === '1');
    const killed = await backup('postgres', pg.env, 'pg/killed/dump.pgc', async () => {
      for (let i = 0; i < 200; i++) {
        const waiting = await pg.psql("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pg_dump' AND wait_event_type = 'Lock'");
        if (waiting.trim() === '1') break;
        await new Promise((r) => setTimeout(r, 50));
      }
      pg.child.kill('SIGKILL');
    });
    locker.child.kill('SIGKILL');
    await locker.done;
    assert.notEqual(killed.dump.code, 0);
    assert.equal(killed.verdict.status, 'failed');
    assert.match(killed.verdict.reason ?? '', /dump task exited with code/);
    // The uploader still ran (poststop) and uploaded what was there: the verdict does not care.
    assert.equal(killed.upload.code, 0, killed.upload.stderr);
    assert.ok(killed.object.ok, 'a partial object was uploaded');
  } finally {
    await pg.stop();
  }
});

test('MariaDB (MySQL stand-in): mysqldump --single-transaction → rclone → verified; restored data and counts equal; killed mid-dump fails though a partial object was uploaded', async () => {
  const db = await startMariaDB();
  try {
    await db.sql(`CREATE TABLE a_users (id int PRIMARY KEY, email varchar(200) NOT NULL);
      CREATE TABLE b_events (id int AUTO_INCREMENT PRIMARY KEY, user_id int, payload text);
      INSERT INTO a_users SELECT seq, CONCAT('u', seq, '@example.com') FROM seq_1_to_300;
      INSERT INTO b_events (user_id, payload) SELECT 1 + seq % 300, MD5(seq) FROM seq_1_to_5000;`, 'app');
    const good = await backup('mysql', db.env, 'maria/good/dump.sql');
    assert.equal(good.dump.code, 0, good.dump.stderr);
    assert.equal(good.verdict.status, 'succeeded', good.verdict.reason ?? '');

    const file = await fetchBack('mysql', 'maria/good/dump.sql');
    await db.sql('CREATE DATABASE app_restored');
    const target = { ...db.env, DB_NAME: 'app_restored' };
    await runOk(interpolate(restoreArgv('mysql', file), target), target);
    const snapshot = (name: string) => db.sql('SELECT MD5(GROUP_CONCAT(id, email ORDER BY id)) FROM a_users UNION ALL SELECT MD5(GROUP_CONCAT(id, user_id, payload ORDER BY id)) FROM b_events', name);
    assert.equal(await snapshot('app_restored'), await snapshot('app'));
    const check = await run(interpolate(countArgv('mysql'), target), target);
    const verification = judgeVerification({ state: 'dead', failed: check.code !== 0, exitCode: check.code }, check.stdout, (o) => parseCounts('mysql', o));
    assert.deepEqual(verification.counts, { a_users: 300, b_events: 5000 });

    // Killed mid-dump: b_events is write-locked, mysqldump has written a_users and waits; the server is killed.
    const locker = start(['mariadb', '--no-defaults', `--socket=${db.socket}`, '-u', 'root', 'app']);
    locker.child.stdin?.write('LOCK TABLES b_events WRITE; SELECT SLEEP(60);\n');
    // The dump must start only once the lock is held, or a slow client start lets mysqldump finish before the kill.
    await waitFor('the lock on b_events', async () =>
      (await db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE info LIKE 'SELECT SLEEP(60)%'")).trim() !== '0');
    const killed = await backup('mysql', db.env, 'maria/killed/dump.sql', async (_dump, path) => {
      for (let i = 0; i < 200; i++) {
        const waiting = await db.sql("SELECT COUNT(*) FROM information_schema.processlist WHERE state LIKE 'Waiting for table%'");
        if (waiting.trim() !== '0' && existsSync(path) && statSync(path).size > 0) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      db.child.kill('SIGKILL');
    });
    locker.child.kill('SIGKILL');
    await locker.done;
    assert.notEqual(killed.dump.code, 0);
    assert.equal(killed.verdict.status, 'failed');
    assert.match(killed.verdict.reason ?? '', /dump task exited with code/);
    assert.ok(killed.object.ok, 'a partial object was uploaded');
    assert.ok((killed.verdict.digest?.size ?? 0) > 0);
  } finally {
    await db.stop();
  }
});

test('Redis: redis-cli --rdb → rclone → verified; stop, move the AOF aside (kept), place the RDB, start: the keys equal the source; killed mid-dump fails', async () => {
  const redis = await startRedis();
  try {
    await redis.cli('DEBUG', 'POPULATE', '1000', 'key', '32').catch(async () => {
      for (let i = 0; i < 1000; i++) await redis.cli('SET', `key:${i}`, `value-${i}`);
    });
    await redis.cli('HSET', 'user:1', 'name', 'Ada', 'lang', 'en');
    const sourceCount = Number((await redis.cli('DBSIZE')).trim());
    const good = await backup('redis', redis.env, 'redis/good/dump.rdb');
    assert.equal(good.dump.code, 0, good.dump.stderr);
    assert.equal(good.verdict.status, 'succeeded', good.verdict.reason ?? '');

    // Restore into a database that already has data: stop it, move its AOF aside, place the RDB, start.
    const target = await startRedis();
    await target.cli('SET', 'stale', 'yes');
    const password = target.env.REDISCLI_AUTH!;
    await target.stop();
    const file = await fetchBack('redis', 'redis/good/dump.rdb');
    const steps = redisRestoreSteps('7', 'r1', file, target.dir);
    await runOk(steps.aside);
    await runOk(steps.place);
    const restored = await startRedis({ dir: target.dir, password });
    try {
      assert.equal(Number((await restored.cli('DBSIZE')).trim()), sourceCount);
      assert.equal((await restored.cli('GET', 'stale')).trim(), '');
      assert.equal((await restored.cli('HGET', 'user:1', 'name')).trim(), 'Ada');
      assert.ok(existsSync(join(target.dir, 'appendonlydir.before-r1')), 'the previous data is kept');
      const check = await run(interpolate(countArgv('redis'), restored.env), restored.env);
      const verification = judgeVerification({ state: 'dead', failed: check.code !== 0, exitCode: check.code }, check.stdout, (o) => parseCounts('redis', o));
      assert.equal(verification.status, 'succeeded', verification.reason ?? '');
      assert.deepEqual(verification.counts, { db0: sourceCount });
      // A restart keeps the restored data (it became the new AOF base).
      await restored.cli('SET', 'after', '1');
    } finally {
      await restored.stop();
    }
    const again = await startRedis({ dir: target.dir, password });
    assert.equal(Number((await again.cli('DBSIZE')).trim()), sourceCount + 1);
    await again.stop();
    rmSync(target.dir, { recursive: true, force: true });

    // Killed mid-dump: saving is slowed per key, the server dies during the transfer.
    await redis.cli('CONFIG', 'SET', 'rdb-key-save-delay', '2000');
    const killed = await backup('redis', redis.env, 'redis/killed/dump.rdb', async () => {
      await new Promise((r) => setTimeout(r, 500));
      redis.child.kill('SIGKILL');
    });
    assert.notEqual(killed.dump.code, 0);
    assert.equal(killed.verdict.status, 'failed');
  } finally {
    await redis.stop();
    rmSync(redis.dir, { recursive: true, force: true });
  }
});
