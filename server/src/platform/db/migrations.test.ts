import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createDataSource, discoverEntities, discoverEntityFiles, discoverMigrations, runMigrations, withClient } from './index.ts';
import type { MigrationClass } from './index.ts';
import { checkMigrations } from './migration-check.ts';
import { createTestDatabase } from '../../testing/db.ts';
import type { TestDatabase } from '../../testing/db.ts';

const fixtures = join(import.meta.dirname, 'testdata');

async function fixture(...prefixes: string[]): Promise<MigrationClass[]> {
  const all = await discoverMigrations(fixtures);
  return prefixes.map((p) => {
    const m = all.find((c) => c.name.endsWith(p));
    assert.ok(m, `fixture ${p}`);
    return m;
  });
}

async function withEmptyDb<T>(fn: (db: TestDatabase) => Promise<T>): Promise<T> {
  const db = await createTestDatabase({ empty: true, poolSize: 3 });
  try {
    return await fn(db);
  } finally {
    await db.cleanup();
  }
}

describe('the repository migrations', () => {
  test('create no index on an existing table without CONCURRENTLY, and apply cleanly', async () => {
    const migrations = await discoverMigrations();
    await withEmptyDb(async (db) => {
      const sut = await checkMigrations(db.dataSource, migrations);
      assert.deepEqual(sut, []);
    });
  });

  test('are recorded by the boot runner and a second run applies nothing', async () => {
    const migrations = await discoverMigrations();
    await withEmptyDb(async (db) => {
      const ds = createDataSource({ url: db.url, migrations, poolSize: 2 });
      await ds.initialize();
      try {
        const first = await runMigrations(ds);
        assert.equal(first.length, migrations.length);
        assert.deepEqual(await runMigrations(ds), []);
      } finally {
        await ds.destroy();
      }
    });
  });

  test('every *.entity.ts file exports EntitySchemas that TypeORM accepts', async () => {
    const entities = await discoverEntities();
    assert.ok(entities.length >= discoverEntityFiles().length);
    const db = await createTestDatabase({ poolSize: 2 });
    try {
      for (const e of entities) assert.ok(db.dataSource.getMetadata(e), `metadata for ${e.options.name}`);
    } finally {
      await db.cleanup();
    }
  });
});

describe('checkMigrations', () => {
  test('accepts an index on a new table and a concurrent index outside a transaction', async () => {
    await withEmptyDb(async (db) => {
      const sut = await checkMigrations(db.dataSource, await fixture('1700000000001', '1700000000002'));
      assert.deepEqual(sut, []);
    });
  });

  test('catches an index built on an existing table without CONCURRENTLY', async () => {
    await withEmptyDb(async (db) => {
      const sut = await checkMigrations(db.dataSource, await fixture('1700000000001', '1700000000003'));
      assert.equal(sut.length, 1);
      assert.equal(sut[0]?.migration, 'BadIndex1700000000003');
      assert.match(sut[0]?.message ?? '', /widgets_name_colour_idx.*existing table widgets without CONCURRENTLY/);
    });
  });

  test('catches CONCURRENTLY in a migration that runs in a transaction', async () => {
    await withEmptyDb(async (db) => {
      const sut = await checkMigrations(db.dataSource, await fixture('1700000000001', '1700000000004'));
      assert.equal(sut.length, 1);
      assert.equal(sut[0]?.migration, 'ConcurrentlyInTransaction1700000000004');
      assert.match(sut[0]?.message ?? '', /CONCURRENTLY/);
    });
  });

  test('catches a UNIQUE constraint added to an existing table (its index locks writes)', async () => {
    await withEmptyDb(async (db) => {
      const sut = await checkMigrations(db.dataSource, await fixture('1700000000001', '1700000000005'));
      assert.equal(sut.length, 1);
      assert.match(sut[0]?.message ?? '', /widgets_name_key/);
    });
  });
});

describe('runMigrations', () => {
  test('gives up after lock_timeout instead of queueing behind a lock holder', async () => {
    await withEmptyDb(async (db) => {
      const ds = createDataSource({ url: db.url, migrations: await fixture('1700000000001'), poolSize: 2 });
      await ds.initialize();
      try {
        await runMigrations(ds);
        const blocked = createDataSource({ url: db.url, migrations: await fixture('1700000000001', '1700000000006'), poolSize: 2 });
        await blocked.initialize();
        try {
          await withClient(db.url, async (holder) => {
            await holder.query('BEGIN');
            await holder.query('LOCK TABLE widgets IN ACCESS SHARE MODE');
            const t0 = Date.now();
            await assert.rejects(runMigrations(blocked, { lockTimeoutMs: 300 }), /lock timeout/);
            assert.ok(Date.now() - t0 < 5_000);
            await holder.query('ROLLBACK');
          });
          // The failed migration left nothing half-written, and succeeds once the lock is gone.
          assert.deepEqual(await runMigrations(blocked), ['LockWidgets1700000000006']);
        } finally {
          await blocked.destroy();
        }
      } finally {
        await ds.destroy();
      }
    });
  });

  test('runs a `transaction = false` migration outside a transaction', async () => {
    await withEmptyDb(async (db) => {
      const ds = createDataSource({ url: db.url, migrations: await fixture('1700000000001', '1700000000002'), poolSize: 2 });
      await ds.initialize();
      try {
        assert.deepEqual(await runMigrations(ds), ['CreateWidgets1700000000001', 'IndexColourConcurrently1700000000002']);
        const rows = (await ds.query(`SELECT indexname FROM pg_indexes WHERE tablename = 'widgets' ORDER BY 1`)) as { indexname: string }[];
        assert.deepEqual(rows.map((r) => r.indexname), ['widgets_colour_idx', 'widgets_name_idx', 'widgets_pkey']);
      } finally {
        await ds.destroy();
      }
    });
  });
});
