/**
 * Test Redis: `startRedisServer` runs Debian's `redis-server` (argv, no persistence) on a free loopback port;
 * `testRedisUrl` reads the URL the global setup exported. Only test code imports this module.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { Socket } from 'node:net';
import { freePort } from '../platform/db/embedded-postgres.ts';

/** RedisServer is a running redis-server child process. */
export interface RedisServer {
  /** url is `redis://127.0.0.1:<port>`. */
  readonly url: string;
  /** port is its loopback port. */
  readonly port: number;
  /** pid is its process id. */
  readonly pid: number;
  /** stop terminates it (SIGTERM, SIGKILL after 5 s) and waits for the exit. */
  stop(): Promise<void>;
}

function pingOnce(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = new Socket();
    let buf = '';
    const done = (ok: boolean) => { s.destroy(); res(ok); };
    s.setTimeout(500, () => done(false));
    s.once('error', () => done(false));
    s.on('data', (d) => { buf += d.toString(); if (buf.includes('\r\n')) done(buf.startsWith('+PONG')); });
    s.connect(port, '127.0.0.1', () => s.write('PING\r\n'));
  });
}

/** startRedisServer starts `redis-server` on a free port (or `port`), with no RDB/AOF, and waits for PONG. */
export async function startRedisServer(port?: number): Promise<RedisServer> {
  const p = port ?? (await freePort());
  const child = spawn('redis-server', ['--port', String(p), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
    '--daemonize', 'no', '--protected-mode', 'yes', '--loglevel', 'warning', '--dir', '/tmp'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let exited: string | undefined;
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
  const exit = new Promise<void>((res) => child.once('exit', (code, sig) => { exited = String(code ?? sig); res(); }));
  child.once('error', (e) => { exited = e.message; });
  const until = Date.now() + 10_000;
  while (!(await pingOnce(p))) {
    if (exited !== undefined) throw new Error(`redis-server exited (${exited}): ${stderr.trim()} — is the Debian package redis-server installed?`);
    if (Date.now() > until) { child.kill('SIGKILL'); throw new Error('redis-server did not answer PING within 10 s'); }
    await new Promise((r) => setTimeout(r, 20));
  }
  let stopping: Promise<void> | undefined;
  return {
    url: `redis://127.0.0.1:${p}`,
    port: p,
    pid: child.pid ?? 0,
    stop: () => (stopping ??= (async () => {
      if (exited !== undefined) return;
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exit;
      clearTimeout(t);
    })()),
  };
}

/** testRedisUrl returns the shared test Redis URL exported by test/global-setup.ts (DROVER_TEST_REDIS_URL). */
export function testRedisUrl(): string {
  const url = process.env.DROVER_TEST_REDIS_URL;
  if (!url) throw new Error('DROVER_TEST_REDIS_URL is unset: run tests through `npm run test:node` (test/global-setup.ts starts Redis)');
  return url;
}

/** uniqueRedisPrefix returns a key prefix no other test uses, so suites share one Redis without clashing. */
export function uniqueRedisPrefix(): string {
  return `test:${process.pid}:${randomBytes(4).toString('hex')}:`;
}
