// Property tests (fast-check): at least 10,000 generated services per run, with hostile tenant text everywhere a
// tenant can put text, prove the security invariants of platform.md on every compiled job: docker config only from
// the allowlist; no host paths; no user-supplied tags; strict hostnames; no tenant text in tags, Meta, Env, commands
// (beyond ${PORT}/${NOMAD_*}, with %{ escaped) or template text; no variable or secret value in the job JSON; and
// (every twentieth run) the contract schema and Nomad's validation rules accept every job.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compile } from './index.ts';
import { aDatabase, aSettings, aState, aVaultBackend } from './fixtures.ts';
import { ENV_NAME_PATTERN, type ClusterSettings, type DesiredState, type Service, type ValuePart, type Variable } from './model.ts';
import { argProblem, hostnameProblem } from './rules.ts';
import { ID_PATTERN } from './names.ts';
import type { JobRegisterRequest } from './nomad-types.ts';
import { validateJob } from '../nomad-validate/index.ts';

const RUNS = 100;
const SERVICES_PER_STATE = 100;

/** Tenant text carries markers so it can be traced wherever it lands. */
const VALUE_MARK = 'Vq9Z';
const ARG_MARK = 'Aq9Z';

const nasty = fc.constantFrom(
  '${attr.unique.hostname}', '${NOMAD_TOKEN}', '%{ if true }', '%{', '{{ env "X" }}', '}}', '{{', '`', '"', "'", '=', '#',
  '\\', '\n', '\r\n', '\u2028', '\u0000', '$(id)', '||', ') || Host(`evil.com`', 'traefik.enable=true', 'drover.managed=true',
  '${{ db.PASSWORD }}', 'é😀', ' ',
);
const text = fc.array(fc.oneof(nasty, fc.string({ maxLength: 12 }), fc.string({ unit: 'grapheme', maxLength: 6 })), { maxLength: 6 }).map((xs) => xs.join(''));
const value = text.map((t) => `${VALUE_MARK}${t}`);
const arg = fc.oneof(
  text.map((t) => `${ARG_MARK}${t}`).filter((a) => argProblem(a) === undefined),
  fc.constantFrom('${PORT}', ':${PORT}', '${NOMAD_ALLOC_ID}', `${ARG_MARK}%{http_code}`, `${ARG_MARK}-w '%{http_code}\\n'`),
);
const label = fc.stringMatching(/^[a-z0-9]{1,8}$/);
const envName = fc.stringMatching(/^[A-Z][A-Z0-9_]{0,10}$/).filter((n) => !/^(PORT|NOMAD_|DROVER_)/.test(n));

interface Shape {
  kind: 'image' | 'artifact' | 'worker' | 'cron';
  port: number;
  digest: boolean;
  registry: boolean;
  command: string[];
  variables: { name: string; value: string; secret: boolean; refShared: boolean; refDb: boolean; refPrev: boolean }[];
  domains: { host: string; verified: boolean }[];
  public: boolean;
  check: string | null;
  volumes: string[];
  replicas: number;
  restart: 'always' | 'on-failure' | 'never';
  memoryMax: boolean;
}

const shape: fc.Arbitrary<Shape> = fc.record({
  kind: fc.constantFrom('image', 'image', 'artifact', 'worker', 'cron'),
  port: fc.integer({ min: 1, max: 65535 }),
  digest: fc.boolean(),
  registry: fc.boolean(),
  command: fc.array(arg, { minLength: 1, maxLength: 4 }),
  variables: fc.uniqueArray(fc.record({ name: envName, value, secret: fc.boolean(), refShared: fc.boolean(), refDb: fc.boolean(), refPrev: fc.boolean() }), { selector: (v) => v.name, maxLength: 4 }),
  domains: fc.uniqueArray(fc.record({ host: fc.tuple(label, label).map(([a, b]) => `${a}.${b}.example.com`), verified: fc.boolean() }), { selector: (d) => d.host, maxLength: 2 }),
  public: fc.boolean(),
  check: fc.option(fc.constantFrom('/healthz', '/a/b?x=1', '/'), { nil: null }),
  volumes: fc.uniqueArray(label, { maxLength: 2 }),
  replicas: fc.integer({ min: 1, max: 5 }),
  restart: fc.constantFrom('always', 'on-failure', 'never'),
  memoryMax: fc.boolean(),
});

const settingsArb: fc.Arbitrary<ClusterSettings> = fc.record({
  networkMode: fc.constantFrom('bridge', 'host'),
  serviceProvider: fc.constantFrom('consul', 'nomad'),
  vault: fc.boolean(),
  allowRawExec: fc.boolean(),
}).map((o) => aSettings({ networkMode: o.networkMode, serviceProvider: o.serviceProvider, allowRawExec: o.allowRawExec, ...(o.vault ? { secrets: aVaultBackend } : {}) }));

