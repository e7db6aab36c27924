// jobspecs.test.ts: every jobspecs/*.nomad.hcl is parsed with hcl2json and walked against the block and attribute
// names of Nomad's own jobspec structs (../shared/contracts/nomad-jobspec-hcl.json), so a misspelt `prot "http"` or
// `resourcse {}` fails here although a plain HCL parse accepts it. Also checks the rules Nomad applies itself (a
// service's port is a port of its group), explicit resources, typed and described HCL2 variables, and that the
// Ansible roles pass exactly the variables each jobspec declares.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { configReference } from '../../server/src/platform/config.ts';
import { blocks, contractsDir, filesUnder, labeled, parseHcl, repoRoot, type HclBody } from './tools.ts';

/** BlockDef is one nested block of a jobspec struct in the contract. */
interface BlockDef { labeled: boolean; many: boolean; type: string | null }
/** TypeDef is one jobspec struct in the contract. */
interface TypeDef { attributes: Record<string, string>; blocks: Record<string, BlockDef>; label: string | null }

const contract = JSON.parse(readFileSync(join(contractsDir, 'nomad-jobspec-hcl.json'), 'utf8')) as { root: string; types: Record<string, TypeDef> };
const jobspecFiles = filesUnder(join(repoRoot, 'jobspecs'), (n) => n.endsWith('.nomad.hcl'));
const parsedSpecs = new Map<string, HclBody>();

/** isObject tells a plain JSON object from arrays and scalars. */
function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** walk checks every key of `body` against the contract type `typeName` and returns the violations found. */
function walk(typeName: string, body: unknown, path: string): string[] {
  const t = contract.types[typeName];
  if (!t) return [`${path}: the contract has no type ${typeName}`];
  if (!isObject(body)) return [`${path}: expected a block body`];
  const out: string[] = [];
  for (const [key, value] of Object.entries(body)) {
    const b = t.blocks[key];
    if (b) {
      if (b.type === null) continue; // free-form: meta, env, driver config
      if (b.labeled) {
        if (!isObject(value)) { out.push(`${path}.${key}: must be a labeled block`); continue; }
        for (const [label, bodies] of Object.entries(value)) {
          for (const inner of bodies as unknown[]) out.push(...walk(b.type, inner, `${path}.${key}["${label}"]`));
        }
      } else {
        if (!Array.isArray(value)) { out.push(`${path}.${key}: must be a block, not an attribute`); continue; }
        if (!b.many && value.length > 1) out.push(`${path}.${key}: only one ${key} block is allowed`);
        value.forEach((inner, i) => out.push(...walk(b.type as string, inner, `${path}.${key}[${i}]`)));
      }
    } else if (!(key in t.attributes)) {
      out.push(`${path}: unknown name "${key}" in ${typeName}`);
    }
  }
  return out;
}

/** checkFile checks a parsed jobspec file: only job/variable/locals at the top, and the job against the contract. */
function checkFile(name: string, body: HclBody): string[] {
  const out: string[] = [];
  for (const key of Object.keys(body)) if (!['job', 'variable', 'locals'].includes(key)) out.push(`${name}: unknown top-level "${key}"`);
  const jobs = body.job;
  if (!isObject(jobs) || Object.keys(jobs).length !== 1) return [...out, `${name}: exactly one job block is required`];
  for (const [id, bodies] of Object.entries(jobs)) {
    for (const b of bodies as unknown[]) out.push(...walk(contract.root, b, `${name}:job["${id}"]`));
  }
  return out;
}

/** groupsOf returns [name, body] of every group of the file's job. */
function groupsOf(body: HclBody): Array<[string, HclBody]> {
  const job = Object.values(body.job as Record<string, HclBody[]>)[0]?.[0];
  return Object.entries((job?.group ?? {}) as Record<string, HclBody[]>).map(([n, b]) => [n, b[0] as HclBody]);
}

before(async () => {
  for (const f of jobspecFiles) parsedSpecs.set(basename(f), await parseHcl(basename(f), readFileSync(f, 'utf8')));
});

