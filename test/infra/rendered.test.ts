// rendered.test.ts: renders every Ansible role's templates with the roles' defaults (Ansible's own template engine,
// test/infra/fixtures/render.yml), parses each output as what it is (HCL with hcl2json, JSON, YAML, nftables in a
// throwaway network namespace) and asserts the secure defaults on the parsed configuration.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { decodeSecretKey, loadConfig } from '../../server/src/platform/config.ts';
import {
  blocks, contractsDir, labeled, one, parseHcl, renderRoles, repoRoot, run,
  type HclBody, type Rendered, type RenderSecrets,
} from './tools.ts';

let hosts: Record<'drover-1' | 'worker-1', Rendered>;
let secrets: RenderSecrets;
let outDir: string;
const hcl = new Map<string, HclBody>();

/** file returns a rendered file of a host, failing when the role did not render it. */
function file(host: 'drover-1' | 'worker-1', name: string): string {
  const text = hosts[host][name];
  assert.ok(text !== undefined, `${host}: ${name} was not rendered`);
  return text;
}

/** parsed returns the hcl2json form of a rendered HCL file (parsed once in before()). */
function parsed(host: 'drover-1' | 'worker-1', name: string): HclBody {
  const body = hcl.get(`${host}:${name}`);
  assert.ok(body, `${host}: ${name} was not parsed`);
  return body;
}

/** roleDefaults reads a role's defaults/main.yml. */
function roleDefaults(role: string): Record<string, unknown> {
  return parseYaml(readFileSync(join(repoRoot, 'ansible', 'roles', role, 'defaults', 'main.yml'), 'utf8')) as Record<string, unknown>;
}

before(async () => {
  ({ hosts, secrets, outDir } = await renderRoles());
  for (const host of ['drover-1', 'worker-1'] as const) {
    for (const [name, text] of Object.entries(hosts[host])) {
      if (name.endsWith('.hcl')) hcl.set(`${host}:${name}`, await parseHcl(name, text));
    }
  }
});

after(() => rmSync(outDir, { recursive: true, force: true }));

describe('every rendered template parses', () => {
  test('each role rendered its templates for both hosts', () => {
    for (const host of ['drover-1', 'worker-1'] as const) {
      const roles = new Set(Object.keys(hosts[host]).map((k) => k.split('/')[0]));
      for (const role of ['common', 'pki', 'docker', 'consul', 'vault', 'nomad', 'traefik', 'drover']) {
        assert.ok(roles.has(role), `${host}: no template of role ${role} was rendered`);
      }
    }
  });

  test('HCL, JSON and YAML outputs parse, and no Jinja is left over', () => {
    for (const host of ['drover-1', 'worker-1'] as const) {
      for (const [name, text] of Object.entries(hosts[host])) {
        if (name.endsWith('.json')) assert.doesNotThrow(() => JSON.parse(text), `${host}: ${name} is not JSON`);
        if (name.endsWith('.yml')) assert.doesNotThrow(() => parseYaml(text), `${host}: ${name} is not YAML`);
        assert.doesNotMatch(text, /\{%|%\}/, `${host}: ${name} still has Jinja statements`);
      }
    }
    assert.ok(hcl.size >= 20, `expected the HCL files of both hosts to be parsed, got ${hcl.size}`);
  });

  test('nftables rule sets pass nft\'s own check', async () => {
    for (const host of ['drover-1', 'worker-1'] as const) {
      for (const name of ['common/nftables.conf', 'common/drover-egress.nft']) {
        const p = join(outDir, `${host}-${name.replace('/', '-')}`);
        writeFileSync(p, file(host, name));
        const r = await run('nft', ['-c', '-f', p]);
        assert.equal(r.status, 0, `${host}: nft -c -f ${name}:\n${r.stderr}`);
      }
    }
  });

  test('the OpenSSL request settings name what Consul and Nomad verify', () => {
    const group = parseYaml(readFileSync(join(repoRoot, 'ansible', 'group_vars', 'all.yml'), 'utf8')) as Record<string, string>;
    const san = /^subjectAltName = (.*)$/m.exec(file('drover-1', 'pki/node-cert.cnf'))?.[1] ?? '';
    const names = san.split(',').map((s) => s.trim());
    assert.ok(names.includes(`DNS:server.${group.cluster_datacenter}.consul`), san);
    assert.ok(names.includes(`DNS:server.${group.cluster_region}.nomad`), san);
    assert.ok(names.includes('IP:127.0.0.1'), san);
    // A client-only node gets client names only: it cannot pose as a Consul or Nomad server.
    const workerSan = /^subjectAltName = (.*)$/m.exec(file('worker-1', 'pki/node-cert.cnf'))?.[1] ?? '';
    assert.ok(workerSan.includes(`DNS:client.${group.cluster_region}.nomad`), workerSan);
    assert.doesNotMatch(workerSan, /DNS:server\./, workerSan);
  });
});