function toState(shapes: Shape[], settings: ClusterSettings, run: number): DesiredState {
  const services: Service[] = shapes.map((s, i) => {
    const id = `s${run}-${i}`;
    const slug = `svc-${i}`;
    const listens = s.kind === 'image' || s.kind === 'artifact';
    const prev = i > 0 && (shapes[i - 1]?.kind === 'image' || shapes[i - 1]?.kind === 'artifact') ? `svc-${i - 1}` : undefined;
    const variables: Variable[] = s.variables.map((v) => {
      if (v.secret) return { name: v.name, value: { kind: 'secret' } };
      const parts: ValuePart[] = [{ kind: 'literal', text: v.value }];
      if (v.refShared) parts.push({ kind: 'ref', target: 'shared', name: 'S' });
      if (v.refDb) parts.push({ kind: 'ref', target: 'db', name: 'DATABASE_URL' }, { kind: 'literal', text: v.value });
      if (v.refPrev && prev) parts.push({ kind: 'ref', target: prev, name: 'PRIVATE_URL' });
      return { name: v.name, value: { kind: 'text', parts } };
    });
    const stateful = s.volumes.length > 0 && s.kind !== 'cron';
    return {
      id,
      slug,
      source: s.kind === 'artifact'
        ? { kind: 'artifact', url: `https://releases.example.com/${i}.tgz`, checksum: `sha256:${'0'.repeat(64)}` }
        : {
          kind: 'image', reference: 'ghcr.io/acme/app:1',
          ...(s.kind === 'image' ? { port: s.port } : {}),
          ...(s.digest ? { digest: `sha256:${'e'.repeat(64)}` } : {}),
          ...(s.registry ? { registryCredentialId: `reg-${i}` } : {}),
        },
      command: s.command,
      public: listens && s.public,
      domains: listens ? s.domains.map((d, j) => ({ id: `d${run}-${i}-${j}`, hostname: `${i}-${d.host}`, verified: d.verified })) : [],
      ...(listens && s.check !== null ? { healthcheck: { path: s.check, intervalMs: 10_000, timeoutMs: 2_000 } } : {}),
      replicas: stateful || s.kind === 'cron' ? 1 : s.replicas,
      resources: s.memoryMax ? { memoryMB: 256, memoryMaxMB: 512 } : {},
      restart: s.restart,
      volumes: stateful ? s.volumes.map((n, j) => ({ id: `v${run}-${i}-${j}`, name: n, mount: `/data/${n}`, sizeBytes: 1024 })) : [],
      ...(s.kind === 'cron' ? { cron: { schedule: '0 3 * * *', timezone: 'UTC' } } : {}),
      variables,
    };
  });
  return aState({
    deployment: { id: `dep-${run}`, vaultKvVersion: 2 },
    services,
    databases: [aDatabase()],
    shared: [{ name: 'S', value: { kind: 'text', parts: [{ kind: 'literal', text: `${VALUE_MARK}shared` }] } }],
    settings,
  });
}

const DOCKER_KEYS = new Set(['image', 'command', 'args', 'ports', 'auth']);
const EXEC_KEYS = new Set(['command', 'args']);
const TAG = /^traefik\.http\.(routers|services)\.(d-[a-z0-9-]+?)(-canary)?\.(rule|entrypoints|tls|tls\.certresolver|service|loadbalancer\.passhostheader)=(.*)$/;
const RULE = /^\(?Host\(`([a-z0-9.-]+)`\)(?: \|\| Host\(`[a-z0-9.-]+`\))*\)?(?: && Header\(`X-Drover-Canary`, `true`\))?$/;

/** strings walks a JSON value and yields every string with its path. */
function* strings(v: unknown, path: string): Generator<[string, string]> {
  if (typeof v === 'string') yield [path, v];
  else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* strings(v[i], `${path}/${i}`);
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) {
    yield [`${path}/#key`, k];
    yield* strings(x, `${path}/${k}`);
  }
}

