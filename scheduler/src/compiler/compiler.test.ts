import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateNomad } from '../contracts/index.ts';
import { jobWarnings, validateJob } from '../nomad-validate/index.ts';
import { compile as sut, CompileError } from './index.ts';
import { aDatabase, aService, aSettings, aState, aVaultBackend } from './fixtures.ts';
import { variants } from './variants.ts';
import type { JobRegisterRequest, NomadTask } from './nomad-types.ts';

const task = (j: JobRegisterRequest): NomadTask => {
  const t = j.Job.TaskGroups[0]?.Tasks[0];
  assert.ok(t);
  return t;
};
const jobOf = (jobs: JobRegisterRequest[], slug: string): JobRegisterRequest => {
  const j = jobs.find((x) => x.Job.ID.includes(`-${slug}-`));
  assert.ok(j, slug);
  return j;
};

test('contract: every job of every variant validates against nomad-api.schema.json#/$defs/JobRegisterRequest', () => {
  let n = 0;
  for (const v of variants()) {
    for (const job of sut(v.state).jobs) {
      assert.deepEqual(validateNomad('JobRegisterRequest', job), [], `${v.name}: ${job.Job.ID}`);
      n++;
    }
  }
  assert.ok(n >= 4 * 19);
});

test("Nomad's own validation rules: every job of every variant passes validateJob; Nomad's warnings match ours", () => {
  for (const v of variants()) {
    const r = sut(v.state);
    for (const job of r.jobs) {
      assert.deepEqual(validateJob(job.Job), [], `${v.name}: ${job.Job.ID}`);
      for (const w of jobWarnings(job.Job, { memoryOversubscription: v.state.settings.memoryOversubscription })) {
        assert.ok(/memory_max/.test(w) && r.warnings.some((x) => x.includes('memory oversubscription')), `${v.name}: unexpected Nomad warning ${w}`);
      }
    }
  }
});

test('a docker task config holds only allowlisted keys; commands keep ${PORT} and escape %{', () => {
  const { jobs } = sut(variants()[0]!.state);
  const web = task(jobOf(jobs, 'web'));
  assert.equal(web.Driver, 'docker');
  assert.deepEqual(Object.keys(web.Config).sort(), ['args', 'command', 'image']);
  assert.deepEqual(web.Config.args, ['server.js', '--port', '${PORT}', "-w '%%{http_code}'"]);
  assert.deepEqual(web.Env, { PORT: '8080' });
  const up = task(jobOf(jobs, 'uploads'));
  assert.equal(up.Config.image, `ghcr.io/acme/uploads:3@sha256:${'ab'.repeat(32)}`);
  assert.deepEqual(up.Config.auth, [{ username: '${DROVER_REGISTRY_USERNAME}', password: '${DROVER_REGISTRY_PASSWORD}' }]);
});

test('host network mode maps the docker port by label; bridge maps it in the group network', () => {
  const host = sut(variants()[1]!.state).jobs;
  const web = jobOf(host, 'web');
  assert.deepEqual(task(web).Config.ports, ['http']);
  assert.deepEqual(web.Job.TaskGroups[0]?.Networks, [{ Mode: 'host', DynamicPorts: [{ Label: 'http', To: 8080 }] }]);
  assert.equal(web.Job.TaskGroups[0]?.Services?.[0]?.Provider, 'nomad');
  assert.equal(task(web).Consul, null, 'nomadService needs no consul block');
  const bridge = jobOf(sut(variants()[0]!.state).jobs, 'web');
  assert.equal(task(bridge).Config.ports, undefined);
});

test('artifact services run with exec and a checksum, PORT is the allocated port; raw_exec only when allowed', () => {
  const api = jobOf(sut(variants()[0]!.state).jobs, 'api');
  const t = task(api);
  assert.equal(t.Driver, 'exec');
  assert.deepEqual(t.Env, { PORT: '${NOMAD_PORT_http}' });
  assert.deepEqual(t.Artifacts?.[0]?.GetterOptions, { checksum: `sha256:${'5f'.repeat(32)}` });
  assert.deepEqual(api.Job.TaskGroups[0]?.Networks?.[0]?.DynamicPorts, [{ Label: 'http', To: -1 }]);
  assert.equal(task(jobOf(sut(variants()[3]!.state).jobs, 'api')).Driver, 'raw_exec');
});