/** NftRule is one rule of `nft -j list ruleset`. */
interface NftRule { chain: string; table: string; expr: Array<Record<string, unknown>> }

/** loadRuleset loads rule files into a fresh network namespace (the kernel parses them) and lists them as JSON. */
async function loadRuleset(files: string[]): Promise<{ rules: NftRule[]; chains: Array<Record<string, unknown>> }> {
  const script = files.map((f) => `nft -f '${f}'`).join(' && ') + ' && nft -j list ruleset';
  // unshare gives a private network namespace; the file names are ours (mkdtemp), never user input.
  const r = await run('unshare', ['--net', 'sh', '-c', script]);
  assert.equal(r.status, 0, r.stderr);
  const items = (JSON.parse(r.stdout) as { nftables: Array<Record<string, unknown>> }).nftables;
  return {
    rules: items.filter((i) => i.rule).map((i) => i.rule as NftRule),
    chains: items.filter((i) => i.chain).map((i) => i.chain as Record<string, unknown>),
  };
}

/** matches lists the (left, right) pairs of a rule's match expressions as JSON strings, for lookup. */
function matches(rule: NftRule): Array<{ left: string; right: string }> {
  return rule.expr.filter((e) => e.match).map((e) => {
    const m = e.match as { left: unknown; right: unknown };
    return { left: JSON.stringify(m.left), right: JSON.stringify(m.right) };
  });
}

/** verdict is a rule's final verdict (drop, accept, reject, …). */
function verdict(rule: NftRule): string {
  const last = rule.expr[rule.expr.length - 1] ?? {};
  return Object.keys(last)[0] ?? '';
}

describe('host firewall (loaded by the kernel in a private network namespace)', () => {
  test('workloads cannot reach link-local addresses or any node\'s agent ports', async () => {
    const p = join(outDir, 'fw-drover-1.nft');
    writeFileSync(p, file('drover-1', 'common/nftables.conf'));
    const { rules, chains } = await loadRuleset([p]);
    const input = chains.find((c) => c.table === 'drover' && c.hook === 'input');
    assert.equal(input?.policy, 'drop', 'input must drop by default');

    const fromWorkloads = (r: NftRule) => matches(r).some((m) => m.left.includes('iifname') && m.right === '"@workload_ifaces"');
    const forward = rules.filter((r) => r.table === 'drover' && r.chain === 'forward');
    assert.ok(forward.some((r) => fromWorkloads(r) && verdict(r) === 'drop'
      && matches(r).some((m) => m.left.includes('"daddr"') && m.right === JSON.stringify({ prefix: { addr: '169.254.0.0', len: 16 } }))),
    'forward: workloads → 169.254.0.0/16 must be dropped');
    assert.ok(forward.some((r) => fromWorkloads(r) && verdict(r) === 'drop' && matches(r).some((m) => m.right === '"@agent_tcp_ports"')),
      'forward: workloads → agent TCP ports must be dropped');

    const inputRules = rules.filter((r) => r.table === 'drover' && r.chain === 'input');
    const firstAccept = inputRules.findIndex((r) => verdict(r) === 'accept');
    const dropAgents = inputRules.findIndex((r) => fromWorkloads(r) && verdict(r) === 'drop' && matches(r).some((m) => m.right === '"@agent_tcp_ports"'));
    assert.ok(dropAgents >= 0 && dropAgents < firstAccept, 'input: workloads → local agent ports must be dropped before any accept');

    const sets = JSON.parse((await run('unshare', ['--net', 'sh', '-c', `nft -f '${p}' && nft -j list sets`])).stdout) as { nftables: Array<{ set?: { name: string; elem: unknown[] } }> };
    const agentPorts = sets.nftables.find((s) => s.set?.name === 'agent_tcp_ports')?.set?.elem ?? [];
    for (const port of [4646, 4647, 8200, 8501, 8300]) assert.ok(agentPorts.includes(port), `agent_tcp_ports lacks ${port}`);
    const ifaces = sets.nftables.find((s) => s.set?.name === 'workload_ifaces')?.set?.elem ?? [];
    assert.ok(ifaces.includes('nomad') && ifaces.includes('docker0'), `workload_ifaces: ${JSON.stringify(ifaces)}`);
  });

  test('after boot the host itself cannot reach 169.254.0.0/16', async () => {
    const p = join(outDir, 'egress.nft');
    writeFileSync(p, file('worker-1', 'common/drover-egress.nft'));
    const { rules, chains } = await loadRuleset([p]);
    assert.ok(chains.some((c) => c.table === 'drover_egress' && c.hook === 'output'));
    assert.ok(rules.some((r) => r.chain === 'output' && ['drop', 'reject'].includes(verdict(r))
      && matches(r).some((m) => m.right === JSON.stringify({ prefix: { addr: '169.254.0.0', len: 16 } }))),
    'output must refuse 169.254.0.0/16');
    const unit = file('worker-1', 'common/drover-egress.service');
    assert.match(unit, /^After=.*cloud-final\.service/m, 'the egress rules load only after cloud-init finished');
  });

  test('only the edge node opens 80/443 to everyone', async () => {
    const opened = async (host: 'drover-1' | 'worker-1') => {
      const p = join(outDir, `pub-${host}.nft`);
      writeFileSync(p, file(host, 'common/nftables.conf'));
      const { rules } = await loadRuleset([p]);
      return rules.some((r) => r.chain === 'input' && verdict(r) === 'accept'
        && matches(r).some((m) => m.left.includes('"dport"') && m.right.includes('443')) && !matches(r).some((m) => m.left.includes('saddr')));
    };
    assert.equal(await opened('drover-1'), true);
    assert.equal(await opened('worker-1'), false);
  });
});

