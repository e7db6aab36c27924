import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryCoordination, createRedisCoordination, CoordinationUnavailableError } from './index.ts';
import type { Coordination } from './index.ts';
import { startRedisServer, testRedisUrl, uniqueRedisPrefix } from '../../testing/redis.ts';
import { freePort } from '../db/embedded-postgres.ts';
import { toProblem } from '../../http/problem.ts';

// ONE contract, run against both implementations (real Redis from the global setup).
const implementations: [string, () => Promise<Coordination>][] = [
  ['memory', async () => createMemoryCoordination()],
  ['redis', () => createRedisCoordination({ url: testRedisUrl(), prefix: uniqueRedisPrefix() })],
];

function nextMessage(): { handler: (m: string) => void; received: string[]; next: () => Promise<string> } {
  const received: string[] = [];
  let waiters: ((m: string) => void)[] = [];
  return {
    received,
    handler: (m) => {
      received.push(m);
      const w = waiters;
      waiters = [];
      for (const f of w) f(m);
    },
    next: () => new Promise((res, rej) => {
      const t = setTimeout(() => rej(new Error('no message within 2 s')), 2_000);
      waiters.push((m) => { clearTimeout(t); res(m); });
    }),
  };
}

for (const [kind, make] of implementations) {
  describe(`coordination contract: ${kind}`, () => {
    let sut: Coordination;
    before(async () => { sut = await make(); });
    after(async () => { await sut.close(); });

    test('reports its kind and answers ping', async () => {
      assert.equal(sut.kind, kind);
      await sut.ping();
    });

    test('event bus delivers to every subscriber of the channel and none of another', async () => {
      const a = nextMessage();
      const b = nextMessage();
      const other = nextMessage();
      const ua = await sut.events.subscribe('deployments', a.handler);
      const ub = await sut.events.subscribe('deployments', b.handler);
      const uo = await sut.events.subscribe('other', other.handler);
      const got = Promise.all([a.next(), b.next()]);
      await sut.events.publish('deployments', 'd1 healthy "quoted" ✓');
      assert.deepEqual(await got, ['d1 healthy "quoted" ✓', 'd1 healthy "quoted" ✓']);
      await ua();
      const gotB = b.next();
      await sut.events.publish('deployments', 'd2');
      assert.equal(await gotB, 'd2');
      await sleep(50);
      assert.deepEqual(a.received, ['d1 healthy "quoted" ✓']);
      assert.deepEqual(other.received, []);
      await ub();
      await uo();
    });

    test('rate limit allows `limit` hits per window, then refuses until it resets', async () => {
      const key = `login:${Math.random()}`;
      const hits = [];
      for (let i = 0; i < 4; i++) hits.push(await sut.rateLimits.hit(key, 3, 1_000));
      assert.deepEqual(hits.map((h) => [h.allowed, h.count, h.remaining]), [[true, 1, 2], [true, 2, 1], [true, 3, 0], [false, 4, 0]]);
      assert.ok(hits[3]!.resetMs > 0 && hits[3]!.resetMs <= 1_000);
      await sleep(1_100);
      const fresh = await sut.rateLimits.hit(key, 3, 1_000);
      assert.deepEqual([fresh.allowed, fresh.count], [true, 1]);
    });

    test('rate limit reset forgets the hits of one key only', async () => {
      const k1 = `a:${Math.random()}`;
      const k2 = `b:${Math.random()}`;
      await sut.rateLimits.hit(k1, 1, 10_000);
      await sut.rateLimits.hit(k2, 1, 10_000);
      await sut.rateLimits.reset(k1);
      assert.equal((await sut.rateLimits.hit(k1, 1, 10_000)).allowed, true);
      assert.equal((await sut.rateLimits.hit(k2, 1, 10_000)).allowed, false);
    });

    test('rate limit refuses a non-positive limit or window', async () => {
      await assert.rejects(sut.rateLimits.hit('x', 0, 1000), RangeError);
      await assert.rejects(sut.rateLimits.hit('x', 1, -5), RangeError);
    });

    test('lock is exclusive, released only by its holder, and expires after its TTL', async () => {
      const key = `reconciler:${Math.random()}`;
      const lease = await sut.locks.acquire(key, 10_000);
      assert.ok(lease);
      assert.equal(await sut.locks.acquire(key, 10_000), null);
      assert.equal(await sut.locks.release({ key, token: 'not-the-holder' }), false);
      assert.equal(await sut.locks.acquire(key, 10_000), null, 'a wrong token released nothing');
      assert.equal(await sut.locks.release(lease), true);
      assert.equal(await sut.locks.release(lease), false, 'released twice');
      const short = await sut.locks.acquire(key, 150);
      assert.ok(short);
      await sleep(250);
      const next = await sut.locks.acquire(key, 10_000);
      assert.ok(next, 'expired lease can be taken');
      assert.equal(await sut.locks.release(short), false, 'the expired holder cannot release the new lease');
      assert.equal(await sut.locks.extend(short, 10_000), false, 'nor extend it');
      assert.equal(await sut.locks.release(next), true);
    });

    test('lock extend keeps the lease past its first TTL', async () => {
      const key = `extend:${Math.random()}`;
      const lease = await sut.locks.acquire(key, 300);
      assert.ok(lease);
      assert.equal(await sut.locks.extend(lease, 3_000), true);
      await sleep(500);
      assert.equal(await sut.locks.acquire(key, 1000), null, 'still held after the first TTL');
      assert.equal(await sut.locks.release(lease), true);
    });

    test('cache returns what was set until the TTL, and nothing after delete', async () => {
      const key = `project:${Math.random()}`;
      assert.equal(await sut.cache.get(key), undefined);
      await sut.cache.set(key, '{"a":1}', 10_000);
      assert.equal(await sut.cache.get(key), '{"a":1}');
      await sut.cache.set(key, 'v2', 10_000);
      assert.equal(await sut.cache.get(key), 'v2');
      await sut.cache.delete(key);
      assert.equal(await sut.cache.get(key), undefined);
      await sut.cache.set(key, 'short', 100);
      await sleep(200);
      assert.equal(await sut.cache.get(key), undefined);
    });
  });
}

