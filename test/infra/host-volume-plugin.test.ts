// host-volume-plugin.test.ts: the drover-ext4 dynamic host volume plugin that the nomad role installs, run the way
// Nomad runs it (operation as argv[1], DHV_* environment). As root it really creates a loop-mounted ext4 volume and
// shows that the requested size is enforced (writing past it fails with ENOSPC), then deletes it.
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot, run } from './tools.ts';

const plugin = join(repoRoot, 'ansible', 'roles', 'nomad', 'files', 'drover-ext4');
const volumesDir = mkdtempSync(join(tmpdir(), 'drover-dhv-'));
after(async () => {
  // Unmount anything a failed test left behind before removing the folder.
  const r = await run('findmnt', ['-rn', '-o', 'TARGET']);
  for (const target of r.stdout.split('\n').filter((t) => t.startsWith(volumesDir))) await run('umount', [target]);
  rmSync(volumesDir, { recursive: true, force: true });
});
const MiB = 1024 * 1024;

/** plugin runs the plugin with an operation and DHV_* variables, and parses its stdout as JSON when it has any. */
async function callPlugin(op: string, env: Record<string, string>): Promise<{ status: number | null; json: Record<string, unknown> | null; stderr: string }> {
  const r = await run(plugin, [op], { env: { DHV_OPERATION: op, DHV_VOLUMES_DIR: volumesDir, ...env } });
  const text = r.stdout.trim();
  return { status: r.status, json: text === '' ? null : (JSON.parse(text) as Record<string, unknown>), stderr: r.stderr };
}

describe('drover-ext4 host volume plugin', () => {
  test('fingerprint answers a version Nomad accepts', async () => {
    const r = await callPlugin('fingerprint', {});
    assert.equal(r.status, 0);
    assert.match(String(r.json?.version), /^\d+\.\d+\.\d+$/);
  });

  test('refuses a volume ID that is not a UUID (no path traversal)', async () => {
    const r = await callPlugin('create', { DHV_VOLUME_ID: '../../etc', DHV_CAPACITY_MIN_BYTES: String(32 * MiB) });
    assert.notEqual(r.status, 0);
    assert.match(String(r.json?.error), /UUID/);
    assert.equal(existsSync(join(volumesDir, '..', '..', 'etc.ext4')), false);
  });

  test('refuses a volume without a size, since the size is what it enforces', async () => {
    for (const bytes of ['', '0', '1024', 'lots']) {
      const r = await callPlugin('create', { DHV_VOLUME_ID: randomUUID(), DHV_CAPACITY_MIN_BYTES: bytes });
      assert.notEqual(r.status, 0, `capacity ${bytes}`);
      assert.ok(typeof r.json?.error === 'string');
    }
  });

  test('refuses capacity_min above capacity_max', async () => {
    const r = await callPlugin('create', { DHV_VOLUME_ID: randomUUID(), DHV_CAPACITY_MIN_BYTES: String(64 * MiB), DHV_CAPACITY_MAX_BYTES: String(32 * MiB) });
    assert.notEqual(r.status, 0);
    assert.match(String(r.json?.error), /capacity_max/);
  });

  test('refuses an unknown operation', async () => {
    const r = await callPlugin('resize', {});
    assert.notEqual(r.status, 0);
  });

  if (process.getuid?.() === 0) {
    test('creates a loop-mounted ext4 volume of the requested size, idempotently, and deletes it', async () => {
      const id = randomUUID();
      const env = { DHV_VOLUME_ID: id, DHV_CAPACITY_MIN_BYTES: String(16 * MiB), DHV_CAPACITY_MAX_BYTES: String(16 * MiB) };
      const first = await callPlugin('create', env);
      assert.equal(first.status, 0, first.stderr);
      const path = join(volumesDir, id);
      assert.equal(first.json?.path, path);
      assert.equal(first.json?.bytes, 16 * MiB);
      const mount = await run('findmnt', ['-rn', '-o', 'FSTYPE,OPTIONS', '--mountpoint', path]);
      assert.match(mount.stdout, /^ext4 .*nosuid.*nodev/);

      const again = await callPlugin('create', env);
      assert.equal(again.status, 0, again.stderr);
      assert.deepEqual(again.json, first.json);

      writeFileSync(join(path, 'fits'), Buffer.alloc(4 * MiB));
      assert.throws(() => writeFileSync(join(path, 'too-big'), Buffer.alloc(20 * MiB)), /ENOSPC/);
      assert.equal(statSync(`${path}.ext4`).size, 16 * MiB, 'the image does not grow');

      const del = await callPlugin('delete', { DHV_VOLUME_ID: id, DHV_CREATED_PATH: path });
      assert.equal(del.status, 0, del.stderr);
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(`${path}.ext4`), false);
      const delAgain = await callPlugin('delete', { DHV_VOLUME_ID: id, DHV_CREATED_PATH: path });
      assert.equal(delAgain.status, 0, 'delete is idempotent');
    });

    test('refuses to delete outside its volumes folder', async () => {
      const r = await callPlugin('delete', { DHV_VOLUME_ID: randomUUID(), DHV_CREATED_PATH: '/etc' });
      assert.notEqual(r.status, 0);
      assert.ok(existsSync('/etc/hostname') || existsSync('/etc/passwd'));
    });
  }
});