describe('Nomad agents', () => {
  test('clients run docker unprivileged with docker volumes disabled, and raw_exec off', () => {
    for (const host of ['drover-1', 'worker-1'] as const) {
      const cfg = parsed(host, 'nomad/nomad.hcl');
      const docker = one(labeled(cfg, 'plugin', 'docker')[0], 'config');
      assert.equal(docker.allow_privileged, false, `${host}: docker allow_privileged`);
      assert.equal(one(docker, 'volumes').enabled, false, `${host}: docker volumes`);
      const caps = docker.allow_caps as string[];
      assert.ok(Array.isArray(caps) && !caps.some((c) => ['sys_admin', 'net_admin', 'net_raw', 'all'].includes(c.toLowerCase())), `${host}: allow_caps ${caps}`);
      assert.equal(one(labeled(cfg, 'plugin', 'raw_exec')[0], 'config').enabled, false, `${host}: raw_exec`);
    }
  });

  test('TLS and ACLs are on; servers encrypt gossip; clients use the size-enforcing volume plugin folder', () => {
    for (const host of ['drover-1', 'worker-1'] as const) {
      const cfg = parsed(host, 'nomad/nomad.hcl');
      const tls = one(cfg, 'tls');
      assert.equal(tls.http, true);
      assert.equal(tls.rpc, true);
      assert.equal(tls.verify_server_hostname, true);
      assert.equal(one(cfg, 'acl').enabled, true);
      const client = one(cfg, 'client');
      assert.ok(typeof client.host_volumes_dir === 'string' && typeof client.host_volume_plugin_dir === 'string');
    }
    const server = one(parsed('drover-1', 'nomad/nomad.hcl'), 'server');
    assert.equal(server.encrypt, secrets.nomadGossipKey);
    assert.equal(one(server, 'default_scheduler_config').memory_oversubscription_enabled, true);
    assert.equal(blocks(parsed('worker-1', 'nomad/nomad.hcl'), 'server').length, 0, 'worker-1 is no server');
    assert.equal(one(parsed('worker-1', 'nomad/nomad.hcl'), 'client').node_pool, 'builds');
    assert.equal(one(parsed('drover-1', 'nomad/nomad.hcl'), 'client').node_pool, 'apps');
  });

  test('only the edge node has the Traefik ACME volume', () => {
    assert.equal(labeled(one(parsed('drover-1', 'nomad/nomad.hcl'), 'client'), 'host_volume', 'traefik-acme').length, 1);
    assert.equal(labeled(one(parsed('worker-1', 'nomad/nomad.hcl'), 'client'), 'host_volume', 'traefik-acme').length, 0);
  });

  test('workload identity audiences match what Consul and Vault accept', () => {
    const cfg = parsed('drover-1', 'nomad/nomad.hcl');
    const consul = one(cfg, 'consul');
    assert.equal(consul.ssl, true);
    const method = JSON.parse(file('drover-1', 'nomad/consul-auth-method.json')) as { BoundAudiences: string[]; ClaimMappings: Record<string, string> };
    assert.deepEqual(one(consul, 'task_identity').aud, method.BoundAudiences);
    assert.deepEqual(one(consul, 'service_identity').aud, method.BoundAudiences);
    assert.equal(method.ClaimMappings.nomad_service, 'nomad_service', 'the service binding rule selects on nomad_service');
    const role = JSON.parse(file('drover-1', 'vault/jwt-role.json')) as Record<string, unknown>;
    const vault = one(cfg, 'vault');
    assert.deepEqual(one(vault, 'default_identity').aud, role.bound_audiences);
    assert.match(String(vault.address), /^https:/);
  });
});

