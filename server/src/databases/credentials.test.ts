import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { aDatabase } from '@drover/scheduler/compiler/fixtures.ts';
import { systemClock } from '../core/clock.ts';
import { createTestDatabase, type TestDatabase } from '../testing/db.ts';
import { keyringFromRoot, PostgresSecretStore } from '../secrets/postgres-store.ts';
import { DatabaseCredentials as Sut, generatedValue } from './credentials.ts';

let db: TestDatabase;
before(async () => {
  db = await createTestDatabase();
});
after(async () => {
  await db.cleanup();
});
const sut = (): Sut => new Sut(db.dataSource, new PostgresSecretStore(keyringFromRoot(randomBytes(32)), systemClock, db.dataSource.manager));

test('credentials are generated once, URL-safe, and never replaced', async () => {
  const s = sut();
  const team = randomUUID();
  const d = aDatabase({ id: randomUUID(), engine: 'mysql', version: '8.4' });
  const first = await s.ensure(team, d);
  assert.deepEqual([...first.keys()].sort(), ['NAME', 'PASSWORD', 'ROOT_PASSWORD', 'USER']);
  for (const v of first.values()) assert.match(v, /^[A-Za-z0-9]{16,32}$/);
  assert.match(first.get('USER')!, /^[a-z]/);
  const again = await s.ensure(team, d);
  assert.deepEqual(again, first);
  assert.equal(generatedValue('PASSWORD').length, 32);
});

test('the resolver gives database and destination items from the store; connection details hide secrets unless revealed', async () => {
  const s = sut();
  const team = randomUUID();
  const d = aDatabase({ id: randomUUID(), engine: 'postgres', version: '17' });
  const creds = await s.ensure(team, d);
  await s.setDestinationKeys(team, 'b0000000-0000-4000-8000-00000000de57', { accessKeyId: 'AKIA1', secretAccessKey: 'sk1' });
  const resolve = s.resolver(team);
  assert.equal(await resolve({ kind: 'database', databaseId: d.id, field: 'PASSWORD' }), creds.get('PASSWORD'));
  assert.equal(await resolve({ kind: 'destination', destinationId: 'b0000000-0000-4000-8000-00000000de57', field: 'SECRET_ACCESS_KEY' }), 'sk1');
  await assert.rejects(resolve({ kind: 'database', databaseId: randomUUID(), field: 'PASSWORD' }), { code: 'database/invalid' });

  const hidden = await s.connection(team, d, '10.0.0.5', 24567, false);
  assert.equal(hidden.variables.HOST, '10.0.0.5');
  assert.equal(hidden.variables.PGPORT, '24567');
  for (const k of ['PASSWORD', 'PGPASSWORD', 'DATABASE_URL', 'POSTGRES_URL']) assert.equal(hidden.variables[k], null, k);
  assert.ok(!JSON.stringify(hidden).includes(creds.get('PASSWORD')!));
  const shown = await s.connection(team, d, '10.0.0.5', 24567, true);
  assert.equal(shown.variables.DATABASE_URL, `postgresql://${creds.get('USER')}:${creds.get('PASSWORD')}@10.0.0.5:24567/${creds.get('NAME')}`);
  const redis = aDatabase({ id: randomUUID(), engine: 'redis', version: '7' });
  await s.ensure(team, redis);
  const r = await s.connection(team, redis, 'h', 1, true);
  assert.match(r.variables.REDIS_URL ?? '', /^redis:\/\/default:[A-Za-z0-9]{32}@h:1$/);
  assert.equal(r.variables.NAME, undefined);
});