function checkJob(job: JobRegisterRequest, state: DesiredState, verified: Set<string>): void {
  const j = job.Job;
  const svc = state.services.find((s) => s.id === j.Meta['drover.service']);
  for (const [k, v] of Object.entries(j.Meta)) assert.ok(/^drover\.[a-z]+$/.test(k) && ID_PATTERN.test(v), `Meta ${k}=${v}`);
  for (const g of j.TaskGroups) {
    for (const [name, vol] of Object.entries(g.Volumes ?? {})) {
      assert.equal(vol.Type, 'host');
      assert.match(vol.Source, /^dv-[a-z0-9-]+$/);
      assert.ok(vol.Source.length <= 63);
      assert.equal(vol.AccessMode, 'single-node-single-writer');
      assert.equal(name, vol.Name);
    }
    for (const t of g.Tasks) {
      const allowed = t.Driver === 'docker' ? DOCKER_KEYS : EXEC_KEYS;
      for (const k of Object.keys(t.Config)) assert.ok(allowed.has(k), `config key ${k} of ${t.Driver}`);
      assert.ok(t.Driver === 'docker' || t.Driver === 'exec' || (t.Driver === 'raw_exec' && state.settings.allowRawExec));
      for (const [k, v] of Object.entries(t.Env)) {
        assert.equal(k, 'PORT');
        assert.ok(/^[0-9]+$/.test(v) || v === '${NOMAD_PORT_http}', `Env ${k}=${v}`);
      }
      for (const m of t.VolumeMounts ?? []) assert.ok(g.Volumes?.[m.Volume], 'mounts only group volumes');
      for (const a of t.Artifacts ?? []) assert.equal(a.RelativeDest, 'local/');
      const argv = [t.Config.command, ...((t.Config.args as string[] | undefined) ?? [])].filter((x): x is string => typeof x === 'string');
      for (const a of argv) {
        const unescaped = a.replaceAll('%%{', '\u0001');
        assert.equal(argProblem(unescaped), undefined, `arg ${JSON.stringify(a)}`);
        assert.ok(!unescaped.includes('%{'), `unescaped %{ in ${JSON.stringify(a)}`);
      }
      if (t.Config.auth !== undefined) assert.deepEqual(t.Config.auth, [{ username: '${DROVER_REGISTRY_USERNAME}', password: '${DROVER_REGISTRY_PASSWORD}' }]);
      for (const tpl of t.Templates ?? []) {
        for (const line of tpl.EmbeddedTmpl.split('\n')) {
          const m = /^(?:\{\{ if [^}]* \}\})?([A-Za-z_][A-Za-z0-9_]*|requirepass)[= ]\{\{/.exec(line);
          if (m) assert.match(m[1] ?? '', ENV_NAME_PATTERN);
        }
      }
      if (t.Vault) assert.deepEqual([t.Vault.Env, t.Vault.DisableFile], [false, true]);
    }
    for (const s of g.Services ?? []) {
      assert.equal(s.Name, j.ID);
      for (const [k, v] of [...Object.entries(s.Meta), ...Object.entries(s.CanaryMeta)]) {
        assert.match(k, /^drover_[a-z]+$/);
        assert.ok(ID_PATTERN.test(v) || v === 'true');
      }
      for (const tag of [...s.Tags, ...s.CanaryTags]) {
        if (tag === 'traefik.enable=true' || tag === 'drover.managed=true') continue;
        const m = TAG.exec(tag);
        assert.ok(m, `unexpected tag ${tag}`);
        assert.equal(m[2], `d-${svc?.id}`, 'router names come from the service ID');
        if (m[4] === 'rule') {
          assert.match(m[5] ?? '', RULE);
          for (const h of (m[5] ?? '').matchAll(/Host\(`([^`]*)`\)/g)) {
            const host = h[1] ?? '';
            assert.equal(hostnameProblem(host), undefined);
            assert.ok(host.endsWith(`.${state.settings.appsDomain}`) || verified.has(host), `routes only generated or verified hosts: ${host}`);
          }
        }
      }
    }
  }
  for (const [path, s] of strings(job, '')) {
    assert.ok(!s.includes(VALUE_MARK), `a variable value reached the job at ${path}`);
    if (s.includes(ARG_MARK)) assert.match(path, /^\/Job\/TaskGroups\/0\/Tasks\/0\/Config\/(command|args\/[0-9]+)$/, `tenant argv text outside the command at ${path}`);
  }
}

test(`security invariants hold for ${RUNS * SERVICES_PER_STATE} generated services`, () => {
  let services = 0;
  let run = 0;
  fc.assert(
    fc.property(fc.array(shape, { minLength: SERVICES_PER_STATE, maxLength: SERVICES_PER_STATE }), settingsArb, (shapes, settings) => {
      const state = toState(shapes, settings, run++);
      const verified = new Set(state.services.flatMap((s) => s.domains.filter((d) => d.verified).map((d) => d.hostname)));
      const r = compile(state);
      assert.equal(r.jobs.length, state.services.length + state.databases.length);
      for (const job of r.jobs) checkJob(job, state, verified);
      // Every twentieth run, every job also passes the contract schema and Nomad's own validation rules.
      if (run % 20 === 1) for (const job of r.jobs) assert.deepEqual(validateJob(job.Job), [], job.Job.ID);
      services += state.services.length;
    }),
    { numRuns: RUNS },
  );
  assert.ok(services >= 10_000, `${services} services`);
});
