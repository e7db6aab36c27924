import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNomad } from '../contracts/index.ts';
import { validateJob } from '../nomad-validate/index.ts';
import { compile } from '../compiler/index.ts';
import { ENGINES, databaseReference } from '../compiler/database.ts';
import { aDatabase, aState } from '../compiler/fixtures.ts';
import type { DatabaseEngine } from '../compiler/model.ts';
import type { Segment } from '../compiler/variables.ts';
import { databaseTcpTags as sut, routesBySni } from './public.ts';

const ENGINE_LIST: DatabaseEngine[] = ['postgres', 'mysql', 'redis', 'mongodb'];

test('databases are private by default: only the managed tag, no Traefik router', () => {
  for (const engine of ENGINE_LIST) {
    const { jobs } = compile(aState({ services: [], databases: [aDatabase({ engine, version: ENGINES[engine].versions[0]! })] }));
    assert.deepEqual(jobs[0]!.Job.TaskGroups[0]!.Services![0]!.Tags, ['drover.managed=true']);
  }
});

test('public Postgres, Redis and MongoDB are routed by SNI with TLS on a shared entrypoint; MySQL gets its own entrypoint', () => {
  const id = '7d2e4b10-0000-4000-8000-0000000000d1';
  const pg = sut(id, 'postgres', { hostname: 'db-prod.apps.example.com', entrypoint: 'postgres', certResolver: 'le' });
  assert.ok(pg.some((t) => t.endsWith('.rule=HostSNI(`db-prod.apps.example.com`)')));
  assert.ok(pg.some((t) => t.endsWith('.tls=true')));
  assert.ok(pg.some((t) => t.endsWith('.tls.certresolver=le')));
  assert.ok(pg.some((t) => t.endsWith('.entrypoints=postgres')));
  for (const engine of ['redis', 'mongodb'] as const) assert.ok(sut(id, engine, { hostname: 'x.example.com', entrypoint: 'dbtls', certResolver: '' }).some((t) => t.endsWith('.tls=true')));
  const my = sut(id, 'mysql', { hostname: 'x.example.com', entrypoint: 'mysql-7d2e', certResolver: 'le' });
  assert.equal(routesBySni('mysql'), false);
  assert.ok(my.some((t) => t.endsWith('.rule=HostSNI(`*`)')));
  assert.ok(!my.some((t) => t.includes('.tls')));
  assert.throws(() => sut(id, 'postgres', { hostname: 'a`) || HostSNI(`*', entrypoint: 'postgres', certResolver: '' }), /unchecked/);
  assert.throws(() => sut(id, 'postgres', { hostname: 'a.example.com', entrypoint: 'post gres', certResolver: '' }), /entrypoint/);
});

test('a public database job passes the contract and Nomad rules; a bad hostname is a compile error naming the path', () => {
  for (const engine of ENGINE_LIST) {
    const d = aDatabase({ engine, version: ENGINES[engine].versions[0]!, publicAccess: { hostname: 'db.example.com', entrypoint: engine === 'mysql' ? 'mysql-db' : 'postgres', certResolver: 'le' } });
    const { jobs } = compile(aState({ services: [], databases: [d] }));
    assert.deepEqual(validateNomad('JobRegisterRequest', jobs[0]), []);
    assert.deepEqual(validateJob(jobs[0]!.Job), []);
    const tags = jobs[0]!.Job.TaskGroups[0]!.Services![0]!.Tags;
    assert.ok(tags.includes('drover.managed=true') && tags.includes('traefik.enable=true'));
  }
  assert.throws(() => compile(aState({ services: [], databases: [aDatabase({ publicAccess: { hostname: 'not a host', entrypoint: 'postgres', certResolver: '' } })] })), /databases\.db\.public\.hostname/);
});

const kinds = (segs: Segment[] | undefined): string => (segs ?? []).map((s) => (s.t === 'addr' ? `addr:${s.part}` : s.t === 'const' ? s.text : `data:${s.source.kind === 'database' ? s.source.field : '?'}`)).join(' ');

test('connection variables: every database gives DATABASE_URL, HOST, PORT, USER, PASSWORD (and NAME where it has one) and its customary names; addresses come from the catalog at run time', () => {
  const want: Record<DatabaseEngine, Record<string, string>> = {
    postgres: {
      DATABASE_URL: 'postgresql:// data:USER : data:PASSWORD @ addr:host : addr:port / data:NAME', PGHOST: 'addr:host', PGPORT: 'addr:port',
      PGUSER: 'data:USER', PGPASSWORD: 'data:PASSWORD', PGDATABASE: 'data:NAME', POSTGRES_URL: 'postgresql:// data:USER : data:PASSWORD @ addr:host : addr:port / data:NAME',
    },
    mysql: { MYSQL_URL: 'mysql:// data:USER : data:PASSWORD @ addr:host : addr:port / data:NAME', MYSQLHOST: 'addr:host', MYSQLPASSWORD: 'data:PASSWORD', NAME: 'data:NAME' },
    redis: { REDIS_URL: 'redis:// default : data:PASSWORD @ addr:host : addr:port', USER: 'default', REDISHOST: 'addr:host', REDISPORT: 'addr:port' },
    mongodb: { MONGO_URL: 'mongodb:// data:USER : data:PASSWORD @ addr:host : addr:port /?authSource=admin', MONGOHOST: 'addr:host', MONGOUSER: 'data:USER' },
  };
  for (const engine of ENGINE_LIST) {
    const d = aDatabase({ engine, version: ENGINES[engine].versions[0]! });
    for (const name of ['DATABASE_URL', 'HOST', 'PORT', 'USER', 'PASSWORD']) assert.ok(databaseReference(d, 'cat', name), `${engine} ${name}`);
    for (const [name, expected] of Object.entries(want[engine])) assert.equal(kinds(databaseReference(d, 'cat', name)), expected, `${engine} ${name}`);
  }
  assert.equal(databaseReference(aDatabase({ engine: 'redis', version: '7' }), 'cat', 'NAME'), undefined);
});