/** nomadNamespaceExpansion is how Nomad expands a namespace `policy` shorthand (acl/policy.go, expandNamespacePolicy). */
const nomadNamespaceExpansion: Record<string, string[]> = {
  deny: ['deny'],
  read: ['list-jobs', 'parse-job', 'read-job', 'csi-list-volume', 'csi-read-volume', 'read-job-scaling', 'list-scaling-policies', 'read-scaling-policy', 'host-volume-read'],
  write: ['list-jobs', 'parse-job', 'read-job', 'csi-list-volume', 'csi-read-volume', 'read-job-scaling', 'list-scaling-policies', 'read-scaling-policy', 'host-volume-read',
    'scale-job', 'submit-job', 'dispatch-job', 'read-logs', 'read-fs', 'alloc-exec', 'alloc-lifecycle', 'csi-mount-volume', 'csi-write-volume', 'submit-recommendation', 'host-volume-create'],
  scale: ['list-scaling-policies', 'read-scaling-policy', 'read-job-scaling', 'scale-job'],
};

describe("Drover's Nomad policy", () => {
  test('is limited to t-* namespaces and dv-* volumes, with no alloc-exec and no host-volume-register', () => {
    const policy = parsed('drover-1', 'nomad/drover-policy.hcl');
    const namespaces = policy.namespace as Record<string, HclBody[]>;
    assert.ok(namespaces && Object.keys(namespaces).length > 0, 'no namespace rule');
    const granted = new Set<string>();
    for (const [glob, bodies] of Object.entries(namespaces)) {
      assert.match(glob, /^t-/, `namespace rule ${glob} reaches beyond team namespaces`);
      for (const b of bodies) {
        for (const c of (b.capabilities as string[] | undefined) ?? []) granted.add(c);
        if (typeof b.policy === 'string') for (const c of nomadNamespaceExpansion[b.policy] ?? ['unknown-policy']) granted.add(c);
      }
    }
    for (const banned of ['alloc-exec', 'alloc-node-exec', 'host-volume-register', 'csi-register-plugin', 'unknown-policy']) {
      assert.ok(!granted.has(banned), `Drover's token may ${banned}`);
    }
    for (const needed of ['submit-job', 'dispatch-job', 'read-job', 'read-logs', 'read-fs', 'alloc-lifecycle', 'scale-job', 'host-volume-create', 'host-volume-delete']) {
      assert.ok(granted.has(needed), `Drover's token lacks ${needed}`);
    }
    const vars = labeled(one(Object.values(namespaces)[0]?.[0], 'variables'), 'path', 'nomad/jobs/*');
    assert.equal(vars.length, 1, 'variables are limited to nomad/jobs/*');
    assert.deepEqual(Object.keys(one(Object.values(namespaces)[0]?.[0], 'variables').path as object), ['nomad/jobs/*']);

    const volumes = policy.host_volume as Record<string, HclBody[]>;
    assert.deepEqual(Object.keys(volumes).map((g) => g.startsWith('dv-')), Object.keys(volumes).map(() => true), `host_volume globs: ${Object.keys(volumes)}`);
    assert.equal(one(policy, 'node').policy, 'read');
    for (const k of Object.keys(policy)) assert.ok(['namespace', 'host_volume', 'node'].includes(k), `unexpected rule ${k}`);
  });

  test('tasks are bound to the read-only role, services to their own identity', () => {
    const tasks = parseYaml(readFileSync(join(repoRoot, 'ansible', 'roles', 'nomad', 'tasks', 'consul_workload_identity.yml'), 'utf8')) as Array<Record<string, { argv?: unknown }>>;
    const argvs = tasks.map((t) => t['ansible.builtin.command']?.argv).filter((a): a is string[] => Array.isArray(a)).map((a) => a.map(String));
    const rules = argvs.filter((a) => a[2] === 'binding-rule' && a[3] === 'create');
    assert.equal(rules.length, 2);
    const roleRule = rules.find((a) => a.includes('-bind-type=role'));
    assert.ok(roleRule?.includes('-bind-name={{ nomad_consul_tasks_role }}'));
    assert.ok(roleRule?.includes('-selector="nomad_service" not in value'));
    const serviceRule = rules.find((a) => a.includes('-bind-type=service'));
    assert.ok(serviceRule?.includes('-bind-name=${value.nomad_service}'));
    const roleCreate = argvs.find((a) => a[2] === 'role' && a[3] === 'create');
    assert.ok(roleCreate?.includes('-policy-name=nomad-tasks'), 'the tasks role carries only the nomad-tasks policy');
    assert.equal(roleCreate?.filter((x) => x.startsWith('-policy-name=')).length, 1);
  });

  test('the tasks\' Consul role is read-only discovery', () => {
    const p = parsed('drover-1', 'nomad/consul-tasks-policy.hcl');
    assert.deepEqual(Object.keys(p).sort(), ['node_prefix', 'service_prefix']);
    for (const k of ['node_prefix', 'service_prefix']) {
      for (const [, bodies] of Object.entries(p[k] as Record<string, HclBody[]>)) for (const b of bodies) assert.equal(b.policy, 'read');
    }
  });
});

