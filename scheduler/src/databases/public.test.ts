import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNomad } from '../contracts/index.ts';
import { validateJob } from '../nomad-validate/index.ts';
import { compile } from '../compiler/index.ts';
import { ENGINES, databaseReference } from '../compiler/database.ts';
import { aDatabase, aService, aSettings, aState, aVaultBackend } from '../compiler/fixtures.ts';
import { CompileError } from '../compiler/errors.ts';
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
    const d = aDatabase({ engine, version: ENGINES[engine].versions[0]!, publicAccess: { hostname: 'db.example.com', entrypoint: engine === 'mysql' ? 'mysql-db' : 'postgres', port: 5432, certResolver: 'le' } });
    const { jobs } = compile(aState({ services: [], databases: [d] }));
    assert.deepEqual(validateNomad('JobRegisterRequest', jobs[0]), []);
    assert.deepEqual(validateJob(jobs[0]!.Job), []);
    const tags = jobs[0]!.Job.TaskGroups[0]!.Services![0]!.Tags;
    assert.ok(tags.includes('drover.managed=true') && tags.includes('traefik.enable=true'));
  }
  assert.throws(() => compile(aState({ services: [], databases: [aDatabase({ publicAccess: { hostname: 'not a host', entrypoint: 'postgres', port: 5432, certResolver: '' } })] })), /databases\.db\.public\.hostname/);
});

const kinds = (segs: Segment[] | { problem: string } | undefined): string => (Array.isArray(segs) ? segs : []).map((s) => (s.t === 'addr' ? `addr:${s.part}` : s.t === 'const' ? s.text : `data:${s.source.kind === 'database' ? s.source.field : '?'}`)).join(' ');

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

const PUBLIC_AT = (engine: DatabaseEngine) => ({ hostname: 'orders.apps.example.com', entrypoint: engine === 'mysql' ? 'mysql' : 'dbtls', port: engine === 'mysql' ? 3306 : 5432, certResolver: 'le' });
const CREDS: Record<string, string> = { USER: 'u1', PASSWORD: 'p1', NAME: 'app' };
/** joined renders resolved segments with fixed credentials (addresses cannot appear in a public URL). */
const joined = (segs: Segment[] | { problem: string } | undefined): string => {
  assert.ok(Array.isArray(segs), JSON.stringify(segs));
  return segs.map((s) => {
    if (s.t === 'addr') throw new Error('a public URL reads no catalog address');
    if (s.t === 'const') return s.text;
    assert.equal(s.source.kind, 'database');
    return s.source.kind === 'database' ? CREDS[s.source.field] : '?';
  }).join('');
};
const refTo = (target: string, name: string): Parameters<typeof aService>[0] => ({ variables: [{ name: 'X', value: { kind: 'text', parts: [{ kind: 'ref', target, name }] } }] });

test('DATABASE_PUBLIC_URL (and MYSQL_/REDIS_/MONGO_PUBLIC_URL) of a public database: credentials as data, public host and port and the TLS option as constants', () => {
  const want: Record<DatabaseEngine, [string[], string]> = {
    postgres: [['DATABASE_PUBLIC_URL'], 'postgresql://u1:p1@orders.apps.example.com:5432/app?sslmode=require'],
    mysql: [['DATABASE_PUBLIC_URL', 'MYSQL_PUBLIC_URL'], 'mysql://u1:p1@orders.apps.example.com:3306/app?ssl-mode=REQUIRED'],
    redis: [['DATABASE_PUBLIC_URL', 'REDIS_PUBLIC_URL'], 'rediss://default:p1@orders.apps.example.com:5432'],
    mongodb: [['DATABASE_PUBLIC_URL', 'MONGO_PUBLIC_URL'], 'mongodb://u1:p1@orders.apps.example.com:5432/?authSource=admin&tls=true'],
  };
  for (const engine of ENGINE_LIST) {
    const d = aDatabase({ engine, version: ENGINES[engine].versions[0]!, publicAccess: PUBLIC_AT(engine) });
    const [names, url] = want[engine];
    for (const name of names) {
      const segs = databaseReference(d, 'cat', name);
      assert.equal(joined(segs), url, `${engine} ${name}`);
      // The credentials are data items, never constants in the template text.
      const fields = (segs as Segment[]).flatMap((s) => (s.t === 'data' && s.source.kind === 'database' ? [s.source.field] : []));
      assert.deepEqual(fields, engine === 'redis' ? ['PASSWORD'] : ENGINES[engine].fields.includes('NAME') ? ['USER', 'PASSWORD', 'NAME'] : ['USER', 'PASSWORD'], `${engine} ${name}`);
    }
  }
  // Only Railway's real names: Postgres has no POSTGRES_PUBLIC_URL, and no engine answers another's name.
  const pg = aDatabase({ publicAccess: PUBLIC_AT('postgres') });
  for (const name of ['POSTGRES_PUBLIC_URL', 'MYSQL_PUBLIC_URL', 'PUBLIC_URL']) assert.equal(databaseReference(pg, 'cat', name), undefined, name);
});

