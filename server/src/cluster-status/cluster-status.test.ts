import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startNomadDouble, type NomadDouble } from '@drover/scheduler/testing/nomad-double/index.ts';
import { NomadClient } from '@drover/scheduler/nomad/index.ts';
import { setupOwner, startTestApp, type TestApp } from '../testing/app.ts';
import { clusterProbes } from './compose.ts';
import { ClusterStatusService } from './service.ts';

const TOKEN = 'cluster-status-test-token-0123456789';

/** freePort asks the kernel for a free loopback port (nothing listens on it once returned). */
async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

/** fakeHttp answers every request with `status` and `body` (a stand-in Consul or Vault on loopback). */
async function fakeHttp(status: number, body: unknown): Promise<{ url: string; server: Server }> {
  const server = createServer((_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('GET /api/cluster/status', () => {
  let nomad: NomadDouble;
  let app: TestApp;
  before(async () => {
    nomad = await startNomadDouble({ token: TOKEN, nodes: 3 });
    app = await startTestApp({ env: { NOMAD_ADDR: nomad.url, NOMAD_TOKEN: TOKEN } });
  });
  after(async () => {
    await app.close();
    await nomad.close();
  });

  it('reports Nomad reachable with its leader and nodes, Consul and Vault not configured', async () => {
    const { client } = await setupOwner(app);
    const r = await client.get('/api/cluster/status');
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.nomad.status, 'ok');
    assert.match(r.body.nomad.message, /^leader at /);
    assert.equal(r.body.consul.status, 'not_configured');
    assert.equal(r.body.vault.status, 'not_configured');
    assert.equal(r.body.nodes.length, 3);
    for (const n of r.body.nodes) {
      assert.equal(n.status, 'ready');
      assert.equal(n.eligibility, 'eligible');
      assert.equal(typeof n.pool, 'string');
    }
    assert.doesNotMatch(r.text, new RegExp(TOKEN));
  });

  it('answers 401 without credentials', async () => {
    const r = await fetch(`${app.url}/api/cluster/status`);
    assert.equal(r.status, 401);
  });
});

describe('ClusterStatusService', () => {
  let app: TestApp;
  let down: NomadClient;
  before(async () => {
    app = await startTestApp();
    // A port nothing listens on: Nomad is down.
    down = new NomadClient({ address: `http://127.0.0.1:${await freePort()}`, token: TOKEN });
  });
  after(async () => {
    await down.destroy();
    await app.close();
  });

  it('refuses a signed-in user who belongs to no team', async () => {
    const sut = new ClusterStatusService({ dataSource: app.db.dataSource, probes: clusterProbes(down, { consul: undefined, vault: undefined }) });
    await assert.rejects(
      sut.status({ kind: 'session', userId: randomUUID(), scopes: ['read'], ip: '127.0.0.1', requestId: 'r' }),
      (e: { code?: string }) => e.code === 'auth/forbidden',
    );
  });

  it('reports a down Nomad as down within the probe bound, and Consul and Vault by their answers, without their tokens', async () => {
    const { userId } = await setupOwner(app);
    const consul = await fakeHttp(200, '10.0.0.5:8300');
    const vault = await fakeHttp(503, { initialized: true, sealed: true, standby: false, version: '1.18.0', cluster_name: 'c' });
    try {
      const sut = new ClusterStatusService({
        dataSource: app.db.dataSource, timeoutMs: 1_500,
        probes: clusterProbes(down, {
          consul: { address: consul.url, token: 'consul-secret-token', caCertPath: undefined },
          vault: { address: vault.url, token: 'vault-secret-token', caCertPath: undefined, kvMount: 'secret' },
        }),
      });
      const started = Date.now();
      const s = await sut.status({ kind: 'session', userId, scopes: ['read'], ip: '127.0.0.1', requestId: 'r' });
      assert.ok(Date.now() - started < 3_000, `took ${Date.now() - started} ms`);
      assert.equal(s.nomad.status, 'down');
      assert.deepEqual(s.nodes, []);
      assert.deepEqual(s.consul, { status: 'ok', message: 'leader at 10.0.0.5:8300' });
      assert.deepEqual(s.vault, { status: 'down', message: 'sealed' });
      assert.doesNotMatch(JSON.stringify(s), /secret-token/);
    } finally {
      consul.server.close();
      vault.server.close();
    }
  });

  it('reports an unreachable Consul as down', async () => {
    const rows: { user_id: string }[] = await app.db.dataSource.query('SELECT user_id FROM team_members LIMIT 1');
    const userId = rows[0]?.user_id ?? '';
    const sut = new ClusterStatusService({
      dataSource: app.db.dataSource, timeoutMs: 1_000,
      probes: clusterProbes(down, { consul: { address: `http://127.0.0.1:${await freePort()}`, token: undefined, caCertPath: undefined }, vault: undefined }),
    });
    const s = await sut.status({ kind: 'session', userId, scopes: ['read'], ip: '127.0.0.1', requestId: 'r' });
    assert.equal(s.consul.status, 'down');
    assert.equal(s.vault.status, 'not_configured');
  });
});
