// Renders the compiled templates with Go's own text/template (testdata/render, built offline against Debian's
// golang-go and golang-github-hashicorp-go-envparse-dev) using stub nomadVar / secret / service / nomadService
// functions that return hostile values, parses the env files with go-envparse as Nomad does, and asserts every value
// reaches the task verbatim while none of them — nor the registry password — appears in the job JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile } from './index.ts';
import type { ItemSource, JobData } from './variables.ts';
import { aDatabase, aService, aSettings, aState, aVaultBackend } from './fixtures.ts';
import type { ClusterSettings, DesiredState, ValuePart } from './model.ts';
import type { JobRegisterRequest } from './nomad-types.ts';

const HOSTILE = [
  '${attr.unique.hostname}',
  '${NOMAD_ALLOC_ID}$${PORT}',
  "%{ if true }x%{ endif } curl -w '%{http_code}'",
  '{{ env "X" }}${attr.unique.hostname}',
  '{{ with secret "kv/data/other" }}{{ .Data.data.x }}{{ end }}',
  '`id` $(whoami)',
  `it's "quoted" and 'single'`,
  'a=b=c',
  '# not a comment',
  'back\\slash\\n \\" \\u0041',
  'line1\nline2\r\nEVIL=injected\n',
  'KEY2=x\nexport EVIL=1',
  '\u2028\u2029 & <html> é 😀',
  '',
  '  leading and trailing  ',
  'tab\there',
  '\u0007bell\u001b[31m',
  '}}{{',
  '"',
  '\\',
];
const marker = (i: number): string => `M${i}q7:`;
const values = HOSTILE.map((v, i) => `${marker(i)}${v}`);

const root = fileURLToPath(new URL('.', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'drover-render-'));
const binary = join(work, 'render');
test.after(() => rmSync(work, { recursive: true, force: true }));

function goBinary(): string {
  for (const g of ['/usr/bin/go', '/usr/lib/go/bin/go', '/usr/local/go/bin/go']) if (existsSync(g)) return g;
  return 'go';
}

test.before(() => {
  const r = spawnSync(goBinary(), ['build', '-o', binary, '.'], {
    cwd: join(root, 'testdata', 'render'),
    encoding: 'utf8',
    env: {
      ...process.env, GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GO111MODULE: 'on',
      GOCACHE: process.env.GOCACHE ?? join(tmpdir(), 'drover-go-cache'), GOPATH: process.env.GOPATH ?? join(tmpdir(), 'drover-gopath'),
    },
  });
  assert.equal(r.status, 0, `go build failed (install golang-go and golang-github-hashicorp-go-envparse-dev): ${r.stderr}`);
});

interface Rendered { results: { raw: string; env: Record<string, string> | null; error?: string }[]; calls: string[] }