test('a service referencing a public database\'s DATABASE_PUBLIC_URL compiles to a job that passes the contract and Nomad rules, the value rendered from data in the noop template', () => {
  for (const secrets of [aSettings().secrets, aVaultBackend]) {
    for (const engine of ENGINE_LIST) {
      const d = aDatabase({ engine, version: ENGINES[engine].versions[0]!, publicAccess: PUBLIC_AT(engine) });
      const { jobs, variables } = compile(aState({ services: [aService(refTo('db', 'DATABASE_PUBLIC_URL'))], databases: [d], settings: aSettings({ secrets }) }));
      for (const job of jobs) {
        assert.deepEqual(validateNomad('JobRegisterRequest', job), [], `${engine} ${job.Job.ID}`);
        assert.deepEqual(validateJob(job.Job), [], `${engine} ${job.Job.ID}`);
      }
      const web = jobs.find((j) => j.Job.Meta?.['drover.service'] !== undefined)!;
      const templates = web.Job.TaskGroups[0]!.Tasks[0]!.Templates ?? [];
      const line = templates.flatMap((t) => t.EmbeddedTmpl.split('\n').filter((l) => l.startsWith('X=')).map((l) => ({ l, t })))[0];
      assert.ok(line, `${engine}: X is rendered`);
      assert.equal(line.t.ChangeMode, 'noop', 'a fixed public address restarts nothing');
      assert.ok(line.l.includes(`"@orders.apps.example.com:${PUBLIC_AT(engine).port}`), line.l);
      assert.ok(line.l.includes(`"${engine === 'postgres' ? 'postgresql' : engine === 'redis' ? 'rediss' : engine}://`), line.l);
      // No credential value in the job: the items name the database's fields.
      const items = Object.values(variables[web.Job.ID]?.items ?? {});
      assert.ok(items.some((s) => s.kind === 'database' && s.databaseId === d.id && s.field === 'PASSWORD'));
    }
  }
});

test('DATABASE_PUBLIC_URL of a database that is not public is a compile error naming the variable\'s path; a bad public port names its path', () => {
  for (const name of ['DATABASE_PUBLIC_URL', 'REDIS_PUBLIC_URL']) {
    const engine: DatabaseEngine = name === 'REDIS_PUBLIC_URL' ? 'redis' : 'postgres';
    const state = aState({ services: [aService({ slug: 'api', ...refTo('orders', name) })], databases: [aDatabase({ name: 'orders', engine, version: ENGINES[engine].versions[0]! })] });
    assert.throws(() => compile(state), (e: unknown) => e instanceof CompileError && e.path === 'services.api.variables.X' && /^database orders is not public, so it has no /.test(e.reason), name);
  }
  for (const port of [0, 65_536, 1.5]) {
    const d = aDatabase({ publicAccess: { ...PUBLIC_AT('postgres'), port } });
    assert.throws(() => compile(aState({ services: [], databases: [d] })), (e: unknown) => e instanceof CompileError && e.path === 'databases.db.public.port', String(port));
  }
});
