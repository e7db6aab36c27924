import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import type { Readable } from 'node:stream';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './platform/db/embedded-postgres.ts';

const main = new URL('./main.ts', import.meta.url).pathname;

interface Running {
  proc: ChildProcessByStdio<null, Readable, Readable>;
  url: string;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function cleanEnv(extra: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(DROVER_|DATABASE_URL|REDIS_URL|NOMAD_|CONSUL_|VAULT_|NODE_ENV)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

async function startServer(dataDir: string, options: { uid?: number; env?: Record<string, string> } = {}): Promise<Running> {
  const port = await freePort();
  const proc = spawn(process.execPath, [main], {
    env: cleanEnv({ DROVER_DATA_DIR: dataDir, DROVER_PORT: String(port), DROVER_LOG_LEVEL: 'info', ...(options.uid === undefined ? {} : { HOME: dataDir }), ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(options.uid === undefined ? {} : { uid: options.uid, gid: options.uid }),
  });
  let out = '';
  proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => proc.once('exit', (code, signal) => res({ code, signal })));
  return { proc, url: `http://127.0.0.1:${port}`, output: () => out, exited };
}

async function waitFor(r: Running, path: string, timeoutMs = 90_000): Promise<Response> {
  const until = Date.now() + timeoutMs;
  let exited = false;
  void r.exited.then(() => { exited = true; });
  for (;;) {
    try {
      const res = await fetch(r.url + path);
      if (res.status === 200) return res;
    } catch {
      // not listening yet
    }
    if (exited) throw new Error(`server exited before ${path} answered 200:\n${r.output()}`);
    if (Date.now() > until) throw new Error(`${path} did not answer 200 within ${timeoutMs} ms:\n${r.output()}`);
    await sleep(100);
  }
}

function postmasterPid(dataDir: string): number {
  return Number(readFileSync(join(dataDir, 'postgres', 'postmaster.pid'), 'utf8').split('\n')[0]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function stopAndCheck(r: Running, dataDir: string): Promise<void> {
  const pg = postmasterPid(dataDir);
  r.proc.kill('SIGTERM');
  const { code, signal } = await r.exited;
  assert.deepEqual({ code, signal }, { code: 0, signal: null }, r.output());
  assert.match(r.output(), /"msg":"stopped"/);
  assert.equal(alive(pg), false, 'embedded Postgres stopped with Drover');
  assert.equal(existsSync(join(dataDir, 'postgres', 'postmaster.pid')), false);
}

function tempDataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'drover-main-'));
  chmodSync(d, 0o755);
  return join(d, 'data');
}

describe('the drover server process', { concurrency: true }, () => {
  test('starts on embedded defaults, answers /healthz and /readyz, stops cleanly on SIGTERM, and reuses its data', async () => {
    const dataDir = tempDataDir();
    try {
      const first = await startServer(dataDir);
      try {
        await waitFor(first, '/healthz');
        const ready = await waitFor(first, '/readyz');
        assert.deepEqual(await ready.json(), { status: 'ready', checks: { postgres: 'ok' } });
        assert.match(first.output(), /Drover is listening on http:\/\/127\.0\.0\.1:\d+/);
        assert.match(first.output(), /initialising/);
        const doc = await fetch(`${first.url}/api/openapi.json`);
        assert.equal(doc.status, 200);
        assert.match(String(((await doc.json()) as { openapi?: string }).openapi), /^3\.1\./);
        const setup = await fetch(`${first.url}/api/setup`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'owner@example.com', name: 'Owner', password: 'a long enough passphrase 42', teamName: 'First', teamSlug: 'first' }),
        });
        assert.equal(setup.status, 201, await setup.clone().text());
      } finally {
        await stopAndCheck(first, dataDir);
      }
      const key = readFileSync(join(dataDir, 'secret.key'), 'utf8');

      const second = await startServer(dataDir);
      try {
        await waitFor(second, '/readyz');
        assert.doesNotMatch(second.output(), /initialising/, 'the data directory is reused');
        assert.doesNotMatch(second.output(), /migrations applied/, 'migrations ran once');
        assert.equal(readFileSync(join(dataDir, 'secret.key'), 'utf8'), key, 'the secret key is kept');
        assert.deepEqual(await (await fetch(`${second.url}/api/setup`)).json(), { open: false }, 'the first owner is still there');
      } finally {
        await stopAndCheck(second, dataDir);
      }
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });

  test('runs as an unprivileged user too (Drover itself not root)', async () => {
    const dataDir = tempDataDir();
    const root = process.getuid?.() === 0;
    const nobody = 65534;
    if (root) chownSync(join(dataDir, '..'), nobody, nobody);
    try {
      const r = await startServer(dataDir, root ? { uid: nobody } : {});
      assert.notEqual(r.proc.pid, undefined);
      try {
        await waitFor(r, '/readyz');
      } finally {
        await stopAndCheck(r, dataDir);
      }
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });

  test('exits 1 listing every bad variable', async () => {
    const dataDir = tempDataDir();
    try {
      const r = await startServer(dataDir, { env: { NODE_ENV: 'production', DROVER_PORT: 'eighty', REDIS_URL: 'http://nope' } });
      const { code } = await r.exited;
      assert.equal(code, 1);
      for (const v of ['DROVER_PORT', 'DROVER_SECRET_KEY', 'REDIS_URL']) assert.match(r.output(), new RegExp(`${v}:`));
      assert.equal(existsSync(join(dataDir, 'postgres')), false, 'nothing started');
    } finally {
      rmSync(join(dataDir, '..'), { recursive: true, force: true });
    }
  });
});
