/**
 * Reconciler logging when the cluster is unreachable: one warning when passes start failing, debug lines while they
 * keep failing, one info line when a pass succeeds again (real Postgres; Nomad is a closed port, then the double).
 */
import assert from 'node:assert/strict';
import { connect, createServer, type Server } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { createMemoryCoordination } from '../platform/coordination/index.ts';
import { createLogger } from '../platform/logger.ts';
import { createTestDatabase, type TestDatabase } from '../testing/db.ts';
import { Reconciler } from './reconciler.ts';
import { DeploymentStore } from './store.ts';

/** closedPort returns a loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function aReconciler(db: TestDatabase, address: string, lines: { level: string; msg: string }[]): { sut: Reconciler; nomad: NomadClient } {
  const sink = new Writable({ write(chunk, _e, cb) { for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l)); cb(); } });
  const nomad = new NomadClient({ address, retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 10 } });
  const sut = new Reconciler(
    { dataSource: db.dataSource, store: new DeploymentStore(db.dataSource), nomad, bus: createMemoryCoordination().events, logger: createLogger('debug', sink) },
    { intervalMs: 40 },
  );
  return { sut, nomad };
}

describe('reconciler without a reachable cluster', () => {
  let db: TestDatabase;
  let double: NomadDouble;
  let proxy: Server | undefined;
  before(async () => { db = await createTestDatabase(); });
  after(async () => { proxy?.close(); await double?.close(); await db.cleanup(); });

  it('warns once while passes keep failing and says once when they succeed again', async () => {
    const lines: { level: string; msg: string }[] = [];
    const deadUrl = `http://127.0.0.1:${await closedPort()}`;
    const dead = aReconciler(db, deadUrl, lines);
    dead.sut.start();
    for (let i = 0; i < 800 && lines.filter((l) => /reconcile pass failed/.test(l.msg)).length < 3; i++) await sleep(25);
    await dead.sut.stop();
    const failed = lines.filter((l) => /reconcile pass failed/.test(l.msg));
    assert.ok(failed.length >= 3, `several passes ran and failed (${failed.length})`);
    assert.equal(failed.filter((l) => l.level === 'warn').length, 1, 'one warning');
    assert.ok(failed.slice(1).every((l) => l.level === 'debug'), 'the repeats are debug');

    // A cluster that answers again is said once, and then nothing more is logged.
    double = await startNomadDouble({});
    const target = new URL(double.url);
    proxy = createServer((c) => {
      const up = connect(Number(target.port), target.hostname);
      c.on('error', () => up.destroy());
      up.on('error', () => c.destroy());
      c.pipe(up).pipe(c);
    });
    await new Promise<void>((r) => proxy!.listen(Number(new URL(deadUrl).port), '127.0.0.1', r));
    dead.sut.start();
    for (let i = 0; i < 800 && !lines.slice(failed.length).some((l) => /succeed again/.test(l.msg)); i++) await sleep(25);
    await sleep(150);
    await dead.sut.stop();
    const after = lines.slice(failed.length).filter((l) => /reconcile/.test(l.msg));
    assert.deepEqual(after.map((l) => [l.level, l.msg]).slice(0, 1), [['info', 'reconcile passes succeed again']]);
    assert.ok(after.slice(1).every((l) => !/failed/.test(l.msg)), 'no failure once Nomad answers');
    await dead.nomad.close();
    await new Promise<void>((r) => proxy!.close(() => r()));
    proxy = undefined;
  });
});
