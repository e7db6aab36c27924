// lint.test.ts: the linters over the infrastructure code — ansible-lint (production profile), ansible-playbook
// --syntax-check against both shipped inventories, yamllint, and shellcheck on every shell script of the
// infrastructure paths. Tools come from scripts/system-deps.d/infra.sh (virtualenv) and Debian packages.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { filesUnder, rel, repoRoot, run, tool, toolsBin } from './tools.ts';

const ansibleDir = join(repoRoot, 'ansible');
const ansibleEnv = {
  ANSIBLE_CONFIG: join(ansibleDir, 'ansible.cfg'),
  ANSIBLE_NOCOLOR: '1',
  PATH: `${toolsBin}:${process.env.PATH ?? ''}`,
};

/** isShellScript tells whether a file is a shell script: a .sh name or a sh/bash shebang. */
function isShellScript(path: string): boolean {
  if (path.endsWith('.sh')) return true;
  const head = readFileSync(path, 'utf8').slice(0, 80);
  return /^#!\s*(\/usr\/bin\/env\s+)?(\/bin\/|\/usr\/bin\/)?(ba)?sh\b/.test(head) || /^#!\/usr\/bin\/env (ba)?sh\b/.test(head);
}

describe('Ansible', () => {
  test('ansible-lint passes with the production profile', async () => {
    const r = await run(tool('ansible-lint'), ['--offline', '--profile', 'production', '--format', 'pep8', '--nocolor', 'site.yml', 'roles'], {
      cwd: ansibleDir,
      env: ansibleEnv,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stderr + r.stdout, /Profile 'production' was required, and it passed/);
  });

  for (const inventory of ['inventories/lab/hosts.yml', 'inventories/example/hosts.yml']) {
    test(`ansible-playbook --syntax-check site.yml with ${inventory}`, async () => {
      const r = await run(tool('ansible-playbook'), ['--syntax-check', '-i', inventory, 'site.yml'], { cwd: ansibleDir, env: ansibleEnv });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    });
  }

  test('the inventories put every server in both groups and exactly one edge node among the clients', async () => {
    for (const inventory of ['inventories/lab/hosts.yml', 'inventories/example/hosts.yml']) {
      const r = await run(tool('ansible-inventory'), ['-i', inventory, '--list'], { cwd: ansibleDir, env: ansibleEnv });
      assert.equal(r.status, 0, r.stderr);
      const inv = JSON.parse(r.stdout) as Record<string, { hosts?: string[] }>;
      const servers = inv.hashi_servers?.hosts ?? [];
      const clients = inv.hashi_clients?.hosts ?? [];
      const edge = inv.edge?.hosts ?? [];
      assert.ok([1, 3, 5].includes(servers.length), `${inventory}: ${servers.length} servers`);
      assert.equal(edge.length, 1, `${inventory}: edge`);
      assert.ok(clients.includes(edge[0] as string), `${inventory}: the edge node must be a client`);
    }
  });
});

describe('YAML and shell', () => {
  test('yamllint passes on the Ansible tree and the render fixtures', async () => {
    const r = await run('yamllint', ['-s', '-f', 'parsable', '-c', join(ansibleDir, '.yamllint'), 'ansible', 'test/infra/fixtures']);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });

  test('shellcheck passes on every shell script of the infrastructure paths', async () => {
    const scripts = [
      ...filesUnder(join(repoRoot, 'vagrant'), () => true),
      ...filesUnder(join(repoRoot, 'ansible'), () => true),
      ...filesUnder(join(repoRoot, 'terraform'), () => true),
      ...filesUnder(join(repoRoot, 'jobspecs'), () => true),
      join(repoRoot, 'scripts', 'system-deps.d', 'infra.sh'),
    ].filter(isShellScript);
    const names = scripts.map(rel);
    for (const expected of ['scripts/system-deps.d/infra.sh', 'vagrant/summary.sh', 'ansible/roles/nomad/files/drover-ext4']) {
      assert.ok(names.includes(expected), `${expected} was not found as a shell script: ${names}`);
    }
    const r = await run('shellcheck', ['--severity=style', '--format=gcc', ...scripts]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
  });
});