describe('jobspecs against Nomad\'s jobspec names', () => {
  test('the platform jobspecs exist', () => {
    const names = jobspecFiles.map((f) => basename(f)).sort();
    for (const n of ['drover.nomad.hcl', 'drover-postgres.nomad.hcl', 'drover-redis.nomad.hcl', 'drover-s3.nomad.hcl', 'traefik.nomad.hcl']) {
      assert.ok(names.includes(n), `jobspecs/${n} is missing`);
    }
  });

  test('every block and attribute name exists where it stands', () => {
    for (const [name, body] of parsedSpecs) assert.deepEqual(checkFile(name, body), [], name);
  });

  test('a misspelt block or attribute is caught (the walk can fail)', async () => {
    const text = readFileSync(join(repoRoot, 'jobspecs', 'drover-postgres.nomad.hcl'), 'utf8');
    const broken = text.replace('port "db" {', 'prot "db" {').replace('resources {', 'resourcse {').replace('interval = "10s"', 'intervall = "10s"');
    assert.notEqual(broken, text);
    const errors = checkFile('broken', await parseHcl('broken.hcl', broken));
    assert.ok(errors.some((e) => e.includes('"prot"')), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('"resourcse"')), errors.join('\n'));
    assert.ok(errors.some((e) => e.includes('"intervall"')), errors.join('\n'));
  });
});

describe('jobspecs follow Nomad\'s own rules and ours', () => {
  test('each service port names a port of its group network, and every port is named', () => {
    for (const [name, body] of parsedSpecs) {
      for (const [group, g] of groupsOf(body)) {
        const ports = new Set(blocks(g, 'network').flatMap((n) => Object.keys((n.port ?? {}) as object)));
        assert.ok(ports.size > 0, `${name}/${group}: no named port`);
        const services = [...blocks(g, 'service'), ...Object.values((g.task ?? {}) as Record<string, HclBody[]>).flatMap((t) => blocks(t[0], 'service'))];
        for (const s of services) assert.ok(ports.has(String(s.port)), `${name}/${group}: service port ${s.port} is not a port of the group`);
      }
    }
  });

  test('every task has explicit cpu and memory, and docker config never asks for host powers', () => {
    for (const [name, body] of parsedSpecs) {
      for (const [group, g] of groupsOf(body)) {
        for (const [task, bodies] of Object.entries((g.task ?? {}) as Record<string, HclBody[]>)) {
          const t = bodies[0] as HclBody;
          const r = blocks(t, 'resources')[0];
          assert.ok(r && typeof r.cpu === 'number' && typeof r.memory === 'number', `${name}/${group}/${task}: explicit resources`);
          const config = blocks(t, 'config')[0] ?? {};
          for (const banned of ['privileged', 'volumes', 'mount', 'cap_add', 'devices', 'pid_mode', 'ipc_mode', 'userns_mode', 'security_opt', 'sysctl']) {
            assert.ok(!(banned in config), `${name}/${group}/${task}: docker ${banned}`);
          }
        }
      }
    }
  });

  test('HCL2 variables are typed and described', () => {
    for (const [name, body] of parsedSpecs) {
      for (const [v, bodies] of Object.entries((body.variable ?? {}) as Record<string, HclBody[]>)) {
        const d = bodies[0] as HclBody;
        assert.ok(typeof d.type === 'string' && d.type.length > 0, `${name}: variable ${v} has no type`);
        assert.ok(typeof d.description === 'string' && d.description.length > 10, `${name}: variable ${v} has no description`);
      }
    }
  });

  test('Traefik runs exactly one instance, pinned to the edge node', () => {
    const body = parsedSpecs.get('traefik.nomad.hcl') as HclBody;
    const job = labeled(body, 'job', 'traefik')[0] as HclBody;
    const groups = groupsOf(body);
    assert.equal(groups.length, 1);
    assert.equal(groups[0]?.[1].count, 1);
    assert.ok(blocks(job, 'constraint').some((c) => c.attribute === '${node.unique.name}' && c.value === '${var.edge_node}'), 'pinned to var.edge_node');
    assert.equal(blocks(groups[0]?.[1], 'volume').length + Object.keys((groups[0]?.[1].volume ?? {}) as object).length > 0, true, 'ACME state on a volume');
  });

  test('the control plane runs two replicas by default, spread, health-checked, rolled one at a time', () => {
    const body = parsedSpecs.get('drover.nomad.hcl') as HclBody;
    assert.equal(labeled(body, 'variable', 'replicas')[0]?.default, 2);
    const [, g] = groupsOf(body)[0] as [string, HclBody];
    assert.equal(g.count, '${var.replicas}');
    assert.ok(blocks(g, 'spread').length > 0);
    const checks = blocks(g, 'service').flatMap((s) => blocks(s, 'check'));
    assert.ok(checks.some((c) => c.path === '/healthz'));
    assert.ok(checks.some((c) => c.path === '/readyz'));
    const update = blocks(labeled(body, 'job', 'drover')[0], 'update')[0];
    assert.equal(update?.health_check, 'checks');
    assert.equal(update?.max_parallel, 1);
  });
});

