import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { parseDocument } from 'yaml';
import { loadManifest as sut, manifestSchema, parseManifestText, validateManifest } from './index.ts';
import { parseValue } from './references.ts';
import { parseDuration, parseSize } from './units.ts';
import { toManifestPath } from './schema.ts';

const ok = (text: string) => {
  const r = sut(text);
  assert.ok(r.ok, JSON.stringify(!r.ok && r.problems));
  return r;
};
const problems = (text: string, file = 'drover.yaml') => {
  const r = sut(text, file);
  assert.ok(!r.ok, 'expected problems');
  return r.problems;
};

test('the published schema is a valid JSON Schema 2020-12 document', () => {
  const ajv = new Ajv2020({ strict: false });
  assert.ok(ajv.validateSchema(manifestSchema()), JSON.stringify(ajv.errors));
});

test('the manifest.md example loads with the documented defaults', () => {
  const r = ok(readFileSync(new URL('../../../examples/shop/drover.yaml', import.meta.url), 'utf8'));
  const s = r.state;
  assert.equal(s.environment.slug, 'production');
  const web = s.services.find((x) => x.slug === 'web');
  assert.deepEqual(web?.healthcheck, { path: '/healthz', intervalMs: 10_000, timeoutMs: 2_000 });
  assert.deepEqual(web?.resources, { cpu: 500, memoryMB: 512, memoryMaxMB: 1024 });
  assert.deepEqual(web?.variables.find((v) => v.name === 'DATABASE_URL')?.value, { kind: 'text', parts: [{ kind: 'ref', target: 'db', name: 'DATABASE_URL' }] });
  assert.deepEqual(web?.variables.find((v) => v.name === 'API_KEY')?.value, { kind: 'secret' });
  assert.equal(web?.domains[0]?.verified, false);
  const api = s.services.find((x) => x.slug === 'api');
  assert.equal(api?.public, false);
  assert.deepEqual(api?.command, ['./local/api', '--listen', ':${PORT}']);
  const report = s.services.find((x) => x.slug === 'nightly-report');
  assert.deepEqual([report?.public, report?.restart, report?.cron], [false, 'on-failure', { schedule: '0 3 * * *', timezone: 'Europe/Berlin' }]);
  assert.equal(s.databases.find((d) => d.name === 'db')?.volume.sizeBytes, 10 * 1024 ** 3);
  assert.equal(s.databases.find((d) => d.name === 'cache')?.volume.sizeBytes, 1024 ** 3);
});

test('IDs are deterministic: the same manifest gives the same state', () => {
  const text = 'project: shop\nservices:\n  web: { image: redis, port: 80 }\n';
  assert.deepEqual(ok(text).state, ok(text).state);
});

test('YAML and JSON give the same state; JSON files are parsed strictly', () => {
  const y = ok('project: shop\nservices:\n  web: { image: redis, port: 80, variables: { N: 3, B: true } }\n');
  const j = sut(JSON.stringify({ project: 'shop', services: { web: { image: 'redis', port: 80, variables: { N: 3, B: true } } } }), 'drover.json');
  assert.ok(j.ok);
  assert.deepEqual(j.state, y.state);
  assert.deepEqual(y.state.services[0]?.variables.map((v) => v.value), [
    { kind: 'text', parts: [{ kind: 'literal', text: '3' }] }, { kind: 'text', parts: [{ kind: 'literal', text: 'true' }] },
  ]);
  assert.match(problems('{"project": "shop",}', 'drover.json')[0]?.reason ?? '', /not valid JSON/);
  assert.deepEqual(problems('project: a\nproject: b\n'), [{ path: 'project', reason: 'is not valid YAML: the key appears twice' }]);
  assert.deepEqual(problems('project: a\nservices:\n  web: { image: redis }\n  web: { image: nginx }\n').map((p) => p.path), ['services.web']);
  assert.match(problems('project: [a\n')[0]?.reason ?? '', /not valid YAML/);
});