describe('Consul agents', () => {
  test('gossip encryption with a 32-byte key, verified both ways', () => {
    for (const host of ['drover-1', 'worker-1'] as const) {
      const cfg = parsed(host, 'consul/consul.hcl');
      assert.equal(cfg.encrypt, secrets.consulGossipKey);
      assert.equal(Buffer.from(String(cfg.encrypt), 'base64').length, 32);
      assert.equal(cfg.encrypt_verify_incoming, true);
      assert.equal(cfg.encrypt_verify_outgoing, true);
    }
  });

  test('ACLs deny by default; TLS everywhere; no plain-HTTP API', () => {
    for (const host of ['drover-1', 'worker-1'] as const) {
      const cfg = parsed(host, 'consul/consul.hcl');
      const acl = one(cfg, 'acl');
      assert.equal(acl.enabled, true);
      assert.equal(acl.default_policy, 'deny');
      const tls = one(cfg, 'tls');
      assert.equal(one(tls, 'defaults').verify_incoming, true);
      assert.equal(one(tls, 'defaults').verify_outgoing, true);
      assert.equal(one(tls, 'internal_rpc').verify_server_hostname, true);
      assert.equal(one(cfg, 'ports').http, -1);
      assert.ok(Number(one(cfg, 'ports').https) > 0);
      assert.equal(one(acl, 'tokens').agent, secrets.tokens.consul_agent_token);
    }
    assert.equal(parsed('worker-1', 'consul/consul.hcl').server, false);
    assert.equal(parsed('drover-1', 'consul/consul.hcl').server, true);
  });
});

describe('Vault', () => {
  test('listens only with TLS', () => {
    const cfg = parsed('drover-1', 'vault/vault.hcl');
    const listeners = cfg.listener as Record<string, HclBody[]>;
    const all = Object.values(listeners).flat();
    assert.ok(all.length > 0);
    for (const l of all) {
      assert.notEqual(l.tls_disable, true);
      assert.notEqual(l.tls_disable, 'true');
      assert.ok(typeof l.tls_cert_file === 'string' && typeof l.tls_key_file === 'string', 'listener without a certificate');
    }
    assert.match(String(cfg.api_addr), /^https:/);
    const raft = labeled(cfg, 'storage', 'raft')[0];
    for (const j of blocks(raft, 'retry_join')) assert.match(String(j.leader_api_addr), /^https:/);
  });

  test("the workload policy grants a job only its own path", () => {
    const mount = String(roleDefaults('vault').vault_kv_mount);
    const policy = parsed('drover-1', 'vault/workload-policy.hcl');
    assert.deepEqual(Object.keys(policy), ['path']);
    const paths = policy.path as Record<string, HclBody[]>;
    const alias = `identity.entity.aliases.${secrets.vaultJwtAccessor}.metadata`;
    assert.deepEqual(Object.keys(paths), [`${mount}/data/drover/{{${alias}.nomad_namespace}}/{{${alias}.nomad_job_id}}`]);
    for (const [p, bodies] of Object.entries(paths)) {
      assert.doesNotMatch(p, /[*+]/, 'no globs');
      for (const b of bodies) assert.deepEqual(b.capabilities, ['read']);
    }
    const role = JSON.parse(file('drover-1', 'vault/jwt-role.json')) as { claim_mappings: Record<string, string>; token_policies: string[]; token_explicit_max_ttl: number };
    assert.equal(role.claim_mappings.nomad_namespace, 'nomad_namespace');
    assert.equal(role.claim_mappings.nomad_job_id, 'nomad_job_id');
    assert.deepEqual(role.token_policies, [roleDefaults('vault').vault_workload_policy]);
  });

  test("Drover's Vault policy stays under <mount>/*/drover/", () => {
    const mount = String(roleDefaults('vault').vault_kv_mount);
    const policy = parsed('drover-1', 'vault/drover-policy.hcl');
    assert.deepEqual(Object.keys(policy), ['path']);
    for (const [p, bodies] of Object.entries(policy.path as Record<string, HclBody[]>)) {
      assert.ok(new RegExp(`^${mount}/(data|metadata|delete|destroy)/drover/`).test(p), `path ${p} is outside drover/`);
      for (const b of bodies) assert.ok(!(b.capabilities as string[]).includes('sudo'));
    }
  });
});

