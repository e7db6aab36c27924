/* eslint-disable @typescript-eslint/no-explicit-any -- JSON answers of the API under test */
/**
 * Vault mode of the deployment engine: the real app (VAULT_ADDR set) on a fresh Postgres, the Nomad double over HTTP
 * and the loopback KV v2 server that checks every call against vault-openapi.json. Each deployment writes a new KV
 * version, its job pins that version, max_versions keeps every pinned version, and a rollback writes the old values
 * as a new version — so what the allocations of an older deployment read never changes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import type { KvTestServer } from '../secrets/kv-test-server.ts';
import { Client, type TestApp, expectStatus, waitForDeployment } from '../testing/app.ts';
import { startDeployStack, type DeployStack } from '../testing/stack.ts';

let nomad: NomadDouble;
let kv: KvTestServer;
let sut: TestApp;
let owner: Client;
let envId: string;

const ok = expectStatus;

function waitFor(id: string, states: string[], timeoutMs?: number): Promise<Record<string, any>> {
  return waitForDeployment(owner, id, states, timeoutMs);
}

async function deployed(serviceId: string): Promise<Record<string, any>> {
  const d = await ok(owner.post(`/api/services/${serviceId}/deployments`, {}), 202);
  const done = await waitFor(d.id, ['healthy', 'failed', 'cancelled']);
  assert.equal(done.state, 'healthy', done.reason);
  return done;
}

/** pinnedVersion reads the KV version the job a deployment registered reads (from its stored job's template). */
async function pinnedVersion(deploymentId: string): Promise<number> {
  const row = await sut.services.deployments.store.get(deploymentId);
  const text = JSON.stringify((row?.job as any)?.Job?.TaskGroups ?? []);
  const m = [...text.matchAll(/with secret \\"secret\/data\/drover\/[a-z0-9-]+\/[a-z0-9-]+\?version=([0-9]+)\\"/g)].map((x) => Number(x[1]));
  assert.ok(m.length > 0, 'the job reads its values from Vault');
  assert.ok(m.every((v) => v === m[0]), 'every template pins the same version');
  return m[0] ?? 0;
}

/** readAt reads the KV path of a job at a version over HTTP, as the allocation's template does on a restart. */
async function readAt(d: Record<string, any>, version: number): Promise<Record<string, string> | null> {
  const r = await fetch(`${kv.url}/v1/secret/data/drover/${d.namespace}/${d.jobId}?version=${version}`, { headers: { 'x-vault-token': kv.token } });
  if (r.status === 404) return null;
  assert.equal(r.status, 200);
  return ((await r.json()) as { data: { data: Record<string, string> } }).data.data;
}

const valuesOf = (data: Record<string, string> | null): string[] => Object.values(data ?? {}).sort();

let stack: DeployStack;
before(async () => {
  stack = await startDeployStack({ vault: true, stepMs: 100 });
  ({ nomad, sut, owner } = stack);
  if (!stack.kv) throw new Error('the stack started without Vault');
  kv = stack.kv;
  const p = await ok(owner.post(`/api/teams/${stack.teamId}/projects`, { slug: 'vaulted' }), 201);
  envId = (await ok(owner.get(`/api/projects/${p.id}/environments`))).items[0].id;
});

after(async () => { await stack?.close(); });

describe('deployments with Vault', () => {
  it('writes a new KV version per deployment, pins it, keeps pinned versions through max_versions, and rolls back by rewriting', async () => {
    const svc = await ok(owner.post(`/api/environments/${envId}/services`, { slug: 'web', image: 'ghcr.io/acme/web:1', port: 8080 }), 201);
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { COLOR: 'blue' } }));
    const n = await deployed(svc.id);
    const path = `drover/${n.namespace}/${n.jobId}`;
    const vN = await pinnedVersion(n.id);
    assert.equal(vN, 1, 'the first deployment writes version 1');
    assert.deepEqual(valuesOf(await readAt(n, vN)), ['blue']);
    assert.equal(kv.maxVersions.get(path), 11, 'max_versions covers the rollback history (10) and the new version');
    const events = (await ok(owner.get(`/api/deployments/${n.id}/events`))).items.map((e: { kind: string; message: string }) => `${e.kind}: ${e.message}`);
    assert.ok(events.some((e: string) => /^variables: wrote 1 variable item\(s\) as version 1 of secret\/data\/drover\//.test(e)), events.join(' | '));
    assert.equal(nomad.control.requests().filter((r) => r.path.startsWith('/v1/var/')).length, 0, 'nothing goes to Nomad Variables');

    // Many writes between two deployments (e.g. failed attempts) must not drop the version N's allocations pin.
    for (let i = 0; i < 14; i++) kv.data.get(path)?.push({ filler: String(i) });
    await ok(owner.request('PUT', `/api/services/${svc.id}/variables`, { variables: { COLOR: 'green' } }));
    await ok(owner.request('PATCH', `/api/services/${svc.id}`, { image: 'ghcr.io/acme/web:2' }));
    const n1 = await deployed(svc.id);
    const vN1 = await pinnedVersion(n1.id);
    assert.equal(vN1, 16);
    assert.deepEqual(valuesOf(await readAt(n1, vN1)), ['green']);
    assert.equal(kv.maxVersions.get(path), 16, 'raised to keep every version since the oldest pinned one');
    assert.deepEqual(valuesOf(await readAt(n, vN)), ['blue'], "N's allocations still read their own values after a restart");
    assert.equal(await pinnedVersion(n.id), vN, "N's stored job is unchanged");

    const rb = await ok(owner.post(`/api/deployments/${n.id}/rollback`, {}), 202);
    const done = await waitFor(rb.id, ['healthy', 'failed']);
    assert.equal(done.state, 'healthy', done.reason);
    assert.equal(done.image, 'ghcr.io/acme/web:1');
    const vRb = await pinnedVersion(rb.id);
    assert.equal(vRb, 17, 'the rollback writes the old values as a new version');
    assert.deepEqual(valuesOf(await readAt(done, vRb)), ['blue']);
    assert.deepEqual(valuesOf(await readAt(n1, vN1)), ['green'], "N+1's pinned version is untouched by the rollback");
    const live = nomad.control.job(done.jobId, done.namespace) as { Meta: Record<string, string>; TaskGroups: { Tasks: { Templates: { EmbeddedTmpl: string }[]; Vault?: unknown }[] }[] };
    assert.equal(live.Meta['drover.deployment'], rb.id);
    assert.match(JSON.stringify(live.TaskGroups[0]?.Tasks[0]?.Templates ?? []), new RegExp(`${path.replace(/\//g, '\\/')}\\?version=17`));
    assert.deepEqual(kv.violations, [], 'every Vault call is in vault-openapi.json');
    assert.deepEqual(nomad.control.requests().filter((c) => c.status === 400).map((c) => `${c.method} ${c.path}`), []);
  });
});
