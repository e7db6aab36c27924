import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import Koa from 'koa';
import { pino } from 'pino';
import { createMemoryCoordination, createRedisCoordination } from './coordination/index.ts';
import type { Coordination } from './coordination/index.ts';
import { createDataSource, DatabaseUnavailableError, pingDatabase } from './db/index.ts';
import { toProblem } from '../http/problem.ts';
import { freePort } from './db/embedded-postgres.ts';
import { createMetrics } from './metrics.ts';
import { opsRoutes } from './ops.ts';
import type { OpsDeps } from './ops.ts';
import { createTestDatabase } from '../testing/db.ts';
import type { TestDatabase } from '../testing/db.ts';
import { testRedisUrl, uniqueRedisPrefix } from '../testing/redis.ts';

let db: TestDatabase;
before(async () => { db = await createTestDatabase({ poolSize: 2 }); });
after(async () => { await db.cleanup(); });

async function serve(deps: Partial<OpsDeps> & { coordination: Coordination }): Promise<{ url: string; close: () => Promise<void> }> {
  const metrics = deps.metrics ?? createMetrics();
  const app = new Koa();
  app.use(metrics.httpMiddleware());
  app.use(opsRoutes({ dataSource: db.dataSource, metrics, logger: pino({ level: 'silent' }), draining: () => false, probeTimeoutMs: 1_000, ...deps }));
  const server: Server = await new Promise((res) => { const s = app.listen(0, '127.0.0.1', () => res(s)); });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await deps.coordination.close();
    },
  };
}

describe('ops endpoints', () => {
  test('/healthz answers 200 and /readyz 200 with Postgres up (in-process coordination is not probed)', async () => {
    const sut = await serve({ coordination: createMemoryCoordination() });
    try {
      const h = await fetch(`${sut.url}/healthz`);
      assert.equal(h.status, 200);
      assert.deepEqual(await h.json(), { status: 'ok' });
      const r = await fetch(`${sut.url}/readyz`);
      assert.equal(r.status, 200);
      assert.deepEqual(await r.json(), { status: 'ready', checks: { postgres: 'ok' } });
      assert.equal(r.headers.get('cache-control'), 'no-store');
    } finally {
      await sut.close();
    }
  });

  test('/readyz probes Redis when configured', async () => {
    const sut = await serve({ coordination: await createRedisCoordination({ url: testRedisUrl(), prefix: uniqueRedisPrefix() }) });
    try {
      const r = await fetch(`${sut.url}/readyz`);
      assert.deepEqual([r.status, await r.json()], [200, { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } }]);
    } finally {
      await sut.close();
    }
  });

  test('/readyz answers 503 naming Redis when it is down, without internal messages', async () => {
    const port = await freePort();
    const sut = await serve({ coordination: await createRedisCoordination({ url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 }) });
    try {
      const r = await fetch(`${sut.url}/readyz`);
      const text = await r.text();
      assert.equal(r.status, 503);
      assert.deepEqual(JSON.parse(text), { status: 'unavailable', checks: { postgres: 'ok', redis: 'down' } });
      assert.doesNotMatch(text, /ECONNREFUSED|127\.0\.0\.1/);
    } finally {
      await sut.close();
    }
  });

  test('/readyz answers 503 naming Postgres when it does not answer', async () => {
    const port = await freePort();
    const dead = createDataSource({ url: `postgres://drover:x@127.0.0.1:${port}/drover` });
    const sut = await serve({ coordination: createMemoryCoordination(), dataSource: dead });
    try {
      const r = await fetch(`${sut.url}/readyz`);
      assert.deepEqual([r.status, await r.json()], [503, { status: 'unavailable', checks: { postgres: 'down' } }]);
      assert.equal((await fetch(`${sut.url}/healthz`)).status, 200, 'the process is still up');
      const outage = await pingDatabase(dead).then(() => undefined, (e: unknown) => e);
      assert.ok(outage instanceof DatabaseUnavailableError);
      assert.equal(toProblem(outage, '/x', 'r').status, 503);
    } finally {
      await sut.close();
    }
  });

  test('/readyz answers 503 while draining', async () => {
    const sut = await serve({ coordination: createMemoryCoordination(), draining: () => true });
    try {
      const r = await fetch(`${sut.url}/readyz`);
      assert.deepEqual([r.status, await r.json()], [503, { status: 'unavailable', checks: { postgres: 'ok' }, draining: true }]);
    } finally {
      await sut.close();
    }
  });

  test('/metrics serves Prometheus text with default metrics and the HTTP histogram by route template', async () => {
    const metrics = createMetrics();
    const sut = await serve({ coordination: createMemoryCoordination(), metrics });
    try {
      await fetch(`${sut.url}/healthz`);
      await fetch(`${sut.url}/api/nothing/here`);
      const r = await fetch(`${sut.url}/metrics`);
      assert.equal(r.status, 200);
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      const text = await r.text();
      assert.match(text, /^process_cpu_user_seconds_total /m);
      assert.match(text, /^nodejs_eventloop_lag_seconds /m);
      assert.match(text, /http_request_duration_seconds_count\{method="GET",route="\/healthz",status_code="200"\} 1/);
      assert.match(text, /http_request_duration_seconds_count\{method="GET",route="unmatched",status_code="404"\} 1/);
      assert.doesNotMatch(text, /nothing\/here/, 'raw paths never become labels');
    } finally {
      await sut.close();
    }
  });
});
