/**
 * The KV test server's fault injection, seen through the real Vault adapter: outage and sealed 503s apply nothing,
 * lost answers and timeouts apply the write, slow answers are slow, and `pathPrefix` keeps the faults to its paths.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { VaultAdapter, VaultSealedError, VaultUnreachableError } from '@drover/scheduler/vault/index.ts';
import { startKvTestServer, type KvTestServer } from './kv-test-server.ts';

let sut: KvTestServer;
let vault: VaultAdapter;

before(async () => {
  sut = await startKvTestServer();
  vault = new VaultAdapter({ address: sut.url, token: sut.token, kvMount: 'secret', timeoutMs: 300 });
});

after(async () => {
  await vault?.close();
  await sut?.close();
});

describe('KV test server faults', () => {
  it('answers 503 without applying a write, and a sealed Vault as sealed', async () => {
    sut.setFaults({ errorRate: 1 });
    await assert.rejects(vault.writeSecret('t-a', 'job', { a: '1' }), (e) => e instanceof VaultUnreachableError && e.status === 503);
    sut.setFaults({ sealedRate: 1 });
    await assert.rejects(vault.writeSecret('t-a', 'job', { a: '1' }), VaultSealedError);
    sut.setFaults({});
    assert.equal(sut.data.get('drover/t-a/job'), undefined, 'nothing was written');
    assert.deepEqual(sut.requests.map((r) => r.fault), ['error', 'sealed']);
  });

  it('applies a write whose answer is lost or times out', async () => {
    sut.setFaults({ dropRate: 1 });
    await assert.rejects(vault.writeSecret('t-b', 'job', { a: '1' }), VaultUnreachableError);
    sut.setFaults({ timeoutRate: 1, timeoutMs: 3_000 });
    const started = Date.now();
    await assert.rejects(vault.writeSecret('t-b', 'job', { a: '2' }), VaultUnreachableError);
    assert.ok(Date.now() - started < 3_000, 'the client gave up at its own timeout (300 ms), not when the server reset');
    sut.setFaults({});
    assert.deepEqual(sut.data.get('drover/t-b/job'), [{ a: '1' }, { a: '2' }]);
    assert.deepEqual((await vault.readSecret('t-b', 'job'))?.data, { a: '2' });
  });

  it('delays slow answers and keeps faults to pathPrefix', async () => {
    sut.setFaults({ slowRate: 1, slowMs: 150, pathPrefix: 'drover/t-' });
    const started = Date.now();
    assert.equal((await vault.writeSecret('t-c', 'job', { a: '1' })).version, 1);
    assert.ok(Date.now() - started >= 150);
    sut.setFaults({ errorRate: 1, pathPrefix: 'drover/t-' });
    assert.equal((await vault.writeSecret('s-c', 'owner', { a: '1' })).version, 1, 'other paths are answered');
    sut.setFaults({});
  });

  it('injects the same faults for the same seed', async () => {
    const draw = async () => {
      sut.setFaults({ errorRate: 0.5, seed: 3 });
      const out: boolean[] = [];
      for (let i = 0; i < 12; i++) out.push(await vault.readMetadata('t-d', 'job').then(() => true, () => false));
      sut.setFaults({});
      return out;
    };
    const first = await draw();
    assert.deepEqual(await draw(), first);
    assert.ok(first.includes(true) && first.includes(false));
  });
});