describe('Traefik static configuration', () => {
  test('serves Prometheus metrics on an internal entry point only: the cluster network reaches it, workloads and the internet do not', async () => {
    const cfg = parseYaml(file('drover-1', 'traefik/traefik.yml')) as {
      metrics?: { prometheus?: { entryPoint?: string; addServicesLabels?: boolean } };
      entryPoints: Record<string, { address: string; asDefault?: boolean }>;
    };
    const prom = cfg.metrics?.prometheus;
    assert.equal(prom?.addServicesLabels, true, 'Drover reads the per-service byte counters');
    const ep = cfg.entryPoints[prom?.entryPoint ?? ''];
    assert.ok(ep, `metrics entry point ${prom?.entryPoint} is not defined`);
    assert.ok(!['web', 'websecure'].includes(prom?.entryPoint ?? ''), 'metrics are not on a public entry point');
    const port = Number(/^:(\d+)$/.exec(ep.address)?.[1]);
    assert.equal(port, roleDefaults('traefik').traefik_metrics_port);
    assert.ok(!(roleDefaults('common').common_public_tcp_ports as number[]).includes(port), 'the metrics port is not public');
    // Routers that name no entry point never land on the internal ones.
    assert.deepEqual(Object.entries(cfg.entryPoints).filter(([, e]) => e.asDefault).map(([n]) => n), ['websecure']);
    // The edge's firewall: the metrics port is an agent port (cluster network only; dropped from workloads, input and forward).
    const p = join(outDir, 'fw-edge-metrics.nft');
    writeFileSync(p, file('drover-1', 'common/nftables.conf'));
    const sets = JSON.parse((await run('unshare', ['--net', 'sh', '-c', `nft -f '${p}' && nft -j list sets`])).stdout) as { nftables: Array<{ set?: { name: string; elem: unknown[] } }> };
    const agentPorts = sets.nftables.find((s) => s.set?.name === 'agent_tcp_ports')?.set?.elem ?? [];
    assert.ok(agentPorts.includes(port), `agent_tcp_ports ${JSON.stringify(agentPorts)} lacks the metrics port ${port}`);
    // The jobspec reserves the same port by default, and the drover job finds it through Consul.
    const job = await parseHcl('traefik.nomad.hcl', readFileSync(join(repoRoot, 'jobspecs', 'traefik.nomad.hcl'), 'utf8'));
    assert.equal(labeled(job, 'variable', 'metrics_port')[0]?.default, port);
    const group = labeled(labeled(job, 'job', 'traefik')[0], 'group', 'traefik')[0];
    assert.ok(blocks(group, 'service').some((s) => s.name === 'traefik-metrics' && s.port === 'metrics' && !((s.tags as string[] | undefined) ?? []).includes('drover.managed=true')));
    const drover = readFileSync(join(repoRoot, 'jobspecs', 'drover.nomad.hcl'), 'utf8');
    assert.match(drover, /range service "traefik-metrics"[\s\S]*DROVER_TRAEFIK_METRICS_URL="http:\/\/\{\{ \.Address \}\}:\{\{ \.Port \}\}\/metrics"/);
  });

  test('validates against the Traefik v3 static schema', () => {
    const schema = JSON.parse(readFileSync(join(contractsDir, 'traefik-v3.json'), 'utf8')) as Record<string, unknown>;
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const cfg = parseYaml(file('drover-1', 'traefik/traefik.yml')) as unknown;
    assert.ok(validate(cfg), JSON.stringify(validate.errors, null, 2));
    // The schema can fail: a misspelt key is refused.
    const misspelt = structuredClone(cfg) as { providers: { consulCatalog: Record<string, unknown> } };
    misspelt.providers.consulCatalog.exposedbydefault = false;
    assert.equal(validate(misspelt), false, 'the schema must refuse unknown keys');
  });

  test('exposes only Drover-managed services and redirects HTTP to HTTPS', async () => {
    const cfg = parseYaml(file('drover-1', 'traefik/traefik.yml')) as {
      providers: { consulCatalog: { exposedByDefault: boolean; constraints: string; watch: boolean; endpoint: { scheme: string } } };
      entryPoints: Record<string, { address: string; http?: { redirections?: { entryPoint?: { to: string; scheme: string } } } }>;
    };
    const cc = cfg.providers.consulCatalog;
    assert.equal(cc.exposedByDefault, false);
    assert.equal(cc.watch, true);
    assert.equal(cc.endpoint.scheme, 'https');
    const tag = /^Tag\(`([^`]+)`\)$/.exec(cc.constraints)?.[1];
    assert.equal(tag, 'drover.managed=true', `constraint ${cc.constraints}`);
    const redirect = Object.values(cfg.entryPoints).find((e) => e.address === ':80')?.http?.redirections?.entryPoint;
    assert.equal(redirect?.scheme, 'https');
    assert.equal(cfg.entryPoints[redirect?.to ?? '']?.address, ':443');
    // Drover's own service carries the tag the constraint asks for, so the dashboard is routed.
    const job = await parseHcl('drover.nomad.hcl', readFileSync(join(repoRoot, 'jobspecs', 'drover.nomad.hcl'), 'utf8'));
    const group = labeled(labeled(job, 'job', 'drover')[0], 'group', 'api')[0];
    const tags = blocks(group, 'service').flatMap((s) => (s.tags as string[] | undefined) ?? []);
    assert.ok(tags.includes(tag ?? ''), `drover's service tags ${tags} do not satisfy ${cc.constraints}`);
  });
});