test('updates: AutoRevert on every service job, canaries auto-promoted when stateless, none with a volume', () => {
  const { jobs } = sut(variants()[0]!.state);
  for (const j of jobs) if (j.Job.Type === 'service') assert.equal(j.Job.Update?.AutoRevert, true, j.Job.ID);
  assert.deepEqual([jobOf(jobs, 'web').Job.Update?.Canary, jobOf(jobs, 'web').Job.Update?.AutoPromote], [2, true]);
  const up = jobOf(jobs, 'uploads');
  assert.deepEqual([up.Job.Update?.Canary, up.Job.Update?.MaxParallel, up.Job.Update?.AutoPromote], [0, 1, false]);
  assert.deepEqual(up.Job.TaskGroups[0]?.Volumes?.files, {
    Name: 'files', Type: 'host', Source: up.Job.TaskGroups[0]?.Volumes?.files?.Source, ReadOnly: false, Sticky: true,
    AccessMode: 'single-node-single-writer', AttachmentMode: 'file-system', PerAlloc: false,
  });
  assert.match(up.Job.TaskGroups[0]?.Volumes?.files?.Source ?? '', /^dv-shop-production-uploads-[0-9a-f]{8}-files-[0-9a-f]{8}$/);
  assert.deepEqual(task(up).VolumeMounts, [{ Volume: 'files', Destination: '/data', ReadOnly: false, PropagationMode: 'private' }]);
});

test('cron: a batch job with a periodic cron spec, its time zone, no overlap and no update block', () => {
  const j = jobOf(sut(variants()[0]!.state).jobs, 'nightly-report');
  assert.equal(j.Job.Type, 'batch');
  assert.equal(j.Job.Update, null);
  assert.deepEqual(j.Job.Periodic, { Enabled: true, Specs: ['0 3 * * *'], SpecType: 'cron', ProhibitOverlap: true, TimeZone: 'Europe/Berlin' });
  assert.equal(j.Job.TaskGroups[0]?.Services, null);
  assert.equal(j.Job.TaskGroups[0]?.RestartPolicy.Mode, 'fail');
});

test('restart: never disables restarts and rescheduling; always keeps the service running', () => {
  const { jobs } = sut(variants()[0]!.state);
  const never = jobOf(jobs, 'api').Job.TaskGroups[0];
  assert.deepEqual([never?.RestartPolicy.Attempts, never?.RestartPolicy.Mode, never?.ReschedulePolicy.Attempts, never?.ReschedulePolicy.Unlimited], [0, 'fail', 0, false]);
  const always = jobOf(jobs, 'web').Job.TaskGroups[0];
  assert.deepEqual([always?.RestartPolicy.Mode, always?.ReschedulePolicy.Unlimited], ['delay', true]);
});

test('resources: defaults, team maximums and memory_max produce warnings', () => {
  const state = aState({
    team: { id: 'a0000000-0000-4000-8000-00000000000a', slug: 'acme', limits: { maxCpu: 400, maxMemoryMB: 512, maxMemoryMaxMB: 600, maxReplicas: 5 } },
    services: [aService({ resources: { cpu: 1000, memoryMB: 4096, memoryMaxMB: 8192 } }), aService({ id: 'x2', slug: 'small', resources: {} })],
    settings: aSettings({ memoryOversubscription: false }),
  });
  const r = sut(state);
  assert.deepEqual(task(r.jobs[0]!).Resources, { CPU: 400, MemoryMB: 512, MemoryMaxMB: 600 });
  assert.deepEqual(task(r.jobs[1]!).Resources, { CPU: 100, MemoryMB: 256 });
  assert.equal(r.warnings.length, 4);
  assert.ok(r.warnings.some((w) => w.includes('memory oversubscription')));
});