function render(input: unknown): Rendered {
  const r = spawnSync(binary, [], { input: JSON.stringify(input), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as Rendered;
}

const lit = (text: string): { kind: 'text'; parts: ValuePart[] } => ({ kind: 'text', parts: [{ kind: 'literal', text }] });
const HOST = { address: '10.0.0.9', port: 31337 };
const DB_HOST = { address: '10.0.0.10', port: 25432 };
const REGISTRY_PASSWORD = 'M99q7:registry-p@ss"w0rd${x}{{y}}';
const DB = { USER: 'M90q7:user', PASSWORD: 'M91q7:pw<&>"\'{{x}}', NAME: 'M92q7:name', ROOT_PASSWORD: 'M93q7:root' };
const SECRET = 'M94q7:secret\n{{ . }}${NOMAD_TOKEN}%{x}';

function state(settings: ClusterSettings): DesiredState {
  return aState({
    services: [
      aService({
        source: { kind: 'image', reference: 'ghcr.io/acme/web:1', port: 8080, registryCredentialId: 'reg-1' },
        variables: [
          ...values.map((v, i) => ({ name: `V${i}`, value: lit(v) })),
          { name: 'SECRET', value: { kind: 'secret' as const } },
          { name: 'MIXED', value: { kind: 'text' as const, parts: [{ kind: 'literal', text: values[3] ?? '' }, { kind: 'ref', target: 'api', name: 'PRIVATE_HOST' }, { kind: 'literal', text: values[10] ?? '' }] } },
          { name: 'API_URL', value: { kind: 'text' as const, parts: [{ kind: 'ref', target: 'api', name: 'PRIVATE_URL' }] } },
          { name: 'DB_URL', value: { kind: 'text' as const, parts: [{ kind: 'ref', target: 'db', name: 'DATABASE_URL' }] } },
          { name: 'VIA_SHARED', value: { kind: 'text' as const, parts: [{ kind: 'ref', target: 'shared', name: 'S' }] } },
        ],
      }),
      aService({ id: 'svc-api', slug: 'api', public: false }),
    ],
    databases: [aDatabase(), aDatabase({ id: 'db-redis', name: 'cache', engine: 'redis', version: '8', volume: { id: 'vol-r', sizeBytes: 1 } })],
    shared: [{ name: 'S', value: lit(values[5] ?? '') }],
    settings,
  });
}

/** valueOf is what the deployer writes for each item: literal text as is, stub values for secrets. */
function valueOf(s: ItemSource): string {
  switch (s.kind) {
    case 'literal': return s.value;
    case 'secret': return SECRET;
    case 'database': return DB[s.field];
    case 'registry': return s.field === 'password' ? REGISTRY_PASSWORD : 'M98q7:user';
  }
}

function renderJob(job: JobRegisterRequest, data: JobData | undefined, st: DesiredState, catalog: Record<string, { address: string; port: number }[]>): Rendered {
  const items = Object.fromEntries(Object.entries(data?.items ?? {}).map(([k, s]) => [k, valueOf(s)]));
  const templates = (job.Job.TaskGroups[0]?.Tasks[0]?.Templates ?? []).map((t) => ({ text: t.EmbeddedTmpl, env: t.Envvars, left: t.LeftDelim, right: t.RightDelim }));
  const input = {
    templates,
    nomadVars: data?.backend === 'nomad' ? { [data.path]: items } : {},
    secrets: data?.backend === 'vault' ? { [`${data.path}?version=${st.deployment.vaultKvVersion}`]: items } : {},
    services: catalog,
  };
  return render(input);
}

for (const [mode, settings] of [
  ['Nomad Variables + Consul catalog', aSettings()],
  ['Vault + Nomad service catalog', aSettings({ secrets: aVaultBackend, serviceProvider: 'nomad' })],
] as const) {
  test(`${mode}: hostile values reach the task verbatim through Go text/template and go-envparse, and never the job JSON`, () => {
    const st = state(settings);
    const r = compile(st);
    const [web, api, db, cache] = r.jobs;
    assert.ok(web && api && db && cache);
    const catalog = { [api.Job.ID]: [HOST], [db.Job.ID]: [DB_HOST] };
    const out = renderJob(web, r.variables[web.Job.ID], st, catalog);
    for (const res of out.results) assert.equal(res.error, undefined, res.error);
    const env: Record<string, string> = Object.assign({}, ...out.results.map((x) => x.env ?? {}));
    const expected: Record<string, string> = {
      ...Object.fromEntries(values.map((v, i) => [`V${i}`, v])),
      SECRET,
      MIXED: `${values[3]}${HOST.address}${values[10]}`,
      API_URL: `http://${HOST.address}:${HOST.port}`,
      DB_URL: `postgresql://${DB.USER}:${DB.PASSWORD}@${DB_HOST.address}:${DB_HOST.port}/${DB.NAME}`,
      VIA_SHARED: values[5] ?? '',
      DROVER_REGISTRY_USERNAME: 'M98q7:user',
      DROVER_REGISTRY_PASSWORD: REGISTRY_PASSWORD,
    };
    assert.deepEqual(env, expected);
    const fn = settings.serviceProvider === 'nomad' ? 'nomadService' : 'service';
    assert.ok(out.calls.includes(`${fn} ${api.Job.ID}`) && out.calls.includes(`${fn} ${db.Job.ID}`), out.calls.join(', '));

    for (const job of r.jobs) {
      const json = JSON.stringify(job);
      for (const v of [...values.filter((x) => x !== marker(13)), SECRET, REGISTRY_PASSWORD, ...Object.values(DB)]) {
        assert.ok(!json.includes(v) && !json.includes(JSON.stringify(v).slice(1, -1)), `${job.Job.ID} leaks ${JSON.stringify(v)}`);
      }
      for (let i = 0; i < HOSTILE.length; i++) assert.ok(!json.includes(marker(i)), `${job.Job.ID} carries marker ${marker(i)}`);
      assert.ok(!json.includes('M9'), 'no stub secret in the job');
    }
    assert.deepEqual(web.Job.TaskGroups[0]?.Tasks[0]?.Env, { PORT: '8080' });

    // Databases: the generated credentials reach the engine only through the template.
    const pg = renderJob(db, r.variables[db.Job.ID], st, {});
    assert.deepEqual(Object.assign({}, ...pg.results.map((x) => x.env ?? {})), { POSTGRES_USER: DB.USER, POSTGRES_PASSWORD: DB.PASSWORD, POSTGRES_DB: DB.NAME });
    const redis = renderJob(cache, r.variables[cache.Job.ID], st, {});
    assert.equal(redis.results[0]?.error, undefined);
    assert.ok(redis.results[0]?.raw.includes(`requirepass ${JSON.stringify(DB.PASSWORD).replaceAll('<', '\\u003c').replaceAll('>', '\\u003e').replaceAll('&', '\\u0026')}\n`), redis.results[0]?.raw);
  });
}

test('the harness can fail: a template that asks for another path or prints an item raw is caught', () => {
  const bad = render({
    templates: [
      { text: '{{ with nomadVar "nomad/jobs/other" }}{{ end }}', env: true, left: '{{', right: '}}' },
      { text: '{{ with nomadVar "p" }}A={{ index . "k" }}\n{{ end }}', env: true, left: '{{', right: '}}' },
    ],
    nomadVars: { p: { k: 'x\nEVIL=1' } }, secrets: {}, services: {},
  });
  assert.match(bad.results[0]?.error ?? '', /no Nomad variable/);
  assert.deepEqual(bad.results[1]?.env, { A: 'x', EVIL: '1' }, 'without toJSON a newline injects a variable');
});
