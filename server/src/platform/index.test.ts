import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { loadConfig } from './config.ts';
import { startPlatform } from './index.ts';
import { readiness } from './ops.ts';
import { createTestDatabase } from '../testing/db.ts';
import { testRedisUrl } from '../testing/redis.ts';

describe('startPlatform', () => {
  test('with DATABASE_URL and REDIS_URL: no embedded Postgres, migrations applied, Redis coordination, ready; close() is idempotent', async () => {
    const db = await createTestDatabase({ empty: true, poolSize: 1 });
    try {
      const config = loadConfig({ DATABASE_URL: db.url, REDIS_URL: testRedisUrl(), DROVER_DATA_DIR: mkdtempSync(join(tmpdir(), 'drover-platform-')) });
      const sut = await startPlatform(config, { logger: pino({ level: 'silent' }) });
      try {
        assert.equal(sut.embeddedPostgres, undefined);
        assert.equal(sut.coordination.kind, 'redis');
        assert.ok(sut.dataSource.isInitialized);
        const applied = (await sut.dataSource.query('SELECT count(*)::int AS n FROM migrations')) as { n: number }[];
        assert.equal(applied[0]?.n, sut.dataSource.migrations.length);
        assert.deepEqual(await readiness({ ...sut, draining: sut.draining }), { status: 'ready', checks: { postgres: 'ok', redis: 'ok' } });
        sut.startDraining();
        assert.equal((await readiness({ ...sut, draining: sut.draining })).status, 'unavailable');
      } finally {
        await sut.close();
        await sut.close();
      }
      assert.equal(sut.dataSource.isInitialized, false, 'the pool is closed');
    } finally {
      await db.cleanup();
    }
  });

  test('fails, closing what it opened, when the database cannot be reached', async () => {
    const config = loadConfig({ DATABASE_URL: 'postgres://drover:x@127.0.0.1:1/drover', DROVER_DATA_DIR: mkdtempSync(join(tmpdir(), 'drover-platform-')) });
    await assert.rejects(startPlatform(config, { logger: pino({ level: 'silent' }) }), /ECONNREFUSED|connect/);
  });
});
