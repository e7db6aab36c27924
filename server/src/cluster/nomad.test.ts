import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { createNomadClient, NamespaceProvisioner } from './nomad.ts';

const TOKEN = 'provisioner-test-token';

describe('NamespaceProvisioner', () => {
  let nomad: NomadDouble;
  before(async () => { nomad = await startNomadDouble({ token: TOKEN }); });
  after(async () => { await nomad.close(); });

  const client = () => createNomadClient({ address: nomad.url, token: TOKEN });
  const namespaceRequests = (name: string) => nomad.control.requests().filter((r) => r.path === `/v1/namespace/${name}` || (r.method !== 'GET' && r.path === '/v1/namespace'));

  it('sends one check and one create for concurrent deployments of one team', async () => {
    const sut = new NamespaceProvisioner(client(), TOKEN);
    const results = await Promise.all(Array.from({ length: 20 }, () => sut.ensure('team-a', 'Drover team a')));
    assert.ok(results.every((r) => r.created));
    const sent = namespaceRequests('team-a').map((r) => `${r.method} ${r.path}`);
    assert.deepEqual(sent.filter((s) => s.includes('team-a')), ['GET /v1/namespace/team-a']);
    assert.equal(sent.filter((s) => !s.includes('team-a')).length, 1, `one register expected, sent ${JSON.stringify(sent)}`);
    assert.deepEqual(await sut.ensure('team-a', 'Drover team a'), { created: false });
    assert.equal(namespaceRequests('team-a').filter((r) => r.path.endsWith('team-a')).length, 1, 'a cached namespace costs no request');
  });

  it('asks Nomad again once the positive cache has expired, and creates a namespace deleted meanwhile', async () => {
    let now = 0;
    const sut = new NamespaceProvisioner(client(), TOKEN, { cacheMs: 1_000, now: () => now });
    assert.deepEqual(await sut.ensure('team-b', 'Drover team b'), { created: true });
    now = 500;
    assert.deepEqual(await sut.ensure('team-b', 'Drover team b'), { created: false });
    assert.equal(nomad.control.requests().filter((r) => r.path === '/v1/namespace/team-b').length, 1);
    now = 1_500;
    assert.deepEqual(await sut.ensure('team-b', 'Drover team b'), { created: false });
    assert.equal(nomad.control.requests().filter((r) => r.path === '/v1/namespace/team-b' && r.method === 'GET').length, 2);
    await client().namespaces.delete('team-b');
    now = 3_000;
    assert.deepEqual(await sut.ensure('team-b', 'Drover team b'), { created: true });
    assert.ok((await client().namespaces.info('team-b')).data);
  });

  it('shares a failure with the callers in flight and does not remember it', async () => {
    const sut = new NamespaceProvisioner(createNomadClient({ address: nomad.url, token: 'wrong-token' }), undefined);
    const results = await Promise.allSettled([sut.ensure('team-c', 'c'), sut.ensure('team-c', 'c')]);
    assert.ok(results.every((r) => r.status === 'rejected'));
    const before = nomad.control.requests().filter((r) => r.path === '/v1/namespace/team-c').length;
    assert.equal(before, 1, 'the two callers shared one request');
    await assert.rejects(sut.ensure('team-c', 'c'));
    assert.equal(nomad.control.requests().filter((r) => r.path === '/v1/namespace/team-c').length, 2, 'a failure is retried by the next caller');
  });
});
