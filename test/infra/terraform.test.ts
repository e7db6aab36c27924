// terraform.test.ts: every .tf file parses (hcl2json) and every variable is typed and described. Where a terraform
// binary is on the PATH (it is on Drover's build machines), `terraform fmt -check` runs over the whole tree, and the
// provider-free path for existing servers is initialised, validated and applied in a temporary copy (local state,
// nothing leaves the machine) so that the inventory it outputs is checked for real. The Hetzner Cloud module needs
// its provider plugin, which cannot be downloaded here, so it gets the parse checks only (see docs/infra/README.md).
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { filesUnder, onPath, parseHcl, rel, repoRoot, run, type HclBody } from './tools.ts';

const tfDir = join(repoRoot, 'terraform');
const tfFiles = filesUnder(tfDir, (n) => n.endsWith('.tf'));
const work = mkdtempSync(join(tmpdir(), 'drover-tf-'));
after(() => rmSync(work, { recursive: true, force: true }));

const tfEnv = { TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1', TF_CLI_CONFIG_FILE: '/dev/null', TF_INPUT: '0' };

describe('Terraform sources', () => {
  test('both modules and both examples have the main/variables/outputs/versions layout', () => {
    const names = new Set(tfFiles.map(rel));
    for (const dir of ['modules/hcloud-cluster', 'modules/existing-servers', 'examples/hcloud', 'examples/existing-servers']) {
      for (const f of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf']) assert.ok(names.has(`terraform/${dir}/${f}`), `terraform/${dir}/${f}`);
    }
  });

  test('every .tf parses, and every variable is typed and described', async () => {
    for (const f of tfFiles) {
      const body: HclBody = await parseHcl(f, readFileSync(f, 'utf8'));
      for (const [name, bodies] of Object.entries((body.variable ?? {}) as Record<string, HclBody[]>)) {
        const v = bodies[0] as HclBody;
        assert.ok(typeof v.type === 'string' && v.type.length > 0, `${rel(f)}: variable ${name} has no type`);
        assert.ok(typeof v.description === 'string' && v.description.length > 10, `${rel(f)}: variable ${name} has no description`);
      }
      for (const [name, bodies] of Object.entries((body.output ?? {}) as Record<string, HclBody[]>)) {
        assert.ok(typeof bodies[0]?.description === 'string', `${rel(f)}: output ${name} has no description`);
      }
    }
  });

  test('the hcloud module opens 80/443 only on the edge firewall and SSH only to admin ranges', async () => {
    const body = await parseHcl('main.tf', readFileSync(join(tfDir, 'modules', 'hcloud-cluster', 'main.tf'), 'utf8'));
    const firewalls = (body.resource as Record<string, Record<string, HclBody[]>>).hcloud_firewall ?? {};
    const rules = (name: string) => ((firewalls[name]?.[0]?.rule ?? []) as HclBody[]);
    assert.ok(rules('nodes').every((r) => r.port !== '80' && r.port !== '443'), 'the nodes firewall must not open HTTP(S)');
    assert.ok(rules('nodes').filter((r) => r.port === '22').every((r) => r.source_ips === '${var.admin_cidrs}'), 'SSH only from admin_cidrs');
    assert.deepEqual(rules('edge').map((r) => r.port).sort(), ['443', '80']);
  });
});

if (onPath('terraform')) {
  describe('terraform binary', () => {
    test('terraform fmt -check passes over terraform/', async () => {
      const r = await run('terraform', ['fmt', '-check', '-recursive', '-diff', tfDir], { env: tfEnv });
      assert.equal(r.status, 0, r.stdout + r.stderr);
    });

    test('the existing-servers path validates and outputs the inventory site.yml expects', async () => {
      cpSync(tfDir, join(work, 'terraform'), { recursive: true });
      const dir = join(work, 'terraform', 'examples', 'existing-servers');
      copyFileSync(join(dir, 'terraform.tfvars.example'), join(dir, 'terraform.tfvars'));
      for (const args of [['init', '-backend=false', '-no-color'], ['validate', '-no-color'], ['apply', '-auto-approve', '-no-color']]) {
        const r = await run('terraform', args, { cwd: dir, env: tfEnv });
        assert.equal(r.status, 0, `terraform ${args[0]}:\n${r.stdout}\n${r.stderr}`);
      }
      const out = await run('terraform', ['output', '-raw', 'ansible_inventory'], { cwd: dir, env: tfEnv });
      assert.equal(out.status, 0, out.stderr);
      const inv = parseYaml(out.stdout) as { all: { children: Record<string, { hosts: Record<string, Record<string, unknown>> }>; vars: Record<string, unknown> } };
      const groups = inv.all.children;
      assert.deepEqual(Object.keys(groups.hashi_servers?.hosts ?? {}).sort(), ['node-a', 'node-b', 'node-c']);
      assert.deepEqual(Object.keys(groups.edge?.hosts ?? {}), ['node-a']);
      assert.equal(groups.hashi_clients?.hosts['build-a']?.nomad_node_pool, 'builds');
      assert.equal(groups.hashi_servers?.hosts['node-b']?.cluster_advertise_address, '10.20.0.11');
      assert.equal(inv.all.vars.cluster_cidr, '10.20.0.0/24');
    });

    test('the existing-servers module refuses an even number of servers', async () => {
      const dir = join(work, 'terraform', 'examples', 'existing-servers');
      const r = await run('terraform', ['plan', '-no-color', '-var', 'servers=[{name="a",public_address="1.2.3.4",private_address="10.0.0.1"},{name="b",public_address="1.2.3.5",private_address="10.0.0.2"}]'], { cwd: dir, env: tfEnv });
      assert.notEqual(r.status, 0);
      assert.match(r.stderr, /1, 3 or 5 servers/);
    });
  });
}