describe('redis coordination during an outage', () => {
  test('operations and ping throw CoordinationUnavailableError quickly, and recover when Redis is back', async () => {
    const server = await startRedisServer();
    const sut = await createRedisCoordination({ url: server.url, prefix: uniqueRedisPrefix(), commandTimeoutMs: 500 });
    try {
      await sut.cache.set('k', 'v', 60_000);
      await server.stop();
      const t0 = Date.now();
      await assert.rejects(sut.ping(), CoordinationUnavailableError);
      await assert.rejects(sut.cache.get('k'), (e: unknown) => e instanceof CoordinationUnavailableError && e.code === 'coordination/unavailable');
      await assert.rejects(sut.rateLimits.hit('k', 1, 1000), CoordinationUnavailableError);
      await assert.rejects(sut.locks.acquire('k', 1000), CoordinationUnavailableError);
      await assert.rejects(sut.events.publish('c', 'm'), CoordinationUnavailableError);
      await assert.rejects(sut.events.subscribe('c', () => undefined), CoordinationUnavailableError);
      assert.ok(Date.now() - t0 < 5_000, 'fails fast (within the command timeouts)');
      const problem = await sut.cache.get('k').then(() => undefined, (e: unknown) => toProblem(e, '/api/x', 'req-1'));
      assert.equal(problem?.status, 503, 'an outage is a 503, never a 404 or a 500');
      assert.equal(problem?.code, 'coordination/unavailable');
      assert.doesNotMatch(JSON.stringify(problem), /ECONNREFUSED|127\.0\.0\.1|writeable/, 'no internal message in the body');
      const again = await startRedisServer(server.port);
      try {
        const until = Date.now() + 5_000;
        for (;;) {
          try {
            await sut.ping();
            break;
          } catch (e) {
            if (Date.now() > until) throw e;
            await sleep(100);
          }
        }
        await sut.cache.set('k2', 'v2', 1000);
        assert.equal(await sut.cache.get('k2'), 'v2');
      } finally {
        await again.stop();
      }
    } finally {
      await sut.close();
      await server.stop();
    }
  });

  test('a Redis that is down at boot does not stop start-up; ping reports it', async () => {
    const port = await freePort();
    const sut = await createRedisCoordination({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 });
    try {
      await assert.rejects(sut.ping(), CoordinationUnavailableError);
    } finally {
      await sut.close();
    }
  });
});
