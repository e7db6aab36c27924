/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * The database volume's real size over HTTP: the app (DROVER_VOLUME_PLUGIN unset, then `drover-ext4`) against the
 * Nomad double. The database view shows the size requested and, once a deploy created the volume, the CapacityBytes
 * Nomad reports for it: 0 from the built-in mkdir plugin (warned: the size is not enforced), the requested size from a
 * size-enforcing plugin (no warning), and a warning when a plugin gave less than requested.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { expectStatus as ok, waitForDeployment } from '../testing/app.ts';
import { startDeployStack } from '../testing/stack.ts';
import type { DatabaseRow } from './database.entity.ts';
import { GiB } from './service.ts';
import { volumeView as sut } from './volume.ts';

/** startCluster starts the deploy stack with `env`, and a project environment with a service. */
async function startCluster(env: Record<string, string>) {
  const stack = await startDeployStack({ env });
  const { owner } = stack;
  const p = await ok(owner.post(`/api/teams/${stack.teamId}/projects`, { slug: 'shop' }), 201);
  const envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id as string;
  const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1.0', port: 8080 }), 201);
  return {
    nomad: stack.nomad, owner, envId,
    /** deploy deploys the service (its environment's databases first) and waits until it is healthy. */
    async deploy(): Promise<void> {
      const d = await ok(owner.post(`/api/services/${svc.id}/deployments`, {}), 202);
      const done = await waitForDeployment(owner, d.id, ['healthy', 'failed']);
      assert.equal(done.state, 'healthy', done.reason);
    },
    close: stack.close,
  };
}

type Cluster = Awaited<ReturnType<typeof startCluster>>;

/** createdVolume is the body of the double's one host volume create request for the database named `name`. */
function createdVolume(c: Cluster, name: string): any {
  const creates = c.nomad.control.requests().filter((r) => r.method === 'PUT' && r.path === '/v1/volume/host/create' && r.status === 200);
  const mine = creates.map((r) => (r.body as any).Volume).filter((v) => String(v.Name).includes(`-${name}-`));
  assert.equal(mine.length, 1, `one create for ${name}`);
  return mine[0];
}

describe('database volume size with the default plugin (mkdir)', () => {
  let c: Cluster;
  before(async () => { c = await startCluster({}); });
  after(async () => { await c?.close(); });

  it('shows the requested size, then CapacityBytes 0 read back from Nomad, and warns that the size is not enforced', async () => {
    const db = await ok(c.owner.post(`/api/environments/${c.envId}/databases`, { name: 'pg', engine: 'postgres', sizeGiB: 2 }), 201);
    assert.deepEqual(db.volume, { plugin: 'mkdir', requestedBytes: 2 * GiB, capacityBytes: null, nodeId: null });
    assert.equal(db.warnings.length, 1);
    assert.match(db.warnings[0], /^size not enforced: the mkdir volume plugin does not enforce a size/);

    await c.deploy();
    assert.equal(createdVolume(c, 'pg').PluginID, 'mkdir');
    const after = await ok(c.owner.get(`/api/databases/${db.id}`));
    assert.equal(after.volume.plugin, 'mkdir');
    assert.equal(after.volume.requestedBytes, 2 * GiB);
    assert.equal(after.volume.capacityBytes, 0, "Nomad's CapacityBytes for a mkdir volume");
    assert.ok(after.volume.nodeId, 'the node holding the volume');
    assert.equal(after.warnings.length, 1);
    assert.match(after.warnings[0], /size not enforced/);
    const listed = (await ok(c.owner.get(`/api/environments/${c.envId}/databases`))).items.find((x: any) => x.id === db.id);
    assert.deepEqual({ volume: listed.volume, warnings: listed.warnings }, { volume: after.volume, warnings: after.warnings });
  });
});