test('Traefik tags: generated and verified domains, router names from IDs, managed tag, no load-balancer port', () => {
  const web = jobOf(sut(variants()[0]!.state).jobs, 'web');
  const svc = web.Job.TaskGroups[0]?.Services?.[0];
  const r = 'd-3f1c2e9a-0000-4000-8000-000000000001';
  assert.ok(svc);
  assert.ok(svc.Tags.includes('traefik.enable=true') && svc.Tags.includes('drover.managed=true'));
  assert.ok(svc.Tags.includes(`traefik.http.routers.${r}.rule=Host(\`web-production-62e710b0.apps.drover.test\`) || Host(\`shop.example.com\`)`));
  assert.ok(!svc.Tags.some((t) => t.includes('xn--bcher')), 'unverified domains are not routed');
  assert.ok(!svc.Tags.some((t) => t.includes('loadbalancer.server.port')));
  assert.ok(svc.CanaryTags.some((t) => t.startsWith(`traefik.http.routers.${r}-canary.rule=`)));
  assert.deepEqual(Object.keys(svc.Meta).every((k) => /^[A-Za-z0-9_-]+$/.test(k)), true);
  const priv = jobOf(sut(variants()[0]!.state).jobs, 'uploads').Job.TaskGroups[0]?.Services?.[0];
  assert.deepEqual(priv?.Tags, ['drover.managed=true']);
});

test('Nomad Variables mode: data items prefixed with the deployment ID under nomad/jobs/<job ID>, read with nomadVar', () => {
  const r = sut(variants()[0]!.state);
  const web = jobOf(r.jobs, 'web');
  const data = r.variables[web.Job.ID];
  assert.ok(data);
  assert.equal(data.path, `nomad/jobs/${web.Job.ID}`);
  assert.ok(Object.keys(data.items).every((k) => k.startsWith('e0000000-0000-4000-8000-00000000000e.')));
  assert.ok(Object.values(data.items).some((s) => s.kind === 'literal' && s.value === 'production'));
  assert.ok(Object.values(data.items).some((s) => s.kind === 'secret' && s.name === 'API_KEY'));
  const tpl = task(web).Templates ?? [];
  assert.ok(tpl[0]?.EmbeddedTmpl.startsWith(`{{ with nomadVar "nomad/jobs/${web.Job.ID}" }}`));
  assert.equal(tpl[1]?.ChangeMode, 'restart');
  assert.match(tpl[1]?.EmbeddedTmpl ?? '', /range service "shop-production-api-[0-9a-f]{8}"/);
  assert.deepEqual(task(web).Consul, { Cluster: 'default' });
});

test('Vault mode: workload identity, env=false, disable_file=true and a template pinned to the KV version', () => {
  const r = sut(variants()[2]!.state);
  const web = jobOf(r.jobs, 'web');
  const t = task(web);
  assert.deepEqual(t.Vault, { Role: 'drover-workload', Cluster: 'default', ChangeMode: 'noop', Env: false, DisableFile: true });
  assert.deepEqual(t.Identities?.[0]?.Name, 'vault_default');
  assert.ok(t.Templates?.[0]?.EmbeddedTmpl.includes(`{{ with secret "kv/data/drover/${web.Namespace}/${web.Job.ID}?version=3" }}`));
  assert.equal(r.variables[web.Job.ID]?.path, `kv/data/drover/${web.Namespace}/${web.Job.ID}`);
  assert.throws(() => sut(aState({ deployment: { id: 'dep-1' }, services: [aService({ variables: [{ name: 'A', value: { kind: 'secret' } }] })], settings: aSettings({ secrets: aVaultBackend }) })), CompileError);
});

