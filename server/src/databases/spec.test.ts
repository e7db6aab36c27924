/**
 * databaseSpec: the digest an environment deploy compares to tell an unchanged database from a changed one. Equal for
 * two deployments of the same database (deployment ID and pinned KV version masked, item keys without their
 * deployment prefix), different for anything Nomad would see or a new credential value; no credential in it.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compile } from '@drover/scheduler/compiler/index.ts';
import { aDatabase, aSettings, aState, aVaultBackend } from '@drover/scheduler/compiler/fixtures.ts';
import type { Database } from '@drover/scheduler/compiler/model.ts';
import { pinVaultVersion } from '../deployments/build.ts';
import { databaseSpec as sut } from './lifecycle.ts';

const DEP_A = '11111111-1111-4111-8111-111111111111';
const DEP_B = '22222222-2222-4222-8222-222222222222';

/** jobOf compiles database `d` for deployment `id` and returns its request and its items valued `value(suffix)`. */
function jobOf(id: string, d: Database, vault = false, value = (k: string) => `v-${k}`) {
  const state = aState({ deployment: { id, ...(vault ? { vaultKvVersion: 2_147_483_647 } : {}) }, services: [], databases: [d], ...(vault ? { settings: aSettings({ secrets: aVaultBackend }) } : {}) });
  const r = compile(state);
  const request = r.jobs[0];
  assert.ok(request);
  const data = r.variables[request.Job.ID];
  assert.ok(data);
  const items = Object.fromEntries(Object.keys(data.items).map((k) => [k, value(k.slice(k.indexOf('.') + 1))]));
  assert.ok(Object.keys(items).every((k) => k.startsWith(`${id}.`)), 'the compiler prefixes item keys with the deployment');
  return { request, items, path: data.path };
}

test('the same database in two deployments has one digest (Nomad Variables and Vault, whatever KV version is pinned)', () => {
  const d = aDatabase();
  const a = jobOf(DEP_A, d);
  const b = jobOf(DEP_B, d);
  assert.notDeepEqual(a.request, b.request, 'the jobs differ by the deployment');
  assert.equal(sut(a.request, DEP_A, a.items), sut(b.request, DEP_B, b.items));
  assert.match(sut(a.request, DEP_A, a.items), /^v1\.[0-9a-f]{32}$/);

  const va = jobOf(DEP_A, d, true);
  const vb = jobOf(DEP_B, d, true);
  assert.equal(sut(pinVaultVersion(va.request, va.path, 3), DEP_A, va.items), sut(pinVaultVersion(vb.request, vb.path, 4), DEP_B, vb.items));
  assert.notEqual(sut(va.request, DEP_A, va.items), sut(a.request, DEP_A, a.items), 'Vault and Nomad Variables jobs differ');
});

test('a change Nomad would see, or a new credential value, changes the digest; the digest holds no credential', () => {
  const d = aDatabase();
  const base = jobOf(DEP_A, d);
  const spec = sut(base.request, DEP_A, base.items);
  for (const other of [aDatabase({ version: '16' }), aDatabase({ volume: { ...d.volume, id: '99999999-9999-4999-8999-999999999999' } })]) {
    const changed = jobOf(DEP_B, other);
    assert.notEqual(sut(changed.request, DEP_B, changed.items), spec, `another ${other.version === d.version ? 'volume' : 'version'}`);
  }
  const rotated = jobOf(DEP_B, d, false, (k) => (k === '1' ? 'a-new-password' : `v-${k}`));
  assert.notEqual(sut(rotated.request, DEP_B, rotated.items), spec, 'a rotated credential');
  const withSpec = structuredClone(base.request);
  withSpec.Job.Meta = { ...withSpec.Job.Meta, 'drover.spec': spec };
  assert.equal(sut(withSpec, DEP_A, base.items), spec, 'the digest in Meta is not part of the digest');
  for (const v of Object.values(base.items)) assert.ok(!spec.includes(v));
});