/** Schema is a JSON Schema node of the Traefik dynamic configuration contract. */
type Schema = { $ref?: string; type?: string | string[]; properties?: Record<string, Schema>; additionalProperties?: Schema | boolean; oneOf?: Schema[]; anyOf?: Schema[]; items?: Schema };

/**
 * tagsToDynamic turns a service's traefik.* catalog tags into the dynamic configuration Traefik's Consul Catalog
 * provider builds from them (contracts README): keys matched case-insensitively to the schema's names, values coerced
 * by the schema's types, `tls=true` as `{}`, a router without a service given the one service the tags define, and
 * each load balancer given a server (the catalog supplies those).
 */
function tagsToDynamic(tags: string[], schema: Schema): Record<string, unknown> {
  const defs = (schema as { definitions?: Record<string, Schema> }).definitions ?? {};
  const deref = (s: Schema): Schema => (s.$ref ? deref(defs[s.$ref.replace('#/definitions/', '')] as Schema) : s);
  const child = (s: Schema, seg: string): { name: string; schema: Schema } | undefined => {
    const node = deref(s);
    const maps = [node.properties, ...(node.oneOf ?? []).map((o) => deref(o).properties), ...(node.anyOf ?? []).map((o) => deref(o).properties)];
    for (const m of maps) {
      const hit = Object.keys(m ?? {}).find((k) => k.toLowerCase() === seg.toLowerCase());
      if (hit && m) return { name: hit, schema: m[hit] as Schema };
    }
    if (typeof node.additionalProperties === 'object') return { name: seg, schema: node.additionalProperties };
    return undefined;
  };
  const out: Record<string, unknown> = {};
  for (const tag of tags) {
    if (!tag.startsWith('traefik.') || tag === 'traefik.enable=true' || tag.startsWith('traefik.consulcatalog.')) continue;
    const eq = tag.indexOf('=');
    const path = tag.slice('traefik.'.length, eq).split('.');
    const raw = tag.slice(eq + 1);
    let node: Schema = schema;
    let target: Record<string, unknown> = out;
    path.forEach((seg, i) => {
      const c = child(node, seg);
      assert.ok(c, `tag ${tag}: "${seg}" is not a Traefik name here`);
      node = deref(c.schema);
      if (i < path.length - 1) {
        target[c.name] ??= {};
        target = target[c.name] as Record<string, unknown>;
      } else {
        const type = Array.isArray(node.type) ? node.type[0] : node.type;
        target[c.name] = type === 'boolean' ? raw === 'true'
          : type === 'integer' || type === 'number' ? Number(raw)
            : type === 'array' ? raw.split(',')
              : type === 'object' && raw === 'true' ? {} : raw;
      }
    });
  }
  const http = (out.http ?? {}) as { routers?: Record<string, Record<string, unknown>>; services?: Record<string, { loadBalancer?: Record<string, unknown> }> };
  const services = Object.keys(http.services ?? {});
  for (const r of Object.values(http.routers ?? {})) if (!r.service && services.length === 1) r.service = services[0];
  for (const svc of Object.values(http.services ?? {})) if (svc.loadBalancer) svc.loadBalancer.servers = [{ url: 'http://10.0.0.1:20000' }];
  return out;
}

describe('public database entry points are off by default', () => {
  test('no database entry point in Traefik and no database port in the edge firewall (see public-databases.test.ts for on)', async () => {
    const cfg = parseYaml(file('drover-1', 'traefik/traefik.yml')) as { entryPoints: Record<string, { address: string }> };
    const d = loadConfig({ NODE_ENV: 'test', DROVER_SECRET_KEY: 'a'.repeat(64), DROVER_DATA_DIR: outDir }).databasePublic;
    for (const name of [d.tlsEntrypoint, d.mysqlEntrypoint]) assert.equal(cfg.entryPoints[name], undefined, name);
    assert.deepEqual(Object.values(cfg.entryPoints).map((e) => e.address).filter((a) => [`:${d.tlsPort}`, `:${d.mysqlPort}`].includes(a)), []);
    const p = join(outDir, 'db-off.nft');
    writeFileSync(p, file('drover-1', 'common/nftables.conf'));
    const { rules } = await loadRuleset([p]);
    const open = rules.filter((r) => r.chain === 'input' && verdict(r) === 'accept' && !matches(r).some((m) => m.left.includes('saddr')))
      .flatMap((r) => matches(r).filter((m) => m.left.includes('"dport"')).map((m) => m.right));
    assert.ok(open.some((r) => r.includes('443')), `the edge opens 443 (${open.join(' ')})`);
    assert.ok(!open.some((r) => r.includes(String(d.tlsPort)) || r.includes(String(d.mysqlPort))), `no database port is open: ${open.join(' ')}`);
  });
});