describe("the control plane's environment", () => {
  test('every variable the drover job sets is one Drover reads', () => {
    const known = new Set(configReference.map((e) => e.name));
    const body = parsedSpecs.get('drover.nomad.hcl') as HclBody;
    const [, g] = groupsOf(body)[0] as [string, HclBody];
    const task = Object.values((g.task ?? {}) as Record<string, HclBody[]>)[0]?.[0] as HclBody;
    const names = Object.keys(blocks(task, 'env')[0] ?? {});
    for (const t of blocks(task, 'template').filter((t) => t.env === true)) {
      for (const m of String(t.data).matchAll(/^\s*([A-Z][A-Z0-9_]*)=/gm)) names.push(m[1] as string);
    }
    for (const required of ['DROVER_SECRET_KEY', 'DATABASE_URL', 'REDIS_URL', 'NOMAD_TOKEN', 'NOMAD_MGMT_TOKEN', 'VAULT_TOKEN', 'CONSUL_HTTP_TOKEN']) {
      assert.ok(names.includes(required), `the drover job does not set ${required}`);
    }
    for (const n of names) assert.ok(known.has(n), `the drover job sets ${n}, which Drover does not read`);
  });
});

/** varsPassed returns the -var names that a list of nomad CLI arguments passes. */
function varsPassed(args: string[]): string[] {
  return args.filter((a) => a.startsWith('-var=')).map((a) => a.slice(5).split('=')[0] as string).sort();
}

/** declared returns the variables a jobspec declares and those of them without a default. */
function declared(file: string): { all: string[]; required: string[] } {
  const vars = (parsedSpecs.get(file)?.variable ?? {}) as Record<string, HclBody[]>;
  const all = Object.keys(vars).sort();
  return { all, required: all.filter((v) => !('default' in (vars[v]?.[0] ?? {}))) };
}

describe('the Ansible roles pass what the jobspecs declare', () => {
  test('drover role: every -var is declared and every required variable is passed', () => {
    const jobVars = (parseYaml(readFileSync(join(repoRoot, 'ansible', 'roles', 'drover', 'vars', 'main.yml'), 'utf8')) as { drover_job_vars: Record<string, string[]> }).drover_job_vars;
    for (const [job, args] of Object.entries(jobVars)) {
      const passed = varsPassed(args);
      const d = declared(`${job}.nomad.hcl`);
      for (const v of passed) assert.ok(d.all.includes(v), `${job}: -var ${v} is not declared (nomad job run would refuse it)`);
      for (const v of d.required) assert.ok(passed.includes(v), `${job}: required variable ${v} is not passed`);
    }
  });

  test('drover role: managed databases get the size-enforcing volume plugin the nomad role installs', () => {
    const plugin = (parseYaml(readFileSync(join(repoRoot, 'ansible', 'roles', 'drover', 'defaults', 'main.yml'), 'utf8')) as { drover_volume_plugin: string }).drover_volume_plugin;
    const installed = readFileSync(join(repoRoot, 'ansible', 'roles', 'nomad', 'tasks', 'main.yml'), 'utf8');
    assert.ok(installed.includes(`dest: "{{ nomad_host_volume_plugin_dir }}/${plugin}"`), `the nomad role installs ${plugin}`);
    const jobVars = (parseYaml(readFileSync(join(repoRoot, 'ansible', 'roles', 'drover', 'vars', 'main.yml'), 'utf8')) as { drover_job_vars: Record<string, string[]> }).drover_job_vars;
    assert.ok(jobVars.drover?.includes('-var=volume_plugin={{ drover_volume_plugin }}'), 'the drover job is given the plugin');
    const vars = (parsedSpecs.get('drover.nomad.hcl')?.variable ?? {}) as Record<string, HclBody[]>;
    assert.equal(vars.volume_plugin?.[0]?.default, plugin, 'and defaults to it');
    const task = JSON.stringify(parsedSpecs.get('drover.nomad.hcl'));
    assert.match(task, /"DROVER_VOLUME_PLUGIN":"\$\{var\.volume_plugin\}"/, 'which sets DROVER_VOLUME_PLUGIN');
  });

  test('traefik role: plan and run pass the same declared variables', () => {
    const tasks = parseYaml(readFileSync(join(repoRoot, 'ansible', 'roles', 'traefik', 'tasks', 'main.yml'), 'utf8')) as Array<Record<string, { argv?: string[] }>>;
    const nomadCalls = tasks.map((t) => t['ansible.builtin.command']?.argv).filter((a): a is string[] => Array.isArray(a) && a[1] === 'job');
    assert.deepEqual(nomadCalls.map((a) => a[2]).sort(), ['plan', 'run']);
    const d = declared('traefik.nomad.hcl');
    for (const argv of nomadCalls) {
      const passed = varsPassed(argv);
      assert.deepEqual(passed, d.all, `nomad job ${argv[2]} passes ${passed}, the jobspec declares ${d.all}`);
    }
  });
});