describe('database volume size with a size-enforcing plugin (DROVER_VOLUME_PLUGIN=drover-ext4)', () => {
  let c: Cluster;
  before(async () => { c = await startCluster({ DROVER_VOLUME_PLUGIN: 'drover-ext4' }); });
  after(async () => { await c?.close(); });

  it('creates the volume with that plugin and shows the CapacityBytes it reports, without a warning', async () => {
    const db = await ok(c.owner.post(`/api/environments/${c.envId}/databases`, { name: 'cache', engine: 'redis', sizeGiB: 3 }), 201);
    assert.deepEqual(db.volume, { plugin: 'drover-ext4', requestedBytes: 3 * GiB, capacityBytes: null, nodeId: null });
    assert.deepEqual(db.warnings, [], 'no warning before the volume exists either: the plugin enforces sizes');

    await c.deploy();
    const vol = createdVolume(c, 'cache');
    assert.equal(vol.PluginID, 'drover-ext4');
    assert.equal(vol.RequestedCapacityMinBytes, 3 * GiB);
    const after = await ok(c.owner.get(`/api/databases/${db.id}`));
    assert.equal(after.volume.capacityBytes, 3 * GiB);
    assert.deepEqual(after.warnings, []);
  });

  it('creates a service volume with the same plugin', async () => {
    const svc = await ok(c.owner.post(`/api/environments/${c.envId}/services`, { slug: 'files', image: 'ghcr.io/acme/files:1', port: 8080, volumes: [{ name: 'data', mount: '/data', size: '1GiB' }] }), 201);
    const d = await ok(c.owner.post(`/api/services/${svc.id}/deployments`, {}), 202);
    const done = await waitForDeployment(c.owner, d.id, ['healthy', 'failed']);
    assert.equal(done.state, 'healthy', done.reason);
    const creates = c.nomad.control.requests().filter((r) => r.method === 'PUT' && r.path === '/v1/volume/host/create' && r.status === 200)
      .map((r) => (r.body as any).Volume).filter((v) => String(v.Name).includes('-files-'));
    assert.equal(creates.length, 1, 'one service volume created');
    assert.equal(creates[0].PluginID, 'drover-ext4');
    assert.equal(creates[0].RequestedCapacityMinBytes, GiB);
  });

  it('warns when the plugin gave less than requested', async () => {
    c.nomad.control.setVolumePluginCapacity('drover-ext4', GiB);
    try {
      const db = await ok(c.owner.post(`/api/environments/${c.envId}/databases`, { name: 'small', engine: 'redis', sizeGiB: 2 }), 201);
      await c.deploy();
      const after = await ok(c.owner.get(`/api/databases/${db.id}`));
      assert.equal(after.volume.capacityBytes, GiB);
      assert.deepEqual(after.warnings, [`size not enforced: the volume has ${GiB} bytes, less than the ${2 * GiB} requested`]);
    } finally {
      c.nomad.control.setVolumePluginCapacity('drover-ext4', undefined);
    }
  });
});

/** aRow is a database row with its volume observed as `observed` says. */
function aRow(over: Partial<DatabaseRow> = {}): DatabaseRow {
  const at = new Date('2026-11-22T00:00:00Z');
  return {
    id: '00000000-0000-4000-8000-000000000001', teamId: 't', projectId: 'p', environmentId: 'e', name: 'db', engine: 'postgres', version: '17',
    sizeBytes: String(GiB), volumeId: 'v2', previousVolumeIds: ['v1'], removedAt: null, volumeDestroyedAt: null, createdAt: at, updatedAt: at, ...over,
  };
}

describe('volumeView', () => {
  it('reads the capacity of the current volume only: after a recorded major upgrade the new volume is not created yet', () => {
    const observed = { volumeId: 'v1', nomadId: 'n', plugin: 'drover-ext4', nodeId: 'node', capacityBytes: GiB, at: '2026-11-22T00:00:00Z' };
    assert.deepEqual(sut(aRow({ volumeObserved: observed }), 'drover-ext4'), { volume: { plugin: 'drover-ext4', requestedBytes: GiB, capacityBytes: null, nodeId: null }, warnings: [] });
    assert.deepEqual(sut(aRow({ volumeObserved: { ...observed, volumeId: 'v2' } }), 'drover-ext4').volume.capacityBytes, GiB);
  });

  it('judges an existing volume by the plugin that created it, not the one configured now', () => {
    const observed = { volumeId: 'v2', nomadId: 'n', plugin: 'mkdir', nodeId: 'node', capacityBytes: 0, at: '2026-11-22T00:00:00Z' };
    const view = sut(aRow({ volumeObserved: observed }), 'drover-ext4');
    assert.equal(view.volume.plugin, 'mkdir');
    assert.match(view.warnings[0] ?? '', /mkdir volume plugin does not enforce a size/);
  });

  it('has no capacity and no warning once the volume is destroyed', () => {
    const view = sut(aRow({ volumeDestroyedAt: new Date() }), 'mkdir');
    assert.deepEqual(view, { volume: { plugin: 'mkdir', requestedBytes: GiB, capacityBytes: null, nodeId: null }, warnings: [] });
  });
});