test('job Meta carries ownership IDs; placement comes only from cluster settings', () => {
  const state = variants()[0]!.state;
  const j = sut(state).jobs[0]!;
  assert.deepEqual(j.Job.Meta, {
    'drover.team': state.team.id, 'drover.project': state.project.id, 'drover.environment': state.environment.id,
    'drover.service': state.services[0]!.id, 'drover.deployment': state.deployment.id,
  });
  assert.deepEqual([j.Job.Datacenters, j.Job.NodePool, j.Job.Constraints], [['dc1'], 'tenants', [{ LTarget: '${node.class}', Operand: '=', RTarget: 'tenant' }]]);
  assert.equal(j.Namespace, 't-acme-bca5e256');
});

test('databases: official image, credentials only through the template, sticky volume, TCP check, no canary', () => {
  const r = sut(aState({ services: [], databases: [aDatabase(), aDatabase({ id: 'r1', name: 'cache', engine: 'redis', version: '8', volume: { id: 'rv1', sizeBytes: 1 } })] }));
  const [pg, redis] = r.jobs;
  assert.ok(pg && redis);
  assert.equal(task(pg).Config.image, 'postgres:17');
  assert.deepEqual(task(pg).Env, {});
  assert.equal(pg.Job.Update?.Canary, 0);
  assert.equal(pg.Job.Update?.AutoRevert, true);
  assert.equal(pg.Job.TaskGroups[0]?.Services?.[0]?.Checks[0]?.Type, 'tcp');
  assert.equal(pg.Job.TaskGroups[0]?.Volumes?.data?.Sticky, true);
  assert.deepEqual(Object.values(r.variables[pg.Job.ID]?.items ?? {}).map((s) => s.kind === 'database' && s.field), ['USER', 'PASSWORD', 'NAME']);
  assert.deepEqual(task(redis).Config.args, ['/secrets/redis.conf']);
  assert.match(task(redis).Templates?.[0]?.EmbeddedTmpl ?? '', /requirepass \{\{ .* \| toJSON \}\}/);
});

test('refuses input that breaks a rule, naming the path', () => {
  const cases: [Parameters<typeof aService>[0], string][] = [
    [{ domains: [{ id: 'd1', hostname: 'a`b.com', verified: true }] }, 'services.web.domains[0]'],
    [{ domains: [{ id: 'd1', hostname: 'x.apps.drover.test', verified: true }] }, 'services.web.domains[0]'],
    [{ command: ['sh', '${HOME}'] }, 'services.web.command[1]'],
    [{ volumes: [{ id: 'v1', name: 'files', mount: '/data/../etc', sizeBytes: 1 }], replicas: 1 }, 'services.web.volumes[0].mount'],
    [{ volumes: [{ id: 'v1', name: 'files', mount: '/data', sizeBytes: 1 }], replicas: 2 }, 'services.web.replicas'],
    [{ resources: { cpu: 0 } }, 'services.web.resources.cpu'],
    [{ variables: [{ name: 'X', value: { kind: 'text', parts: [{ kind: 'ref', target: 'nope', name: 'A' }] } }] }, 'services.web.variables.X'],
    [{ variables: [{ name: 'PORT', value: { kind: 'secret' } }] }, 'services.web.variables.PORT'],
  ];
  for (const [o, path] of cases) {
    assert.throws(() => sut(aState({ services: [aService(o)] })), (e: unknown) => e instanceof CompileError && e.path === path, path);
  }
  const cycle = aState({ services: [
    aService({ variables: [{ name: 'A', value: { kind: 'text', parts: [{ kind: 'ref', target: 'api', name: 'B' }] } }] }),
    aService({ id: 's2', slug: 'api', variables: [{ name: 'B', value: { kind: 'text', parts: [{ kind: 'ref', target: 'web', name: 'A' }] } }] }),
  ] });
  assert.throws(() => sut(cycle), /reference cycle: web\.A → api\.B → web\.A/);
  const twice = aState({ services: [aService({ domains: [{ id: 'd1', hostname: 'a.example.com', verified: true }] }), aService({ id: 's2', slug: 'b', domains: [{ id: 'd2', hostname: 'a.example.com', verified: false }] })] });
  assert.throws(() => sut(twice), (e: unknown) => e instanceof CompileError && e.path === 'services.b.domains[0]');
});
