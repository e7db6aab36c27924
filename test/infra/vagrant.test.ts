// vagrant.test.ts: `vagrant validate --ignore-provider` on the lab's Vagrantfile (Vagrant from Debian's package), with
// the default node table and with one from the environment, and proof that it really checks (a copy without the
// script it provisions with is refused). Vagrant checks the ansible provisioner's playbook only when it runs, so
// test/infra/lint.test.ts checks ansible/site.yml itself.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run } from './tools.ts';

const home = mkdtempSync(join(tmpdir(), 'drover-vagrant-home-'));
after(() => rmSync(home, { recursive: true, force: true }));
// A private VAGRANT_HOME and dotfile folder keep the check from touching the user's boxes, plugins and the repo.
const env = { VAGRANT_HOME: home, VAGRANT_DOTFILE_PATH: join(home, 'dotfile'), VAGRANT_CHECKPOINT_DISABLE: '1', VAGRANT_NO_COLOR: '1' };

describe('Vagrant lab', () => {
  test('vagrant validate accepts the Vagrantfile with the default three nodes', async () => {
    const r = await run('vagrant', ['validate', '--ignore-provider'], { env });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    for (const n of ['drover-1', 'drover-2', 'drover-3']) assert.match(r.stdout, new RegExp(`${n}: Ignoring provider config`));
    assert.match(r.stdout, /validated successfully/);
  });

  test('the node table comes from the environment', async () => {
    const table = JSON.stringify([{ name: 'lab-a', ip: '10.77.0.5', memory: 2048, cpus: 1 }]);
    const r = await run('vagrant', ['validate', '--ignore-provider'], { env: { ...env, DROVER_LAB_NODES_JSON: table } });
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /lab-a: Ignoring provider config/);
    assert.doesNotMatch(r.stdout, /drover-2/);
  });

  test('an even node count is refused', async () => {
    const r = await run('vagrant', ['validate', '--ignore-provider'], { env: { ...env, DROVER_LAB_NODES: '2' } });
    assert.notEqual(r.status, 0);
    assert.match(r.stdout + r.stderr, /1, 3 or 5 nodes/);
  });

  test('validation really checks the provisioners (a Vagrantfile without its summary script is refused)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'drover-vagrant-'));
    try {
      copyFileSync(join(repoRoot, 'Vagrantfile'), join(dir, 'Vagrantfile'));
      const r = await run('vagrant', ['validate', '--ignore-provider'], { cwd: dir, env });
      assert.notEqual(r.status, 0, r.stdout);
      assert.match(r.stdout + r.stderr, /vagrant\/summary\.sh/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
