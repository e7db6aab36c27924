/**
 * Real engines for the backup tests: Debian's Postgres 15, MariaDB (the MySQL stand-in) and Redis started on
 * loopback free ports in temporary directories (as the `postgres`/`mysql` users where the server refuses root), an
 * S3-compatible server (s3rver) on loopback, and a runner that starts argv arrays with an explicit environment.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import S3rver from 's3rver';

/** PG_BIN is the Debian Postgres 15 binary directory (bookworm's server and client tools). */
export const PG_BIN = '/usr/lib/postgresql/15/bin';

/** BASE_PATH is the PATH every tool runs with. */
export const BASE_PATH = `${PG_BIN}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin`;

/** Run is a finished process. */
export interface Run {
  /** code is the exit code (null when killed by a signal). */
  code: number | null;
  /** signal is the signal that ended it. */
  signal: NodeJS.Signals | null;
  /** stdout is what it printed. */
  stdout: string;
  /** stderr is what it printed on stderr. */
  stderr: string;
}

/** start spawns argv (never a shell) with exactly `env` (plus PATH) and returns the child and its completion. */
export function start(argv: readonly string[], env: Record<string, string> = {}, o: { uid?: number; gid?: number; stdin?: string; cwd?: string } = {}): { child: ChildProcess; done: Promise<Run> } {
  const [cmd, ...args] = argv;
  if (cmd === undefined) throw new Error('empty argv');
  const child = spawn(cmd, args, {
    env: { PATH: BASE_PATH, HOME: o.cwd ?? tmpdir(), LANG: 'C.UTF-8', ...env },
    stdio: ['pipe', 'pipe', 'pipe'], ...(o.uid !== undefined ? { uid: o.uid, gid: o.gid } : {}), ...(o.cwd ? { cwd: o.cwd } : {}),
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (b: Buffer) => { stdout += b.toString(); });
  child.stderr?.on('data', (b: Buffer) => { stderr += b.toString(); });
  if (o.stdin !== undefined) child.stdin?.end(o.stdin);
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

/** run runs argv to completion. */
export function run(argv: readonly string[], env: Record<string, string> = {}, o: { uid?: number; gid?: number; stdin?: string; cwd?: string } = {}): Promise<Run> {
  return start(argv, env, o).done;
}

/** runOk runs argv and throws with its stderr unless it exits 0. */
export async function runOk(argv: readonly string[], env: Record<string, string> = {}, o: { uid?: number; gid?: number; stdin?: string } = {}): Promise<string> {
  const r = await run(argv, env, o);
  if (r.code !== 0) throw new Error(`${argv[0]} exited ${r.code ?? r.signal}: ${r.stderr.slice(0, 2000)}`);
  return r.stdout;
}

/** freePort returns a loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

/** userIds reads a system user's uid and gid from /etc/passwd. */
export function userIds(name: string): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(`${name}:`));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (uid === undefined || gid === undefined) throw new Error(`no user ${name} (install the Debian package that creates it)`);
  return { uid: Number(uid), gid: Number(gid) };
}

/** secret returns a generated `[A-Za-z0-9]` value, like the deployer's. */
export function secret(n = 24): string {
  return randomBytes(n * 2).toString('base64').replace(/[^A-Za-z0-9]/g, '').slice(0, n);
}

/** waitFor polls `check` every 100 ms until it holds; past `timeoutMs` it throws naming `what`. */
export async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** Server is a running engine. */
export interface Server {
  /** port is its loopback port. */
  port: number;
  /** child is its process. */
  child: ChildProcess;
  /** exited resolves when it ends. */
  exited: Promise<Run>;
  /** stop stops it (SIGTERM, then waits). */
  stop(): Promise<void>;
}

function serverOf(port: number, p: { child: ChildProcess; done: Promise<Run> }, cleanup: () => void): Server {
  return {
    port, child: p.child, exited: p.done,
    async stop() {
      if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGTERM');
      await p.done.catch(() => undefined);
      cleanup();
    },
  };
}

/** Postgres is a running Debian Postgres 15 with an owner role and database. */
export interface Postgres extends Server {
  /** env is what the tools read (PGHOST…PGDATABASE), as the backup template renders it. */
  env: Record<string, string>;
  /** psql runs SQL as the owner on `db` (default: the database) and returns unaligned tuples. */
  psql(sql: string, db?: string): Promise<string>;
}

