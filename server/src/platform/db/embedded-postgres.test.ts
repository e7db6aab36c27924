import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { POSTGRES_SYSTEM_USER, startEmbeddedPostgres } from './embedded-postgres.ts';
import { withClient } from './index.ts';

const fast = { fastInit: true, settings: { fsync: 'off' } };

function dataDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'drover-pg-'));
  chmodSync(d, 0o755); // the dedicated Postgres user must reach it when the tests run as root
  return d;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

async function waitGone(pid: number): Promise<void> {
  for (let i = 0; i < 200 && alive(pid); i++) await sleep(25);
  assert.equal(alive(pid), false, `process ${pid} is gone`);
}

describe('embedded Postgres', { concurrency: true }, () => {
  test('first start initialises the data directory with a generated password, runs unprivileged, and stops', async () => {
    const dir = dataDir();
    try {
      const sut = await startEmbeddedPostgres({ dataDir: dir, ...fast });
      try {
        assert.equal(sut.adopted, false);
        assert.ok(existsSync(join(dir, 'postgres', 'PG_VERSION')));
        const state = JSON.parse(readFileSync(join(dir, 'postgres.json'), 'utf8')) as { port: number; password: string };
        assert.equal(statSync(join(dir, 'postgres.json')).mode & 0o777, 0o600);
        assert.equal(state.port, sut.port);
        assert.ok(state.password.length >= 24, 'a generated password, never a default');
        assert.notEqual(state.password, 'password');
        const who = await withClient(sut.url(), (c) => c.query<{ v: string }>('SELECT current_setting(\'data_directory\') AS v'));
        assert.equal(who.rows[0]?.v, join(dir, 'postgres'));
        const bad = new URL(sut.url());
        bad.password = 'password';
        await assert.rejects(withClient(bad.toString(), (c) => c.query('SELECT 1')), /password authentication failed/);
        const owner = readFileSync(`/proc/${sut.pid}/status`, 'utf8').match(/^Uid:\s+(\d+)/m)?.[1];
        assert.notEqual(owner, '0', 'Postgres never runs as root');
        if (process.getuid?.() === 0) assert.equal(statSync(join(dir, 'postgres')).uid, Number(owner), `${POSTGRES_SYSTEM_USER} owns PGDATA`);
      } finally {
        await sut.stop();
      }
      await waitGone(sut.pid);
      assert.equal(existsSync(join(dir, 'postgres', 'postmaster.pid')), false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a restart reuses the data and the port, and moves to a free port when another program took it', async () => {
    const dir = dataDir();
    try {
      const first = await startEmbeddedPostgres({ dataDir: dir, ...fast });
      await withClient(first.url(), (c) => c.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'still here\')'));
      await first.stop();
      const sut = await startEmbeddedPostgres({ dataDir: dir, ...fast });
      try {
        assert.equal(sut.adopted, false);
        assert.equal(sut.port, first.port);
        const r = await withClient(sut.url(), (c) => c.query<{ v: string }>('SELECT v FROM kept'));
        assert.deepEqual(r.rows, [{ v: 'still here' }]);
      } finally {
        await sut.stop();
      }
      // Another program took the recorded port meanwhile: Drover moves to a free one and records it.
      const squatter = createServer();
      await new Promise<void>((res) => squatter.listen(first.port, '127.0.0.1', res));
      try {
        const moved = await startEmbeddedPostgres({ dataDir: dir, ...fast });
        try {
          assert.notEqual(moved.port, first.port);
          assert.equal((JSON.parse(readFileSync(join(dir, 'postgres.json'), 'utf8')) as { port: number }).port, moved.port);
          const r = await withClient(moved.url(), (c) => c.query<{ v: string }>('SELECT v FROM kept'));
          assert.deepEqual(r.rows, [{ v: 'still here' }]);
        } finally {
          await moved.stop();
        }
      } finally {
        squatter.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a postmaster left behind by a SIGKILLed owner is found through postmaster.pid and reused', async () => {
    const dir = dataDir();
    try {
      const moduleUrl = new URL('./embedded-postgres.ts', import.meta.url).href;
      const code = `import { startEmbeddedPostgres } from ${JSON.stringify(moduleUrl)};
        const pg = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dir)}, fastInit: true });
        const { default: pgm } = await import('pg');
        const c = new pgm.Client({ connectionString: pg.url() }); await c.connect();
        await c.query("CREATE TABLE kept (v text); INSERT INTO kept VALUES ('from the killed owner')"); await c.end();
        console.log('READY ' + pg.pid); setInterval(() => {}, 1000);`;
      const owner = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
      const postmaster = await new Promise<number>((res, rej) => {
        let out = '';
        owner.stdout.on('data', (d: Buffer) => {
          out += d.toString();
          const m = out.match(/READY (\d+)/);
          if (m) res(Number(m[1]));
        });
        owner.on('exit', (c) => rej(new Error(`owner exited ${c}`)));
      });
      owner.kill('SIGKILL');
      await new Promise((r) => owner.once('exit', r));
      assert.ok(alive(postmaster), 'the postmaster outlives its killed owner');

      const sut = await startEmbeddedPostgres({ dataDir: dir, ...fast });
      try {
        assert.equal(sut.adopted, true);
        assert.equal(sut.pid, postmaster);
        const r = await withClient(sut.url(), (c) => c.query<{ v: string }>('SELECT v FROM kept'));
        assert.deepEqual(r.rows, [{ v: 'from the killed owner' }]);
      } finally {
        await sut.stop();
      }
      await waitGone(postmaster);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('a stale postmaster.pid (dead postmaster, or a pid now used by another process) does not block the start', async () => {
    const dir = dataDir();
    try {
      const first = await startEmbeddedPostgres({ dataDir: dir, ...fast });
      await withClient(first.url(), (c) => c.query('CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'survives a crash\')'));
      process.kill(first.pid, 'SIGKILL'); // the postmaster itself dies: its lock file stays behind
      await waitGone(first.pid);
      for (let i = 0; i < 100; i++) { // its backends notice the dead postmaster and exit
        const left = await import('node:fs').then((fs) => fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p)).filter((p) => {
          try { return fs.readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(join(dir, 'postgres')); } catch { return false; }
        }));
        if (left.length === 0) break;
        await sleep(50);
      }
      assert.ok(existsSync(join(dir, 'postgres', 'postmaster.pid')));
      const second = await startEmbeddedPostgres({ dataDir: dir, ...fast });
      assert.equal(second.adopted, false);
      const r = await withClient(second.url(), (c) => c.query<{ v: string }>('SELECT v FROM kept'));
      assert.deepEqual(r.rows, [{ v: 'survives a crash' }]);
      await second.stop();

      // A lock file naming a live process that is not Postgres (pid reuse).
      writeFileSync(join(dir, 'postgres', 'postmaster.pid'), `${process.pid}\n${join(dir, 'postgres')}\n0\n${second.port}\n\n127.0.0.1\n0 0\nready\n`);
      const sut = await startEmbeddedPostgres({ dataDir: dir, ...fast });
      try {
        assert.equal(sut.adopted, false);
        assert.notEqual(sut.pid, process.pid);
        await withClient(sut.url(), (c) => c.query('SELECT 1'));
      } finally {
        await sut.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