describe("Drover's own routing", () => {
  test("the dashboard's catalog tags make a valid Traefik router on an entry point the static configuration has", async () => {
    const schema = JSON.parse(readFileSync(join(contractsDir, 'traefik-v3-file-provider.json'), 'utf8')) as Schema;
    const job = await parseHcl('drover.nomad.hcl', readFileSync(join(repoRoot, 'jobspecs', 'drover.nomad.hcl'), 'utf8'));
    const group = labeled(labeled(job, 'job', 'drover')[0], 'group', 'api')[0];
    const tags = blocks(group, 'service').flatMap((s) => (s.tags as string[] | undefined) ?? []);
    assert.ok(tags.includes('traefik.enable=true'), 'with exposedByDefault=false nothing is routed without traefik.enable=true');
    const dynamic = tagsToDynamic(tags, schema);
    const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);
    assert.ok(validate(dynamic), JSON.stringify(validate.errors, null, 2));
    const http = dynamic.http as { routers: Record<string, { entryPoints: string[]; service: string; tls?: object }>; services: Record<string, unknown> };
    const staticCfg = parseYaml(file('drover-1', 'traefik/traefik.yml')) as { entryPoints: Record<string, { address: string }> };
    for (const [name, r] of Object.entries(http.routers)) {
      assert.ok(r.service in http.services, `router ${name}: service ${r.service} is not defined by the tags`);
      assert.ok(r.tls, `router ${name} serves TLS`);
      for (const ep of r.entryPoints) assert.equal(staticCfg.entryPoints[ep]?.address, ':443', `router ${name}: entry point ${ep}`);
    }
    assert.throws(() => tagsToDynamic(['traefik.http.routers.x.rulez=Host(`a`)'], schema), /rulez/, 'a misspelt tag is caught');
  });
});

describe('Docker and the platform secrets', () => {
  test('the Docker daemon forbids privilege escalation', () => {
    const d = JSON.parse(file('worker-1', 'docker/daemon.json')) as Record<string, unknown>;
    assert.equal(d['no-new-privileges'], true);
    assert.equal(d.icc, false);
    assert.equal(d['live-restore'], true);
  });

  test("Drover's control plane gets its own tokens and no agent or bootstrap token", () => {
    const vars = JSON.parse(file('drover-1', 'drover/variables.json')) as Array<{ Path: string; Items: Record<string, string> }>;
    const drover = vars.find((v) => v.Path === 'nomad/jobs/drover');
    assert.ok(drover);
    assert.equal(drover.Items.NOMAD_TOKEN, secrets.tokens.drover_nomad_token);
    assert.equal(drover.Items.NOMAD_MGMT_TOKEN, secrets.tokens.drover_nomad_mgmt_token);
    assert.equal(drover.Items.VAULT_TOKEN, secrets.tokens.drover_vault_token);
    assert.equal(drover.Items.CONSUL_HTTP_TOKEN, secrets.tokens.drover_consul_token);
    const all = JSON.stringify(vars);
    for (const other of [secrets.tokens.consul_agent_token, secrets.tokens.nomad_consul_token, secrets.consulGossipKey, secrets.nomadGossipKey]) {
      assert.ok(other && !all.includes(other), 'an agent token or gossip key leaked into the platform variables');
    }
    for (const v of vars) assert.equal(v.Path, `nomad/jobs/${v.Path.split('/')[2]}`, 'each job reads only its own variable');
    const consulPolicy = parsed('drover-1', 'drover/consul-drover-policy.hcl');
    for (const [, rules] of Object.entries(consulPolicy)) {
      for (const [, bodies] of Object.entries(rules as Record<string, HclBody[]>)) for (const b of bodies) assert.equal(b.policy, 'read');
    }
  });

  test("the generated secret key is one Drover's own parser accepts, and passwords are long and URL-safe", () => {
    const key = file('drover-1', 'generated/secret_key');
    assert.equal(decodeSecretKey(key)?.length, 32, `DROVER_SECRET_KEY ${key.length} chars is not a 32-byte key`);
    assert.notEqual(file('worker-1', 'generated/secret_key'), key, 'each generation is random');
    assert.match(file('drover-1', 'generated/password'), /^[A-Za-z0-9]{32,}$/);
  });

  test('platform volumes use the size-enforcing plugin with a fixed size', () => {
    for (const name of ['drover/volume-postgres.hcl', 'drover/volume-s3.hcl']) {
      const v = parsed('drover-1', name);
      assert.equal(v.plugin_id, roleDefaults('drover').drover_volume_plugin);
      assert.equal(v.type, 'host');
      assert.equal(v.capacity_min, v.capacity_max);
      assert.ok(Number(v.capacity_min) > 0);
    }
  });
});