/** startPostgres initdb's a cluster as the `postgres` user and starts it on a loopback port. */
export async function startPostgres(): Promise<Postgres> {
  const ids = userIds('postgres');
  const dir = mkdtempSync(join(tmpdir(), 'drover-pg-'));
  chownSync(dir, ids.uid, ids.gid);
  const data = join(dir, 'data');
  const password = secret();
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, `${password}\n`);
  chownSync(pwfile, ids.uid, ids.gid);
  await runOk([`${PG_BIN}/initdb`, '-D', data, '-U', 'owner', `--pwfile=${pwfile}`, '--auth=scram-sha-256', '-E', 'UTF8', '--no-sync'], {}, ids);
  const port = await freePort();
  const p = start([`${PG_BIN}/postgres`, '-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-c', 'fsync=off'], {}, ids);
  const env = { PGHOST: '127.0.0.1', PGPORT: String(port), PGUSER: 'owner', PGPASSWORD: password, PGDATABASE: 'app' };
  await waitFor('postgres', async () => (await run([`${PG_BIN}/pg_isready`, '-q'], env)).code === 0);
  await runOk([`${PG_BIN}/psql`, '-X', '-q', '-d', 'postgres', '-c', 'CREATE DATABASE app'], env);
  const server = serverOf(port, p, () => rmSync(dir, { recursive: true, force: true }));
  return {
    ...server, env,
    psql: (sql, db = 'app') => runOk([`${PG_BIN}/psql`, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', db, '-c', sql], env),
  };
}

/** MariaDB is a running MariaDB with an application user and database. */
export interface MariaDB extends Server {
  /** env is what the tools read (DB_HOST, DB_PORT, DB_USER, MYSQL_PWD, DB_NAME). */
  env: Record<string, string>;
  /** sql runs statements as root over the socket and returns batch output. */
  sql(sql: string, db?: string): Promise<string>;
  /** socket is the server's Unix socket. */
  socket: string;
}

/** startMariaDB installs a data directory as the `mysql` user and starts mariadbd on a loopback port. */
export async function startMariaDB(): Promise<MariaDB> {
  const ids = userIds('mysql');
  const dir = mkdtempSync(join(tmpdir(), 'drover-maria-'));
  chownSync(dir, ids.uid, ids.gid);
  chmodSync(dir, 0o755);
  const data = join(dir, 'data');
  await runOk(['mariadb-install-db', '--no-defaults', `--datadir=${data}`, '--user=mysql', '--skip-test-db', '--auth-root-authentication-method=socket']);
  const port = await freePort();
  const socket = join(dir, 'sock');
  const p = start(['mariadbd', '--no-defaults', `--datadir=${data}`, `--port=${port}`, '--bind-address=127.0.0.1', `--socket=${socket}`,
    '--user=mysql', `--pid-file=${join(dir, 'pid')}`, '--innodb-buffer-pool-size=64M', '--skip-log-bin', '--innodb-flush-log-at-trx-commit=0']);
  const root = (sql: string, db?: string): Promise<string> => runOk(['mariadb', '--no-defaults', `--socket=${socket}`, '-u', 'root', '--batch', '--skip-column-names', ...(db ? [`--database=${db}`] : []), `--execute=${sql}`]);
  await waitFor('mariadb', async () => (await run(['mariadb-admin', '--no-defaults', `--socket=${socket}`, '-u', 'root', 'ping'])).code === 0);
  const password = secret();
  await root(`CREATE DATABASE app; CREATE USER 'app'@'%' IDENTIFIED BY '${password}'; GRANT ALL ON app.* TO 'app'@'%'; GRANT ALL ON app_restored.* TO 'app'@'%';`);
  const env = { DB_HOST: '127.0.0.1', DB_PORT: String(port), DB_USER: 'app', MYSQL_PWD: password, DB_NAME: 'app' };
  const server = serverOf(port, p, () => rmSync(dir, { recursive: true, force: true }));
  return { ...server, env, sql: root, socket };
}

/** Redis is a running redis-server with a password and append-only persistence, like the database job's redis.conf. */
export interface Redis extends Server {
  /** env is what the tools read (DB_HOST, DB_PORT, REDISCLI_AUTH). */
  env: Record<string, string>;
  /** dir is its data directory (the volume). */
  dir: string;
  /** cli runs a redis-cli command. */
  cli(...args: string[]): Promise<string>;
}

/** startRedis starts redis-server with `dir` as its data directory (a new one unless given) and the password. */
export async function startRedis(o: { dir?: string; password?: string } = {}): Promise<Redis> {
  const dir = o.dir ?? mkdtempSync(join(tmpdir(), 'drover-redis-'));
  const password = o.password ?? secret();
  const port = await freePort();
  const conf = join(mkdtempSync(join(tmpdir(), 'drover-redis-conf-')), 'redis.conf');
  writeFileSync(conf, `requirepass "${password}"\nport ${port}\nbind 127.0.0.1\ndir ${dir}\nappendonly yes\nsave ""\n`);
  const p = start(['redis-server', conf]);
  const env = { DB_HOST: '127.0.0.1', DB_PORT: String(port), REDISCLI_AUTH: password };
  const cli = (...args: string[]): Promise<string> => runOk(['redis-cli', '-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', ...args], { REDISCLI_AUTH: password });
  await waitFor('redis', async () => (await run(['redis-cli', '-h', '127.0.0.1', '-p', String(port), '--no-auth-warning', 'PING'], { REDISCLI_AUTH: password })).stdout.trim() === 'PONG');
  const server = serverOf(port, p, () => rmSync(conf, { force: true }));
  return { ...server, env, dir, cli };
}

/** S3 is an S3-compatible server on loopback with one bucket. */
export interface S3 {
  /** endpoint is its http URL. */
  endpoint: string;
  /** bucket is the bucket it serves. */
  bucket: string;
  /** credentials are the access key pair it accepts. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** rcloneEnv is the secret part of rclone's configuration, as the upload template renders it. */
  rcloneSecrets: Record<string, string>;
  /** close stops it and removes its files. */
  close(): Promise<void>;
}

/** startS3 starts s3rver on a loopback port (its fixed credentials S3RVER/S3RVER) with `bucket`. */
export async function startS3(bucket = 'drover-backups'): Promise<S3> {
  const dir = mkdtempSync(join(tmpdir(), 'drover-s3-'));
  const server = new S3rver({ port: 0, address: '127.0.0.1', silent: true, directory: dir, configureBuckets: [{ name: bucket, configs: [] }] });
  const { port } = await server.run() as { port: number };
  const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
  return {
    endpoint: `http://127.0.0.1:${port}`, bucket, credentials,
    rcloneSecrets: { RCLONE_CONFIG_DROVER_ACCESS_KEY_ID: credentials.accessKeyId, RCLONE_CONFIG_DROVER_SECRET_ACCESS_KEY: credentials.secretAccessKey },
    async close() {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