test('YAML scalars are read by YAML 1.2 core rules, exactly as the yaml package reads them', () => {
  const scalars = [
    'yes', 'on', 'True', 'FALSE', 'tRue', '~', 'null', 'NULL', '', '0777', '00', '0o17', '0o8', '+0o7', '0x1F', '0xG', '-0x1', '0b11',
    '+12', '-0', '1_000', '12:30', '.5', '-.5', '1.', '5e3', '1E+5', '1e', '.inf', '-.Inf', '.NaN', '2020-01-01', '9007199254740993',
    '"3"', "'it''s'", '"\\x41\\u00e9"', '!!str 5', '!!int "3"',
  ];
  const json = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'number' && !Number.isFinite(x) ? String(x) : x));
  for (const v of scalars) {
    const text = `k: ${v}\nlist: [${v === '' ? '~' : v}]\n`;
    const sut = parseManifestText(text);
    assert.deepEqual(sut.problems, [], v);
    assert.equal(json(sut.doc), json(parseDocument(text, { version: '1.2' }).toJS()), v);
  }
});

test('YAML that js-yaml refuses or that may use aliases is read by the document model: keys named by path, aliases capped', () => {
  assert.deepEqual(problems('project: a\nservices:\n  web:\n    image: redis\n    image: nginx\n').map((p) => p.path), ['services.web.image']);
  assert.deepEqual(problems('project: a\n? [x, y]\n: z\n'), [{ path: '', reason: 'is not valid YAML: map keys must be plain text' }]);
  assert.deepEqual(problems('project: a\n? { x: 1 }\n: z\n'), [{ path: '', reason: 'is not valid YAML: map keys must be plain text' }]);
  assert.match(problems('project: a\n---\nproject: b\n')[0]?.reason ?? '', /not valid YAML/);
  assert.match(problems('project: !!binary aGk=\n')[0]?.reason ?? '', /not valid YAML/);
  // An alias is read (a flow key with a comma is plain text, not a complex key) ...
  const aliased = parseManifestText('shared: &s { LOG_LEVEL: info, "a,b": 1 }\nother: *s\n');
  assert.deepEqual(aliased.doc, { shared: { LOG_LEVEL: 'info', 'a,b': 1 }, other: { LOG_LEVEL: 'info', 'a,b': 1 } });
  // ... but a billion laughs is refused as a problem, quickly.
  const lines = ['a0: &a0 [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 1; i < 12; i++) lines.push(`a${i}: &a${i} [${Array(10).fill(`*a${i - 1}`).join(', ')}]`);
  const started = performance.now();
  assert.match(problems(`${lines.join('\n')}\n`)[0]?.reason ?? '', /not valid YAML: .*alias/i);
  assert.ok(performance.now() - started < 2000);
});

test('unknown keys are errors at every level, named with their path', () => {
  const cases: [string, string][] = [
    ['project: shop\nextra: 1\nservices: { web: { image: redis } }\n', 'extra'],
    ['project: shop\nservices: { web: { image: redis, healthcheck: { path: /, retries: 3 } } }\n', 'services.web.healthcheck.retries'],
    ['project: shop\nservices: { web: { image: redis, volumes: [{ name: a, mount: /a, driver: x }] } }\n', 'services.web.volumes[0].driver'],
    ['project: shop\nservices: { web: { image: redis, variables: { A: { secret: true, value: x } } } }\n', 'services.web.variables.A.value'],
    ['project: shop\ndatabases: { db: { engine: postgres, version: "17", password: x } }\n', 'databases.db.password'],
  ];
  for (const [text, path] of cases) assert.deepEqual(problems(text).filter((p) => p.reason === 'unknown key').map((p) => p.path), [path], path);
});

test('wrong types and enums are named with their path', () => {
  assert.deepEqual(problems('project: shop\nservices: { web: { image: redis, restart: sometimes } }\n'), [{ path: 'services.web.restart', reason: 'must be one of "always", "on-failure", "never"' }]);
  assert.deepEqual(problems('project: shop\nservices: { web: { image: redis, variables: { A: [1] } } }\n'), [{ path: 'services.web.variables.A', reason: 'must be text, a whole number, true/false or { secret: true }' }]);
  assert.deepEqual(problems('services: {}\n'), [{ path: '', reason: 'is missing the required key "project"' }]);
  assert.deepEqual(problems('project: shop\ndatabases: { db: { engine: oracle, version: "1" } }\n').map((p) => p.path), ['databases.db.engine']);
});

test('semantic rules report every problem at once', () => {
  const p = problems([
    'project: shop',
    'services:',
    '  web:',
    '    image: "ghcr.io/Acme/web:1"',
    '    port: 70000',
    '    healthcheck: { path: "/h ${x}", interval: 10 seconds, timeout: 2s }',
    '    resources: { memory: 512, memory_max: 256 }',
    '    variables: { "1X": a, PORT: "1", BAD: "${{ oops }}" }',
    '    timezone: UTC',
    '    volumes: [{ name: a, mount: /data, size: 1GB }, { name: a, mount: /data }]',
    'databases:',
    '  web: { engine: postgres, version: "12", size: lots }',
    '  cache: { engine: mysql, version: 8, backups: { schedule: "0 2 * *", keep: 0 } }',
  ].join('\n'));
  const paths = p.map((x) => x.path);
  for (const want of [
    'services.web.image', 'services.web.port', 'services.web.healthcheck.path', 'services.web.healthcheck.interval',
    'services.web.resources.memory_max', 'services.web.variables.1X', 'services.web.variables.PORT', 'services.web.variables.BAD',
    'services.web.timezone', 'services.web.volumes[0].size', 'services.web.volumes[1].name',
    'services.web.volumes[1].mount', 'databases.web', 'databases.web.version', 'databases.web.size', 'databases.cache.version',
    'databases.cache.backups.schedule', 'databases.cache.backups.keep',
  ]) assert.ok(paths.includes(want), `${want} in ${JSON.stringify(p, null, 1)}`);
});

test('references: PUBLIC_URL of a private service, PRIVATE_* of a worker and unknown database names are refused', () => {
  const base = 'project: shop\nservices:\n  w: { image: redis }\n  p: { image: redis, port: 80, public: false }\ndatabases:\n  c: { engine: redis, version: "8" }\n';
  for (const [ref, reason] of [['p.PUBLIC_URL', /not public/], ['w.PRIVATE_HOST', /no port/], ['c.NAME', /redis database has no NAME/]] as const) {
    const p = problems(`${base.replace('  w: { image: redis }', `  w: { image: redis, variables: { X: "\${{ ${ref} }}" } }`)}`);
    assert.equal(p[0]?.path, 'services.w.variables.X');
    assert.match(p[0]?.reason ?? '', reason);
  }
});

test('parseValue keeps everything but ${{ target.NAME }} as literal data', () => {
  assert.deepEqual(parseValue('https://${{ api.PRIVATE_HOST }}/v1'), [
    { kind: 'literal', text: 'https://' }, { kind: 'ref', target: 'api', name: 'PRIVATE_HOST' }, { kind: 'literal', text: '/v1' },
  ]);
  assert.deepEqual(parseValue('{{ env "X" }}${attr.unique.hostname}'), [{ kind: 'literal', text: '{{ env "X" }}${attr.unique.hostname}' }]);
  assert.deepEqual(parseValue('${{shared.A}}${{ db.B }}'), [{ kind: 'ref', target: 'shared', name: 'A' }, { kind: 'ref', target: 'db', name: 'B' }]);
  assert.equal(typeof parseValue('${{ api }}'), 'string');
  assert.equal(typeof parseValue('x ${{ API.X }}'), 'string');
});

test('units: sizes KiB–TiB and durations ms–h', () => {
  assert.deepEqual(['512KiB', '1MiB', '10GiB', '2TiB'].map(parseSize), [512 * 1024, 1024 ** 2, 10 * 1024 ** 3, 2 * 1024 ** 4]);
  for (const bad of ['1GB', '0GiB', '1.5GiB', 'GiB', '-1GiB', '1 GiB']) assert.equal(parseSize(bad), undefined, bad);
  assert.deepEqual(['500ms', '10s', '5m', '1h'].map(parseDuration), [500, 10_000, 300_000, 3_600_000]);
  for (const bad of ['10', '1d', '0s', '1.5s', 's']) assert.equal(parseDuration(bad), undefined, bad);
});

test('manifest paths from JSON pointers', () => {
  assert.equal(toManifestPath('/services/web/domains/0'), 'services.web.domains[0]');
  assert.equal(toManifestPath(''), '');
  assert.equal(parseManifestText('a: 1').problems.length, 0);
  assert.deepEqual(validateManifest({ project: 'shop', services: { web: { image: 'redis' } } }), []);
});
